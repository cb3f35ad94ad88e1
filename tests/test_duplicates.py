"""Duplicates on real photos and their usual copies, indexed with the trained toy CLIP.

Originals are scikit-image's sample photos saved as JPEGs with a camera date; each has a half-size copy,
a quality-60 re-encode, PNG and WebP saves, a 5% crop, a 10% brighter copy, a copy without EXIF and a
byte-for-byte copy. Look-alikes are distinct photos of one kind (three textures, two red circles).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoclip.engine import ClipEngine
from photoclip.library import Library
from photoclip.organize import duplicates_find, duplicates_pass
from photoclip.search import Filters
from photoclip.store.catalog import Catalog
from photoclip.store.settings import Settings
from tests.dupe_photos import Set, exif_bytes, sample, write_set
from tests.engine.test_toy_clip import FIXTURE
from tests.fakes import FakeEmbedder

pytest.importorskip("skimage")
pytestmark = pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")


def open_library(base: Path, engine: ClipEngine | FakeEmbedder, **settings: object) -> Library:
    return Library(base / "lib", Catalog(base / "lib" / "catalog.sqlite3"), engine_factory=lambda: engine,
                   settings=Settings(ocr=False, places=False, auto_tag=False, **settings))


@pytest.fixture(scope="module")
def engine() -> ClipEngine:
    return ClipEngine.load(FIXTURE, device="cpu", threads=1)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, engine: ClipEngine) -> Iterator[tuple[Library, Set, Path]]:
    """A library indexed once: pairs come from the checks made while indexing, never from a full pass."""
    base = tmp_path_factory.mktemp("dupes")
    photos = write_set(base / "pics")
    lib = open_library(base, engine)
    lib.add_folder(base / "pics")
    lib.index()
    yield lib, photos, base
    lib.close()


def group_of(groups: list, path: Path):
    found = [g for g in groups if str(path) in {m.path for m in g.members}]
    assert len(found) <= 1, f"{path.name} is in {len(found)} groups"
    return found[0] if found else None


def check_groups(groups: list, photos: Set) -> None:
    copies = [g for g in groups if g.kind in ("identical", "same")]
    for name, original in photos.originals.items():
        group = group_of(copies, original)
        assert group is not None, f"{name} has no group"
        paths = {m.path for m in group.members}
        missing = [v for v, p in photos.variants[name].items() if str(p) not in paths]
        assert not missing, f"{name}: {missing} not in its group"
        assert group.kind == "same"
        assert group.keep.path == str(original), f"{name}: kept {group.keep.path} ({group.keep.reason})"
    distinct = [*photos.originals.values(), *photos.lookalikes]
    for a, b in itertools.combinations(distinct, 2):
        ga = group_of(copies, a)
        assert ga is None or str(b) not in {m.path for m in ga.members}, f"{a.name} and {b.name} grouped"


def test_every_variant_joins_its_original_as_it_is_indexed(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, _ = indexed
    assert lib.catalog.get_meta("duplicates_pass") is None  # only the per-photo checks have run
    check_groups(lib.duplicate_groups(), photos)


def test_full_pass_finds_the_same_groups(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, _ = indexed
    before = {frozenset(m.path for m in g.members) for g in lib.duplicate_groups()}
    lib.update_duplicates(full=True)
    groups = lib.duplicate_groups()
    check_groups(groups, photos)
    assert {frozenset(m.path for m in g.members) for g in groups} == before


def test_byte_copy_is_confirmed_identical(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, _ = indexed
    original = lib.catalog.photo_by_path(str(photos.originals["coffee"]))
    copy = lib.catalog.photo_by_path(str(photos.variants["coffee"]["copy"]))
    kind = lib.catalog.read().execute("SELECT kind FROM duplicate_pairs WHERE a=? AND b=?",
                                      (min(original.id, copy.id), max(original.id, copy.id))).fetchone()
    assert kind == ("identical",)
    assert [g.kind for g in lib.duplicate_groups(kind="identical")] == []  # the copy sits in its "same" group


def test_keeper_reasons_name_what_decided(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, _ = indexed
    group = group_of(lib.duplicate_groups(kind="same"), photos.originals["astronaut"])
    reasons = {Path(m.path).relative_to(photos.originals["astronaut"].parents[1]).as_posix(): m.reason
               for m in group.members}
    assert reasons["photos/astronaut.jpg"] == "keep: the older file"  # its byte copy ties on everything else
    assert reasons["copies/again/astronaut.jpg"] == "same bytes as the keeper"
    assert "fewer pixels (512×512 px)" in reasons["copies/astronaut_small.jpg"]
    assert "derived format (PNG)" in reasons["copies/astronaut.png"]
    assert "less metadata (no date, camera)" in reasons["copies/astronaut_noexif.jpg"]


def test_chosen_keeper_wins_and_is_kept_in_output(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, _ = indexed
    png = lib.catalog.photo_by_path(str(photos.variants["rocket"]["png"]))
    lib.choose_keeper(png.id)
    try:
        group = group_of(lib.duplicate_groups(), photos.originals["rocket"])
        assert group.keep.id == png.id and group.keep.reason == "keep: chosen by you"
    finally:
        with lib.catalog.write() as c:
            c.execute("DELETE FROM duplicate_keepers")
        lib.refresh_duplicates()


def test_a_new_copy_is_found_when_indexed(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, base = indexed
    late = base / "pics" / "copies" / "chelsea_late.jpg"
    Image.open(photos.originals["chelsea"]).resize((300, 300)).save(late, quality=70)  # squashed
    fresh = base / "pics" / "copies" / "chelsea_again.webp"
    Image.open(photos.originals["chelsea"]).save(fresh, quality=70)
    lib.index()
    group = group_of(lib.duplicate_groups(), photos.originals["chelsea"])
    paths = {m.path for m in group.members}
    assert str(fresh) in paths
    assert str(late) not in paths  # squashed to another shape: not the same picture


def test_same_head_and_tail_is_not_identical(tmp_path: Path, engine: ClipEngine) -> None:
    """The catalog hash reads only the ends of a file: a change in the middle must not pass as identical."""
    pixels = np.asarray(sample("astronaut").resize((600, 600)))
    (tmp_path / "pics").mkdir()
    Image.fromarray(pixels).save(tmp_path / "pics" / "a.bmp")
    edited = pixels.copy()
    edited[280:320, 280:320] = 255
    Image.fromarray(edited).save(tmp_path / "pics" / "b.bmp")
    lib = open_library(tmp_path, engine)
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        a, b = (lib.catalog.photo_by_path(str(tmp_path / "pics" / n)) for n in ("a.bmp", "b.bmp"))
        assert a.content_hash == b.content_hash  # the shortcut cannot tell them apart
        kinds = [g.kind for g in lib.duplicate_groups()]
        assert "identical" not in kinds
        assert kinds == ["same"]  # a small edit of one picture
    finally:
        lib.close()


def burst(folder: Path, when: list[str]) -> list[Path]:
    """Frames of one scene as the camera pans across it, dated by the camera."""
    scene = sample("chelsea")
    out = []
    for k, taken in enumerate(when):
        frame = scene.crop((60 * k, 0, scene.width - 120 + 60 * k, scene.height))
        path = folder / f"frame{k}.jpg"
        frame.save(path, quality=90, exif=exif_bytes(taken))
        out.append(path)
    return out


def test_burst_is_similar_only_when_taken_close_in_time(tmp_path: Path) -> None:
    """The toy model was trained on drawn shapes and scatters panned photos; the mean-colour embedder sees the
    frames as alike, as a real CLIP does, so the test is about the time window and the hash."""
    (tmp_path / "pics").mkdir()
    near = burst(tmp_path / "pics", ["2022:07:01 12:00:00", "2022:07:01 12:00:02"])
    lib = open_library(tmp_path, FakeEmbedder())
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        cos = float(lib.catalog.vector(FakeEmbedder.model_name, 1) @ lib.catalog.vector(FakeEmbedder.model_name, 2))
        assert cos >= duplicates_find.SIMILAR_COSINE
        similar = lib.duplicate_groups(kind="similar")
        assert [sorted(m.path for m in g.members) for g in similar] == [sorted(map(str, near))]
        assert lib.duplicate_groups(kind="same") == []  # distinct frames, not copies
        assert not duplicates_find_hidden(lib), "a similar shot was set aside"
        # The same frames an hour apart are no burst.
        (tmp_path / "later").mkdir()
        far = burst(tmp_path / "later", ["2022:07:01 12:00:00", "2022:07:01 13:00:00"])
        for p in near:
            p.unlink()
        lib.add_folder(tmp_path / "later")
        lib.index()
        assert lib.duplicate_groups(kind="similar") == [], [str(f) for f in far]
    finally:
        lib.close()


def _on_backdrop(path: Path, star: bool) -> Path:
    """An orange star or triangle, small, on one dark gradient backdrop (product photos, slides, drawings)."""
    import math

    from PIL import ImageDraw

    w, h = 900, 600
    image = Image.composite(Image.new("RGB", (w, h), (30, 30, 34)), Image.new("RGB", (w, h), (48, 48, 52)),
                            Image.linear_gradient("L").resize((w, h)))
    draw = ImageDraw.Draw(image)
    cx, cy, size = 300, 380, 160
    if star:
        draw.polygon([(cx + (size / 2 if k % 2 == 0 else size / 5) * math.cos(math.pi / 2 + k * math.pi / 5),
                       cy - (size / 2 if k % 2 == 0 else size / 5) * math.sin(math.pi / 2 + k * math.pi / 5))
                      for k in range(10)], fill=(235, 140, 40))
    else:
        draw.polygon([(cx, cy - size // 2), (cx + size // 2, cy + size // 2), (cx - size // 2, cy + size // 2)],
                     fill=(235, 140, 40))
    image.save(path)
    return path


def test_different_things_on_one_plain_backdrop_are_not_the_same_picture(tmp_path: Path,
                                                                          engine: ClipEngine) -> None:
    """The perceptual hash sees mostly the backdrop, so the two hashes are close: the vectors must agree that
    the pictures are alike, not merely fail to contradict it."""
    from photoclip import imaging
    from photoclip.imaging import phash as ph

    (tmp_path / "pics").mkdir()
    star, triangle = _on_backdrop(tmp_path / "pics" / "star.png", True), _on_backdrop(tmp_path / "pics" / "tri.png",
                                                                                       False)
    a, b = (ph.phash(imaging.load_image(p)[0]) for p in (star, triangle))
    assert a is not None and b is not None
    assert bin((a ^ b) & ((1 << 64) - 1)).count("1") <= duplicates_find.SURE_BITS  # what makes the case hard
    lib = open_library(tmp_path, engine)
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        assert lib.duplicate_groups() == []
    finally:
        lib.close()


def duplicates_find_hidden(lib: Library) -> set[int]:
    return {r[0] for r in lib.catalog.read().execute("SELECT photo_id FROM duplicate_hidden")}


def test_photos_catalogued_without_hashes_get_them(tmp_path: Path, engine: ClipEngine) -> None:
    photos = write_set(tmp_path / "pics")
    lib = open_library(tmp_path, engine)
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        with lib.catalog.write() as c:  # as a library indexed before hashes were kept
            c.execute("DELETE FROM photo_hashes")
            c.execute("DELETE FROM duplicate_pairs")
        assert lib.duplicate_groups() == []
        seen = []
        skipped = lib.update_duplicates(progress=seen.append)
        assert skipped == []
        hash_steps = [p for p in seen if p.phase == "hash"]
        assert hash_steps and hash_steps[-1].done == hash_steps[-1].total == len(photos.all_paths())
        check_groups(lib.duplicate_groups(), photos)
    finally:
        lib.close()


def test_hide_copies_setting_hides_all_but_keepers(indexed: tuple[Library, Set, Path]) -> None:
    lib, photos, base = indexed
    original = lib.catalog.photo_by_path(str(photos.originals["astronaut"]))
    png = lib.catalog.photo_by_path(str(photos.variants["astronaut"]["png"]))
    lib.create_album("everything", filters=Filters(folder=str(base / "pics")))  # a smart album
    assert lib.settings.hide_duplicates is False  # off by default
    shown = {h.id for h in lib.similar(original.id, top=200, show_all=True).hits}
    assert png.id in shown
    lib.settings.hide_duplicates = True
    try:
        shown = {h.id for h in lib.similar(original.id, top=200, show_all=True).hits}
        assert png.id not in shown
        words = {h.id for h in lib.search("astronaut", top=200, show_all=True).hits}
        assert png.id not in words and original.id in words
        assert png.id not in {p.id for p in lib.album_members("everything")}
        browsed = {i.id for i in lib.browse(Filters(album="everything"))}
        assert png.id not in browsed and original.id in browsed
        lib.settings.hide_duplicates = False
        assert png.id in {p.id for p in lib.album_members("everything")}
        assert png.id in {i.id for i in lib.browse(Filters(album="everything"))}
    finally:
        lib.settings.hide_duplicates = False


def test_trash_and_undo_are_followed(tmp_path: Path, engine: ClipEngine) -> None:
    photos = write_set(tmp_path / "pics")
    lib = open_library(tmp_path, engine)
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        group = group_of(lib.duplicate_groups(), photos.originals["rocket"])
        others = [m.id for m in group.others]
        outcome = lib.move_to_trash(others)
        lib.refresh_duplicates()
        assert group_of(lib.duplicate_groups(), photos.originals["rocket"]) is None
        assert all(not Path(m.path).exists() for m in group.others)
        lib.restore_from_trash(outcome)
        lib.refresh_duplicates()
        back = group_of(lib.duplicate_groups(), photos.originals["rocket"])
        assert back is not None and {m.id for m in back.members} == {m.id for m in group.members}
    finally:
        lib.close()



def test_confirmation_by_vector(tmp_path: Path) -> None:
    """Close hashes make the same picture only when the vectors agree; nearer hashes need only no veto."""
    from tests.fakes import add_photo, axis_vector, unit

    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        folder = catalog.add_folder(tmp_path)
        base = 0x0F0F_3C3C_5A5A_A5A5
        twelve = base ^ 0xFFF  # 12 bits apart: beyond what the hash decides alone
        four = base ^ 0xF  # 4 bits apart
        red, blue = axis_vector("red"), axis_vector("blue")
        also_red = unit(red + 0.2 * axis_vector("beach"))
        ids = {}
        for name, value, vector in [("a", base, red), ("b", twelve, also_red), ("c", twelve, blue), ("d", four, blue)]:
            ids[name] = add_photo(catalog, folder.id, tmp_path / f"{name}.jpg", vector, content_hash=name)
            with catalog.write() as c:
                duplicates_find.store_hashes(c, [(ids[name], name, duplicates_find.ph.to_signed(value))])
        found = {(p.a, p.b): p.kind for p in duplicates_find.check_photos(catalog, [ids["a"]], FakeEmbedder.model_name)}
        assert found == {(ids["a"], ids["b"]): "same"}  # c: hash close, vectors apart; d: vectors opposed
        no_model = {(p.a, p.b) for p in duplicates_find.check_photos(catalog, [ids["a"]], None)}
        assert no_model == {(ids["a"], ids["d"])}  # without vectors only near-equal hashes count
    finally:
        catalog.close()


def test_cli_lists_groups_as_json_and_changes_nothing(indexed: tuple[Library, Set, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from photoclip.cli import main

    _, photos, base = indexed
    before = {p: p.stat().st_mtime_ns for p in photos.all_paths()}
    assert main(["--library", str(base / "lib"), "duplicates", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert groups and all(set(g) == {"kind", "keep", "photos"} for g in groups)
    assert all(set(p) == {"path", "reason"} for g in groups for p in g["photos"])
    assert all(g["keep"] == g["photos"][0]["path"] for g in groups)
    keeps = {g["keep"] for g in groups if g["kind"] == "same"}
    assert {str(p) for p in photos.originals.values()} <= keeps
    assert {p: p.stat().st_mtime_ns for p in photos.all_paths() if p.exists()} == before  # nothing moved
    assert main(["--library", str(base / "lib"), "duplicates", "--json", "--kind", "identical"]) == 0
    assert all(g["kind"] == "identical" for g in json.loads(capsys.readouterr().out))
    assert main(["--library", str(base / "lib"), "duplicates", "--json", "--folder", str(base / "pics" / "other")]) == 0
    assert json.loads(capsys.readouterr().out) == []  # the look-alikes have no copies
    assert main(["--library", str(base / "lib"), "duplicates"]) == 0
    text = capsys.readouterr().out
    assert "same picture" in text and f"keep  {photos.originals['rocket']}" in text


def test_plain_images_are_hashed_once_and_never_the_same_picture(tmp_path: Path) -> None:
    """Solid colours would all share one hash: they get none, so they are neither grouped nor re-hashed."""
    (tmp_path / "pics").mkdir()
    for i in range(40):
        Image.new("RGB", (32, 24), (i * 6, 100, 200 - i * 4)).save(tmp_path / "pics" / f"plain{i}.png")
    lib = open_library(tmp_path, FakeEmbedder())
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        rows = lib.catalog.read().execute("SELECT COUNT(*), COUNT(phash) FROM photo_hashes").fetchone()
        assert rows == (40, 0)
        assert lib.duplicate_groups(kind="same") == []
        assert duplicates_find.unhashed_ids(lib.catalog) == []
    finally:
        lib.close()


def test_a_cluster_of_equal_hashes_is_bounded() -> None:
    rng = np.random.default_rng(0)
    hashes = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=3000, dtype=np.int64)
    hashes[:400] = 12345  # e.g. many night shots that hash alike
    pairs = duplicates_pass.hash_candidates(np.arange(3000), hashes)
    counts = np.bincount(pairs.ravel(), minlength=3000)
    assert counts[:400].min() >= duplicates_find.MAX_SAME  # each still meets its nearest
    inside = pairs[(pairs < 400).all(axis=1)]
    assert len(inside) <= 400 * duplicates_find.MAX_SAME  # not the 79,800 pairs of the whole cluster


def test_new_content_drops_the_old_hash_and_pairs(tmp_path: Path, engine: ClipEngine) -> None:
    (tmp_path / "pics").mkdir()
    original, copy = tmp_path / "pics" / "a.jpg", tmp_path / "pics" / "b.png"
    sample("astronaut").save(original, quality=92)
    Image.open(original).save(copy)
    lib = open_library(tmp_path, engine)
    try:
        lib.add_folder(tmp_path / "pics")
        lib.index()
        assert [g.kind for g in lib.duplicate_groups()] == ["same"]
        sample("coffee").save(copy)  # the file now holds another picture
        lib.index()
        assert lib.duplicate_groups() == []
        photo = lib.catalog.photo_by_path(str(copy))
        row = lib.catalog.read().execute("SELECT content_hash FROM photo_hashes WHERE photo_id=?",
                                         (photo.id,)).fetchone()
        assert row == (photo.content_hash,)
    finally:
        lib.close()
