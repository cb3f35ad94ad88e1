"""Auto-tagging with hand-made vectors: background rejection, thresholds, top-K, manual decisions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from photoclip.errors import NotFoundError
from photoclip.jobs import Cancelled, CancelToken, Progress
from photoclip.organize import tag_model, tagging, vocabulary
from photoclip.search import calibration
from photoclip.store.catalog import Catalog
from tests.fakes import DIM, FakeEmbedder, add_photo, unit


def axis(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


NEUTRAL = unit([1, 1, 1, 0, 0, 0, 0, 0])
# Each tag's prompts point (mostly) along one axis; the background sits on the colour axes 0-2.
TEXTS = {
    "a photo.": NEUTRAL,
    "an image.": unit([1, 0.6, 0.8, 0, 0, 0, 0, 0]),
    "sandy beach": axis(3),
    "beach by the sea": unit(axis(3) + 0.2 * axis(5)),
    "sunset sky": axis(4),
    "snowy day": axis(6),
    "a dog": axis(7),
}
VOCAB = {
    "version": 1, "default_threshold": 0.8, "top_k": 5, "logit_scale": 100.0,
    "background": ["a photo.", "an image."],
    "tags": [
        {"name": "beach", "prompts": ["sandy beach", "beach by the sea"]},
        {"name": "sunset", "prompts": ["sunset sky"]},
        {"name": "snow", "prompts": ["snowy day"]},
        {"name": "dog", "prompts": ["a dog"]},
    ],
}


@pytest.fixture()
def vocab_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "resources"
    folder.mkdir()
    (folder / "tags.json").write_text(json.dumps(VOCAB), encoding="utf-8")
    monkeypatch.setattr(vocabulary, "resources_dir", lambda: folder)
    return folder


@pytest.fixture()
def catalog(tmp_path: Path, vocab_dir: Path) -> Catalog:
    cat = Catalog(tmp_path / "lib" / "catalog.sqlite3")
    yield cat
    cat.close()


@pytest.fixture()
def folder_id(catalog: Catalog, tmp_path: Path) -> int:
    photos = tmp_path / "photos"
    photos.mkdir()
    return catalog.add_folder(photos).id


# The calibration's neutral and made-up captions sit on the neutral background, like "a photo.".
CALIBRATION = {t: NEUTRAL for t in calibration.calibration_texts()}


@pytest.fixture()
def embedder() -> FakeEmbedder:
    return FakeEmbedder({**CALIBRATION, **TEXTS})


def mix(neutral: float, **parts: float) -> np.ndarray:
    """A photo vector: some of the neutral background plus named concept axes."""
    idx = {"beach": 3, "sunset": 4, "people": 5, "snow": 6, "dog": 7}
    v = neutral * NEUTRAL
    for name, weight in parts.items():
        v = v + weight * axis(idx[name])
    return unit(v)


def names(catalog: Catalog, photo_id: int, **kw: bool) -> set[str]:
    return {t.name for t in tagging.photo_tags(catalog, photo_id, **kw)}


def expected_score(embedder: FakeEmbedder, photo: np.ndarray, prompts: list[str]) -> float:
    """The documented formula, computed independently from the module: the tag's margin over the best
    reference caption on the photo, through the model's constants (the fake model gets the defaults)."""
    t = unit(np.mean([unit(TEXTS[p]) for p in prompts], axis=0))
    reference = embedder.embed_texts(calibration.reference_prompts())
    margin = float(t @ photo) - float((reference @ photo).max())
    c = calibration.Constants()
    return float(1.0 / (1.0 + np.exp(-(margin - c.offset) / c.scale)))


def test_shipped_vocabulary_is_valid_and_large() -> None:
    vocab = vocabulary.load_vocabulary(Path(__file__).resolve().parent.parent / "resources" / "tags.json")
    assert len(vocab.tags) >= 200
    lowered = [name.casefold() for name, _ in vocab.tags]
    assert len(set(lowered)) == len(lowered)
    assert all(prompts and all(p.strip() for p in prompts) for _, prompts in vocab.tags)
    assert {"receipt", "screenshot", "beach", "dog", "snow", "birthday party"} <= set(lowered)
    assert len(vocab.background) >= 3 and 0 < vocab.default_threshold < 1


def test_seeding_happens_once_and_keeps_user_removals(catalog: Catalog) -> None:
    infos = tagging.list_tags(catalog)
    assert [t.name for t in infos] == ["beach", "dog", "snow", "sunset"]
    assert all(t.builtin and t.enabled and t.threshold == 0.8 for t in infos)
    tagging.remove_tag(catalog, "dog")
    assert vocabulary.ensure_vocabulary(catalog) == 0
    assert "dog" not in {t.name for t in tagging.list_tags(catalog)}


