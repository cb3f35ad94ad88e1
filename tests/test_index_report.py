"""`index --json` counts each photo once and times the whole run; `models import --help` says where
models go and that they do not belong to a library."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from photoclip.cli import main
from photoclip.enrich.stage import EnrichReport
from photoclip.ingest.scanner import ScanReport
from photoclip.library import IndexRun, Library

WORDS_SECONDS = 0.3


def test_index_json_counts_screened_photos_once_and_times_the_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def index(self: Library, **_: object) -> IndexRun:
        time.sleep(WORDS_SECONDS)  # the words stage, which runs after the scan and the embedding
        # 4 photos read for words: 1 with text, 3 without, 2 of those 3 screened out by the quick detector.
        return IndexRun(ScanReport(seconds=0.01), None, None,
                        enrich=EnrichReport(ocr_text=1, ocr_no_text=3, gated=2, seconds=WORDS_SECONDS))

    monkeypatch.setattr(Library, "index", index)
    folder = tmp_path / "photos"
    folder.mkdir()
    assert main(["--library", str(tmp_path / "lib"), "index", "--json", str(folder)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["words"]["with_text"] + result["words"]["without_text"] == 4
    assert result["words"]["screened_out"] == 2
    assert result["seconds"] >= WORDS_SECONDS


def test_models_import_help_says_models_are_per_user(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["models", "import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "per user" in text and "--library does not apply" in text
    # argparse wraps long lines at hyphens too, so the folder is compared with the spacing taken out.
    assert os.environ["PHOTOCLIP_MODELS"] in "".join(text.split())


def test_index_names_the_images_it_could_not_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_raw import jpeg_bytes

    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "IMG_4.JPG_original").write_bytes(jpeg_bytes((16, 16), (1, 2, 3)))
    assert main(["--library", str(tmp_path / "lib"), "index", "--no-embed", "--json", str(folder)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [Path(s["path"]).name for s in result["not_catalogued"]] == ["IMG_4.JPG_original"]
