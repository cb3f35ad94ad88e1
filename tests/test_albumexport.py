"""Album export: safe unique names, no overwrite, copy/hardlink/symlink modes, XMP sidecars."""

from __future__ import annotations

import errno
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from photoclip.organize import albumexport, albums, tagging, vocabulary
from photoclip.organize.albumexport import ExportError, export_album, safe_filename
from photoclip.organize.xmp import NS, read_keywords, sidecar_xml
from photoclip.store.catalog import Catalog
from tests.fakes import add_photo, axis_vector

RESERVED = ["CON", "con.jpg", "NUL", "nul.txt.jpg", "COM1.jpg", "LPT9", "AUX .jpg", "PRN", "CONOUT$"]


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    yield cat
    cat.close()


@pytest.fixture()
def originals(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder.resolve()


def make_album(catalog: Catalog, originals: Path, files: dict[str, bytes], album: str = "Trip") -> list[int]:
    fid = catalog.add_folder(originals).id
    ids = []
    for rel, data in files.items():
        path = originals / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        ids.append(add_photo(catalog, fid, path, axis_vector("beach")))
    albums.create_album(catalog, album)
    albums.add_to_album(catalog, album, ids)
    return ids


@pytest.mark.parametrize("name", ["../../x", "..", "/etc/passwd", "C:\\Windows\\x.jpg", "a/../../b.jpg",
                                  " trailing. . ", "ctl\x00\x1b\x7fname.jpg", "x" * 400 + ".jpg", "",
                                  "rtl\u202egpj.exe", *RESERVED])
def test_safe_filename_stays_one_harmless_component(name: str) -> None:
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and safe not in (".", "..")
    assert safe == safe.strip(" .") or safe.endswith(".jpg")
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in safe)
    assert len(safe.encode("utf-8")) <= albumexport.MAX_NAME_BYTES
    assert safe.split(".")[0].rstrip().upper() not in albumexport._RESERVED
    assert "\u202e" not in safe
    if name.endswith(".jpg"):
        assert safe.endswith(".jpg")  # the extension survives sanitising and truncation


def test_emoji_and_accents_are_kept() -> None:
    assert safe_filename("🏖️ Plage d'été 👨‍👩‍👧.jpg") == "🏖️ Plage d'été 👨‍👩‍👧.jpg"
    truncated = safe_filename("👨‍👩‍👧" * 40 + ".png", max_bytes=50)
    assert truncated.endswith(".png") and len(truncated.encode()) <= 50
    assert not truncated[:-4].endswith("\u200d")


def test_copy_export_is_unique_case_insensitively_and_never_overwrites(
        catalog: Catalog, originals: Path, tmp_path: Path) -> None:
    files = {"a/IMG.jpg": b"one", "b/img.JPG": b"two", "c/img.jpg": b"three", "d/CON.jpg": b"dev",
             "e/🏖️ beach.jpg": b"emoji"}
    make_album(catalog, originals, files, album="../../Trip: 2024?")
    dest = tmp_path / "out"
    dest.mkdir()
    # Files already in the destination must survive untouched.
    (dest / "_.._Trip_ 2024_").mkdir()
    keep = dest / "_.._Trip_ 2024_" / "img.jpg"
    keep.write_bytes(b"precious")
    report = export_album(catalog, "../../Trip: 2024?", dest)
    folder = Path(report.destination)
    assert folder.parent == dest.resolve() or folder.parent == dest
    assert keep.read_bytes() == b"precious"
    names = sorted(p.name for p in folder.iterdir())
    assert len({n.casefold() for n in names}) == len(names) == 6
    assert "_CON.jpg" in names and "🏖️ beach.jpg" in names
    assert sorted(Path(e.target).read_bytes() for e in report.exported) == sorted(files.values())
    assert all(e.mode == "copy" and not Path(e.target).is_symlink() for e in report.exported)
    for e in report.exported:  # originals are only read
        assert Path(e.source).read_bytes() == files[str(Path(e.source).relative_to(originals))]

    again = export_album(catalog, "../../Trip: 2024?", dest)  # a second run adds, never replaces
    assert len(list(folder.iterdir())) == 11 and not again.skipped
    assert keep.read_bytes() == b"precious"


def test_symlink_and_hardlink_modes(catalog: Catalog, originals: Path, tmp_path: Path) -> None:
    make_album(catalog, originals, {"x.jpg": b"data"})
    sym = export_album(catalog, "Trip", tmp_path / "sym", mode="symlink", subfolder=False)
    link = Path(sym.exported[0].target)
    assert link.is_symlink() and Path(os.readlink(link)) == originals / "x.jpg"
    hard = export_album(catalog, "Trip", tmp_path / "hard", mode="hardlink", subfolder=False)
    target = Path(hard.exported[0].target)
    assert os.path.samefile(target, originals / "x.jpg") and hard.exported[0].mode == "hardlink"
    with pytest.raises(ExportError):
        export_album(catalog, "Trip", tmp_path / "bad", mode="move")


