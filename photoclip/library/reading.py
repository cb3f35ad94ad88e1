"""What the views and commands read: status, one file's facts, browsing, search and duplicate groups."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from photoclip.errors import DecodeError, NotFoundError, PhotoClipError
from photoclip.library.core import LibraryCore
from photoclip.library.records import BrowseColumns, BrowseItem, FileInfo, FolderInfo, Status
from photoclip.store.catalog import Photo

if TYPE_CHECKING:
    from photoclip.enrich.ocr import OcrLine
    from photoclip.enrich.places import Place
    from photoclip.organize.duplicates import Group
    from photoclip.search import Filters, SearchResult


class Reading(LibraryCore):
    """Reads only: never changes the catalog."""

    # -- reading -----------------------------------------------------------------------------

    def status(self) -> Status:
        from photoclip.ingest.scanner import recorded_skipped

        counts = self.catalog.counts()
        return Status(
            library=str(self.directory),
            photos=counts["photos"],
            ok=counts["ok"],
            pending=counts["pending"],
            errors=counts["error"],
            missing=counts["missing"],
            offline=counts["offline"],
            embedded=self.catalog.embedded_counts(),
            active_model=self.model_name,
            error_list=self.catalog.errors(),
            folders=self.folders(),
            uncatalogued=self.catalog.uncatalogued(),
            skipped=[(s.path, s.reason) for f in self.catalog.folders()
                     for s in recorded_skipped(self.catalog, f.id)],
            catalog_problems=self.catalog_problems,
            search_model=self.search_model_name(),
        )

    def folders(self) -> list[FolderInfo]:
        """Each watched folder with its photos counted by state."""
        counts = self.catalog.folder_counts()
        return [FolderInfo(f, counts.get(f.id, {})) for f in self.catalog.folders()]

    def photo(self, photo_id: int) -> Photo:
        return self.catalog.photo(photo_id)

    def file_info(self, path: str | os.PathLike[str]) -> FileInfo:
        """Read one file as the indexer would; a file that cannot be read gives an info with ``error``."""
        from photoclip import imaging
        from photoclip.ingest.pipeline import capture_row
        from photoclip.ingest.scanner import content_hash

        p = Path(path).expanduser()
        try:
            st = p.stat()
        except OSError as exc:
            raise NotFoundError(f"{p}: {exc.strerror or exc}") from exc
        if not p.is_file():
            raise NotFoundError(f"{p} is not a file")
        # What the catalog knows of it, on every answer (also when the file cannot be read now).
        known = self.catalog.photo_by_path(str(p.resolve()))
        catalogued = FileInfo(str(p), st.st_size, "")
        if known is not None:
            from photoclip.organize import tagging

            carried = tagging.photo_tags(self.catalog, known.id, include_rejected=False)
            catalogued = replace(catalogued, photo_id=known.id, state=known.state,
                                 tags=tuple(t.name for t in carried), companion=known.companion)
        try:
            digest = content_hash(p, st.st_size)
        except OSError as exc:
            return replace(catalogued, error=f"cannot read: {exc.strerror or exc}")
        try:
            # A full (reduced) decode, as the indexer does: a header can look fine on a truncated file.
            _, meta = imaging.load_image(p, min_side=224)
        except DecodeError as exc:
            return replace(catalogued, content_hash=digest, error=str(exc))
        sidecar = imaging.read_sidecar(p, catalogued.companion)
        dates = capture_row(meta, st.st_mtime, sidecar)
        return replace(catalogued, content_hash=digest, format=meta.format, width=meta.width, height=meta.height,
                       taken_at=dates["taken_at"], taken_at_source=dates["taken_at_source"],
                       camera_make=meta.camera_make, camera_model=meta.camera_model, gps=meta.gps,
                       taken_offset=dates["taken_offset"], rating=dates["rating"],
                       keywords=tuple(dict.fromkeys((*meta.keywords, *sidecar.keywords))))

    # -- search ------------------------------------------------------------------------------

    def browse(self, filters: Filters | None = None, *, newest_first: bool = True) -> list[BrowseItem]:
        """Every live photo passing the filters, by capture date (undated ones last); needs no model."""
        columns = self.browse_columns(filters, newest_first=newest_first)
        return [BrowseItem(*row) for row in zip(columns.ids, columns.paths, columns.hashes, columns.taken,
                                                strict=True)]

    def browse_columns(self, filters: Filters | None = None, *, newest_first: bool = True) -> BrowseColumns:
        """What `browse` returns, as columns, read one row at a time (the app's grid, refreshed while
        indexing, keeps no object per photo)."""
        from photoclip.search.filters import Filters, by_date

        if filters is not None and filters.album:  # an album shows only keepers when copies are hidden
            filters = self._shown(filters)
        out = BrowseColumns()
        ids, paths, hashes, taken = out.ids.append, out.paths.append, out.hashes.append, out.taken.append
        for photo_id, path, content_hash, taken_at in by_date(self.catalog, filters or Filters(),
                                                               newest_first=newest_first):
            ids(photo_id)
            paths(path)
            hashes(content_hash)
            taken(taken_at)
        return out

    def search(self, query: str, *, filters: Filters | None = None, top: int = 50,
               min_score: float | None = None, show_all: bool = False, place: str | None = None,
               like: tuple[int, ...] = (), unlike: tuple[int, ...] = (),
               language: str | None = None) -> SearchResult:
        """Photos ranked by meaning and by words (text inside photos, places, names) together; ``like``
        and ``unlike`` are example photos ("more like this", "not this"). ``language`` (a FLORES-200
        code) overrides the query-language setting for this search; models without one ignore both."""
        return self.hybrid.search(query, filters=self._shown(filters), top=top, min_score=min_score,
                                  show_all=show_all, place=place, like=like, unlike=unlike, language=language)

    @staticmethod
    def query_languages() -> list[tuple[str, str]]:
        """Common query languages to choose from: (FLORES-200 code, readable name)."""
        from photoclip.engine.language import COMMON_LANGUAGES

        return list(COMMON_LANGUAGES)

    def model_takes_language(self) -> bool | None:
        """Whether the model answering searches takes a query language (None: no model installed).
        Asks the loaded model, else reads the installed model's description: no model file is opened."""
        with self._lock:
            loaded = self._previous_engine or self._engine
        if loaded is not None:
            return bool(getattr(loaded, "takes_language", False))
        if self._engine_factory is not None:
            return bool(getattr(self.engine, "takes_language", False))
        if self.models is None:
            return None
        name = self.search_model_name()
        if name is None:
            return None
        try:
            return bool(self.models.get(name).language_prefix)
        except PhotoClipError:
            return None

    def similar(self, target: int | str | os.PathLike[str], *, filters: Filters | None = None, top: int = 50,
                min_score: float | None = None, show_all: bool = False) -> SearchResult:
        return self.searcher.similar(target, filters=self._shown(filters), top=top, min_score=min_score,
                                     show_all=show_all)

    def duplicate_groups(self, kind: str | None = None, folder: str | os.PathLike[str] | None = None) -> list[Group]:
        """Groups of copies (identical, same picture) and of similar shots, each with a suggested keeper."""
        from photoclip.organize import duplicates

        return duplicates.groups(self.catalog, kind, str(folder) if folder is not None else None)


    # -- what the views read ----------------------------------------------------------------------

    def photos(self, photo_ids: list[int]) -> dict[int, Photo]:
        """The catalog rows of these photos, by id (ids no longer catalogued are left out)."""
        return self.catalog.photos(photo_ids)

    def photo_words(self, photo_id: int) -> list[OcrLine]:
        """The lines of text read inside a photo, top to bottom, with their boxes."""
        from photoclip.enrich.stage import photo_lines

        return photo_lines(self.catalog, photo_id)

    def photo_place(self, photo_id: int) -> Place | None:
        from photoclip.enrich.stage import photo_place

        return photo_place(self.catalog, photo_id)

    def place_counts(self) -> list[tuple[str, str, int]]:
        """(country, city, photos) for every place found so far, for browsing by place."""
        from photoclip.enrich.stage import place_counts

        return place_counts(self.catalog)

