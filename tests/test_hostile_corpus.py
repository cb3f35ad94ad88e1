"""Every hostile case through the whole library: scan, embed, status, search, export (twice), rescan.

Nothing may stop the library: no case raises, every photo that can be read is catalogued under its
exact name, what cannot be read is listed by status, and a second export of everything ends.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from photoclip.library import Library
from photoclip.store.catalog import Catalog
from tests.corpus import HOSTILE_CASES, make_hostile_case
from tests.fakes import FakeEmbedder


def photo_files(root: Path) -> set[str]:
    """Supported files on disk that are readable regular files (what the catalog must end up holding)."""
    from photoclip.ingest.scanner import walk_folder

    return {f.path for f in walk_folder(str(root)).files}


@pytest.mark.parametrize("case", list(HOSTILE_CASES))
def test_a_hostile_case_never_stops_the_library(tmp_path: Path, case: str) -> None:
    photos = tmp_path / "photos"
    try:
        not_read = make_hostile_case(photos, case)
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"this file system refuses the case: {exc}")
    lib = Library(tmp_path / "lib", Catalog(tmp_path / "lib" / "catalog.sqlite3"), engine_factory=FakeEmbedder)
    lib.settings.auto_tag = lib.settings.ocr = lib.settings.places = False
    try:
        lib.add_folder(photos)
        outcome: list[object] = []

        def index() -> None:
            try:
                outcome.append(lib.index())
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=index, daemon=True)
        worker.start()
        worker.join(120)
        assert not worker.is_alive(), "indexing never ended"
        assert not isinstance(outcome[0], BaseException), outcome[0]

        on_disk = photo_files(photos)
        st = lib.status()
        catalogued = {p.path for p in lib.catalog.photos_with_state("ok", "pending", "error")}
        assert catalogued == on_disk
        assert all(os.path.lexists(p) for p in catalogued)  # exact names, not look-alikes
        assert {os.path.basename(p) for p, _ in st.skipped} == not_read
        assert st.catalog_problems in ([], None)

        lib.search("anything", top=50, show_all=True)
        ok_ids = [p.id for p in lib.catalog.photos_with_state("ok")]
        if ok_ids:
            lib.create_album("all")
            lib.add_to_album("all", ok_ids)
            done = threading.Event()

            def export_twice() -> None:
                lib.export_album("all", tmp_path / "out")
                lib.export_album("all", tmp_path / "out")
                done.set()

            threading.Thread(target=export_twice, daemon=True).start()
            assert done.wait(60), "exporting twice never ended"
            assert len(list((tmp_path / "out").rglob("*"))) >= 2 * len(ok_ids)
        again = lib.index()
        assert again.scan.added == again.scan.missing == again.scan.moved == 0
    finally:
        for p in photos.rglob("*"):
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shut = photos / "shut"
        if shut.exists():
            shut.chmod(0o755)
        lib.close()