def test_background_rejects_photos_that_match_no_tag(catalog: Catalog, folder_id: int,
                                                     embedder: FakeEmbedder) -> None:
    plain = add_photo(catalog, folder_id, "/p/plain.jpg", mix(1.0, beach=0.3))
    beachy = add_photo(catalog, folder_id, "/p/beach.jpg", mix(0.3, beach=1.0))
    # The plain photo's cosine with "beach" is clearly positive, but the neutral captions fit it better.
    beach_vec = unit(np.mean([TEXTS["sandy beach"], unit(TEXTS["beach by the sea"])], axis=0))
    assert float(beach_vec @ mix(1.0, beach=0.3)) > 0.2
    applied = tagging.tag_photos(catalog, embedder, [plain, beachy])
    assert applied == 1
    assert names(catalog, plain) == set()
    assert names(catalog, beachy) == {"beach"}
    score = tagging.photo_tags(catalog, beachy)[0].score
    assert score == pytest.approx(expected_score(embedder, mix(0.3, beach=1.0),
                                                 ["sandy beach", "beach by the sea"]), abs=1e-4)


def test_threshold_change_applies_on_retag_without_reembedding(catalog: Catalog, folder_id: int,
                                                                 embedder: FakeEmbedder) -> None:
    strong = add_photo(catalog, folder_id, "/p/strong.jpg", mix(1.0, snow=1.1))
    weak = add_photo(catalog, folder_id, "/p/weak.jpg", mix(1.0, snow=1.04))
    s_strong = expected_score(embedder, mix(1.0, snow=1.1), ["snowy day"])
    s_weak = expected_score(embedder, mix(1.0, snow=1.04), ["snowy day"])
    assert s_weak < 0.8 < s_strong  # the geometry puts the default threshold between them
    tagging.tag_photos(catalog, embedder, [strong, weak])
    assert names(catalog, strong) == {"snow"} and names(catalog, weak) == set()

    tagging.set_threshold(catalog, "snow", round(s_weak - 0.05, 3))
    assert tagging.needs_retag(catalog, embedder)
    text_calls = embedder.text_calls
    tagging.retag_all(catalog, embedder)
    assert names(catalog, weak) == {"snow"}
    assert embedder.image_calls == 0
    assert embedder.text_calls == text_calls  # prompt vectors came from the catalog's cache
    assert not tagging.needs_retag(catalog, embedder)
    # A different limit on tags per photo changes what re-tagging would write, too.
    assert tagging.needs_retag(catalog, embedder, top_k=1)
    tagging.retag_all(catalog, embedder, top_k=1)
    assert not tagging.needs_retag(catalog, embedder, top_k=1)

    tagging.set_threshold(catalog, "snow", None)
    tagging.retag_all(catalog, embedder)
    assert names(catalog, weak) == set()
    assert tagging.list_tags(catalog)[2].threshold == 0.8