def test_hardlink_across_devices_falls_back_or_explains(catalog: Catalog, originals: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    make_album(catalog, originals, {"x.jpg": b"data"})

    def cross_device(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(albumexport.os, "link", cross_device)
    report = export_album(catalog, "Trip", tmp_path / "a", mode="hardlink")
    assert report.exported[0].mode == "copy" and Path(report.exported[0].target).read_bytes() == b"data"
    assert any("copied" in note for note in report.notes)
    strict = export_album(catalog, "Trip", tmp_path / "b", mode="hardlink", fallback_copy=False)
    assert not strict.exported and "another disk" in strict.skipped[0].reason


def test_missing_original_is_skipped_with_a_reason(catalog: Catalog, originals: Path, tmp_path: Path) -> None:
    make_album(catalog, originals, {"x.jpg": b"data", "y.jpg": b"more"})
    (originals / "y.jpg").unlink()
    report = export_album(catalog, "Trip", tmp_path / "out")
    assert [Path(e.target).name for e in report.exported] == ["x.jpg"]
    assert report.skipped[0].path.endswith("y.jpg") and "missing" in report.skipped[0].reason


def test_xmp_sidecars_carry_tags_and_album(catalog: Catalog, originals: Path, tmp_path: Path) -> None:
    ids = make_album(catalog, originals, {"a.jpg": b"1", "b.jpg": b"2"}, album="Kids & <Dogs>")
    vocabulary.ensure_vocabulary(catalog, vocabulary.Vocabulary((), ("a photo.",)))
    tagging.accept_tag(catalog, ids[0], 'dog "Rex" & co')
    tagging.accept_tag(catalog, ids[0], "bell\x07 ring")
    tagging.reject_tag(catalog, ids[0], "cat")
    report = export_album(catalog, "Kids & <Dogs>", tmp_path / "out", mode="symlink", xmp_sidecars=True)
    by_source = {Path(e.source).name: e for e in report.exported}
    sidecar = Path(by_source["a.jpg"].sidecar or "")
    assert sidecar.name == "a.jpg.xmp" and sidecar.parent == Path(by_source["a.jpg"].target).parent
    assert not (originals / "a.jpg.xmp").exists()
    root = ET.parse(sidecar).getroot()  # well-formed
    bag = root.find(f".//{{{NS['dc']}}}subject/{{{NS['rdf']}}}Bag")
    assert bag is not None
    words = [li.text for li in bag]
    assert sorted(words) == sorted(['dog "Rex" & co', "bell ring", "Kids & <Dogs>"])
    assert read_keywords(Path(by_source["b.jpg"].sidecar or "").read_bytes()) == ["Kids & <Dogs>"]


def test_sidecar_names_never_collide(catalog: Catalog, originals: Path, tmp_path: Path) -> None:
    make_album(catalog, originals, {"a.jpg": b"1"})
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "a.jpg.xmp").write_bytes(b"someone else's sidecar")
    report = export_album(catalog, "Trip", dest, xmp_sidecars=True, subfolder=False)
    assert Path(report.exported[0].target).name == "a (2).jpg"
    assert (dest / "a.jpg.xmp").read_bytes() == b"someone else's sidecar"
    assert Path(report.exported[0].sidecar or "").name == "a (2).jpg.xmp"


def test_sidecar_xml_dedupes_and_parses() -> None:
    data = sidecar_xml(["Beach", "beach", "  sea  ", "\x01"])
    assert read_keywords(data) == ["Beach", "sea"]
    assert data.startswith(b"<?xpacket begin=")


def test_reexport_of_a_long_name_gets_a_numbered_name_and_ends(catalog: Catalog, originals: Path,
                                                                 tmp_path: Path) -> None:
    """A name of 196+ bytes used to lose its `` (n)`` to trimming, so the namer never found a free name."""
    import threading

    name = "x" * 200 + ".jpg"
    make_album(catalog, originals, {name: b"long"})
    dest = tmp_path / "out"
    reports: list = []
    errors: list = []

    def run() -> None:
        try:
            for _ in range(3):
                reports.append(export_album(catalog, "Trip", dest, subfolder=False))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "re-exporting a long name never ended"
    assert not errors
    names = sorted(p.name for p in dest.iterdir())
    assert len(names) == 3 and len(set(names)) == 3
    assert all(len(n.encode()) <= albumexport.MAX_NAME_BYTES for n in names)
    assert sum(" (2)" in n for n in names) == 1 and sum(" (3)" in n for n in names) == 1