def test_prompt_vectors_are_cached_per_model(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    pid = add_photo(catalog, folder_id, "/p/a.jpg", mix(0.2, dog=1.0))
    tagging.tag_photos(catalog, embedder, [pid])
    first = embedder.text_calls
    assert first == len({*TEXTS, *CALIBRATION})  # every prompt and calibration caption once
    fresh = FakeEmbedder({**CALIBRATION, **TEXTS})  # a new process: the cache lives in the catalog
    tagging.tag_photos(catalog, fresh, [pid])
    assert fresh.text_calls == 0
    tagging.set_prompts(catalog, "dog", ["a dog", "sandy beach", "a puppy"])
    tagging.tag_photos(catalog, fresh, [pid])
    assert fresh.text_calls == 1  # only the new prompt


def test_top_k_keeps_the_best_tags(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    pid = add_photo(catalog, folder_id, "/p/multi.jpg", mix(0.1, beach=0.8, sunset=0.6, snow=0.4))
    assert tagging.tag_photos(catalog, embedder, [pid]) == 3
    assert tagging.tag_photos(catalog, embedder, [pid], top_k=2) == 2
    assert names(catalog, pid) == {"beach", "sunset"}
    scores = [t.score for t in tagging.photo_tags(catalog, pid)]
    assert scores == sorted(scores, reverse=True)


def test_manual_decisions_survive_retagging(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    pid = add_photo(catalog, folder_id, "/p/multi.jpg", mix(0.1, beach=0.8, sunset=0.6, snow=0.4))
    tagging.tag_photos(catalog, embedder, [pid], top_k=2)
    tagging.reject_tag(catalog, pid, "beach")
    tagging.accept_tag(catalog, pid, "dog")  # below threshold, but a person said so
    tagging.retag_all(catalog, embedder, top_k=2)
    tags = {t.name: t for t in tagging.photo_tags(catalog, pid)}
    assert tags["beach"].rejected and tags["beach"].source == "manual"
    assert tags["dog"].source == "manual" and not tags["dog"].rejected
    # The rejected tag's slot goes to the next best auto tag.
    assert names(catalog, pid, include_rejected=False) == {"dog", "sunset", "snow"}
    assert {n for n, t in tags.items() if t.source == "auto"} == {"sunset", "snow"}

    tagging.forget_decision(catalog, pid, "beach")
    tagging.retag_all(catalog, embedder, top_k=2)
    assert "beach" in names(catalog, pid, include_rejected=False)


def test_accepting_an_unknown_name_creates_a_user_tag(catalog: Catalog, folder_id: int) -> None:
    pid = add_photo(catalog, folder_id, "/p/x.jpg", mix(1.0))
    tagging.accept_tag(catalog, pid, "Grandma's   garden")
    info = {t.name: t for t in tagging.list_tags(catalog)}["Grandma's garden"]
    assert not info.builtin and info.count == 1 and info.prompts == ["a photo of Grandma's garden."]
    with pytest.raises(NotFoundError):
        tagging.accept_tag(catalog, 9999, "beach")


def test_add_remove_disable_and_counts(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    a = add_photo(catalog, folder_id, "/p/a.jpg", mix(0.2, sunset=1.0))
    b = add_photo(catalog, folder_id, "/p/b.jpg", mix(0.2, sunset=1.0, people=0.3))
    tagging.add_tag(catalog, "evening", prompts=["sunset sky"], threshold=0.5)
    with pytest.raises(vocabulary.VocabularyError):
        tagging.add_tag(catalog, "EVENING")
    with pytest.raises(vocabulary.VocabularyError):
        tagging.add_tag(catalog, "late", threshold=1.5)
    tagging.tag_photos(catalog, embedder, [a, b])
    assert tagging.tag_counts(catalog) == {"sunset": 2, "evening": 2}
    with catalog.write() as c:  # a photo that left the disk stops counting
        c.execute("UPDATE photos SET state='missing' WHERE id=?", (b,))
    assert tagging.tag_counts(catalog)["sunset"] == 1
    tagging.set_enabled(catalog, "sunset", False)
    assert "sunset" not in names(catalog, a)
    tagging.retag_all(catalog, embedder)
    assert names(catalog, a) == {"evening"}
    tagging.remove_tag(catalog, "evening")
    assert names(catalog, a) == set()
    with pytest.raises(NotFoundError):
        tagging.remove_tag(catalog, "evening")


def test_review_queue_puts_least_certain_first(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    sure = add_photo(catalog, folder_id, "/p/sure.jpg", mix(1.0, snow=1.5))
    unsure = add_photo(catalog, folder_id, "/p/unsure.jpg", mix(1.0, snow=1.1))
    dog = add_photo(catalog, folder_id, "/p/dog.jpg", mix(0.2, dog=1.0))
    tagging.tag_photos(catalog, embedder, [sure, unsure, dog])
    queue = tagging.review_queue(catalog)
    assert [item.photo_id for item in queue][:2] == [unsure, sure]
    assert [(i.photo_id, i.name) for i in tagging.review_queue(catalog, tag="dog")] == [(dog, "dog")]
    tagging.reject_tag(catalog, unsure, "snow")
    assert unsure not in [i.photo_id for i in tagging.review_queue(catalog)]


def test_photos_without_vectors_are_skipped(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    pending = add_photo(catalog, folder_id, "/p/pending.jpg", None, state="pending")
    assert tagging.tag_photos(catalog, embedder, [pending]) == 0
    assert tagging.tag_photos(catalog, embedder, []) == 0


def test_retag_all_reports_progress_and_stops_on_cancel(catalog: Catalog, folder_id: int,
                                                        embedder: FakeEmbedder) -> None:
    for i in range(3):
        add_photo(catalog, folder_id, f"/p/{i}.jpg", mix(0.2, dog=1.0))
    seen: list[Progress] = []
    assert tagging.retag_all(catalog, embedder, progress=seen.append) == 3
    assert seen[-1].done == seen[-1].total == 3 and seen[-1].phase == "tagging"
    token = CancelToken()
    token.cancel()
    tagging.set_threshold(catalog, "dog", 0.5)
    with pytest.raises(Cancelled):
        tagging.retag_all(catalog, embedder, cancel=token)
    assert tagging.needs_retag(catalog, embedder)


def test_invalid_vocabulary_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "tags.json"
    bad.write_text('{"tags": [{"name": "x"}]}', encoding="utf-8")
    with pytest.raises(vocabulary.VocabularyError, match="not valid"):
        vocabulary.load_vocabulary(bad)
    with pytest.raises(vocabulary.VocabularyError, match="cannot be read"):
        vocabulary.load_vocabulary(tmp_path / "absent.json")


def test_a_tag_the_model_cannot_tell_from_nonsense_is_unavailable_and_never_applied(
        catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    # A word the model never learnt embeds like the made-up captions.
    embedder.texts["a photo of christmas."] = NEUTRAL
    tagging.add_tag(catalog, "christmas", prompts=["a photo of christmas."], threshold=0.01)
    pid = add_photo(catalog, folder_id, "/p/dog.jpg", mix(0.2, dog=1.0))
    tagging.tag_photos(catalog, embedder, [pid])
    assert names(catalog, pid) == {"dog"}
    infos = {t.name: t for t in tagging.list_tags(catalog, embedder)}
    assert infos["christmas"].available is False and infos["dog"].available is True
    assert all(t.available is None for t in tagging.list_tags(catalog))  # no model: unknown


def test_rivals_the_closer_tag_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder_id: int,
                                    catalog: Catalog) -> None:
    vocab = dict(VOCAB, tags=[*VOCAB["tags"], {"name": "wolf", "prompts": ["a wolf"]}], rivals=[["dog", "wolf"]])
    (tmp_path / "resources" / "tags.json").write_text(json.dumps(vocab), encoding="utf-8")
    texts = {**CALIBRATION, **TEXTS, "a wolf": unit(axis(7) + 0.6 * axis(5))}
    fake = FakeEmbedder(texts)
    doggy = add_photo(catalog, folder_id, "/p/dog.jpg", mix(0.2, dog=1.0))
    wolfish = add_photo(catalog, folder_id, "/p/wolf.jpg", mix(0.2, dog=1.0, people=0.6))
    tagging.retag_all(catalog, fake)
    # Both photos pass both thresholds; each gets only the rival it is closer to.
    scores = tag_model.score_vectors(tag_model.build(catalog, fake), np.stack([mix(0.2, dog=1.0)]))
    assert (scores > 0.8).sum() >= 2
    assert names(catalog, doggy) == {"dog"}
    assert names(catalog, wolfish) == {"wolf"}


def test_decisions_move_the_tags_threshold_and_a_preview_counts_the_change(
        catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    levels = [1.02, 1.04, 1.06, 1.1, 1.3]
    ids = [add_photo(catalog, folder_id, f"/p/s{i}.jpg", mix(1.0, snow=x)) for i, x in enumerate(levels)]
    scores = [expected_score(embedder, mix(1.0, snow=x), ["snowy day"]) for x in levels]
    assert scores == sorted(scores) and scores[2] < 0.8 < scores[3]
    tagging.retag_all(catalog, embedder)
    assert [i for i in ids if "snow" in names(catalog, i)] == ids[3:]
    # What lowering the threshold would do, before doing it.
    added, removed = tagging.threshold_change(catalog, embedder, "snow", (scores[0] + scores[1]) / 2)
    assert (added, removed) == (2, 0)
    assert tagging.threshold_change(catalog, embedder, "snow", 0.99) == (0, sum(x < 0.99 for x in scores[3:]))
    # A person accepts snow on the photo at 1.04 and rejects it on the one at 1.02: the threshold
    # for this library moves between them, and the next pass tags the 1.06 photo too.
    tagging.accept_tag(catalog, ids[1], "snow")
    tagging.reject_tag(catalog, ids[0], "snow")
    info = {t.name: t for t in tagging.list_tags(catalog, embedder)}["snow"]
    assert info.learned and scores[0] < info.threshold <= scores[1] + 1e-4
    tagging.retag_all(catalog, embedder)
    assert "snow" in names(catalog, ids[2], include_rejected=False)
    assert tag_model.learn_threshold([], [], 0.8) == 0.8
    assert tag_model.learn_threshold([0.9], [0.95], 0.8) == 0.8  # contradictory: one error either way


def test_photo_tags_say_where_each_tag_came_from(catalog: Catalog, folder_id: int, embedder: FakeEmbedder) -> None:
    pid = add_photo(catalog, folder_id, "/p/multi.jpg", mix(0.1, beach=0.8, sunset=0.6))
    tagging.tag_photos(catalog, embedder, [pid])
    tagging.accept_tag(catalog, pid, "beach")
    tagging.accept_tag(catalog, pid, "dog")
    tagging.reject_tag(catalog, pid, "sunset")
    origins = {t.name: t.origin for t in tagging.photo_tags(catalog, pid)}
    assert origins == {"beach": "accepted", "dog": "added", "sunset": "rejected"}
