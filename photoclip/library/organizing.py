"""A person's edits: tags, albums, favourites and ratings, the trash, and the snapshots undo puts back."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from photoclip.errors import PhotoClipError
from photoclip.jobs import CancelToken, ProgressSink, null_sink
from photoclip.library.core import LibraryCore
from photoclip.store.catalog import Photo

if TYPE_CHECKING:
    from photoclip.organize.albumexport import ExportReport
    from photoclip.organize.albums import Album, AlbumEntry
    from photoclip.organize.history import AlbumSnapshot, MembersSnapshot, TagSnapshot
    from photoclip.organize.marks import Mark
    from photoclip.organize.tagging import PhotoTag, ReviewItem, TagInfo
    from photoclip.organize.trash import TrashOutcome
    from photoclip.search import Filters



class Organizing(LibraryCore):
    """Every edit notifies the views of what changed; each returns what undo needs."""

    # -- tags --------------------------------------------------------------------------------

    def tags(self) -> list[TagInfo]:
        """Every tag; with a model installed, whether that model knows it (``available``)."""
        from photoclip.organize import tagging

        embedder = None
        if self.has_model:
            try:
                embedder = self.engine
            except PhotoClipError:
                embedder = None
        return tagging.list_tags(self.catalog, embedder)

    def tag_threshold_change(self, name: str, threshold: float | None) -> tuple[int, int]:
        """How many photos (added, removed) a new threshold for a tag would change, before applying it."""
        from photoclip.organize import tagging

        return tagging.threshold_change(self.catalog, self.engine, name, threshold)

    def photo_tags(self, photo_id: int, *, include_rejected: bool = True) -> list[PhotoTag]:
        from photoclip.organize import tagging

        return tagging.photo_tags(self.catalog, photo_id, include_rejected=include_rejected)

    def accept_tag(self, photo_id: int, name: str) -> None:
        from photoclip.organize import tagging

        tagging.accept_tag(self.catalog, photo_id, name)
        self.notify("tags", (photo_id,))

    def reject_tag(self, photo_id: int, name: str) -> None:
        from photoclip.organize import tagging

        tagging.reject_tag(self.catalog, photo_id, name)
        self.notify("tags", (photo_id,))

    def add_tag(self, name: str, prompts: list[str] | None = None, threshold: float | None = None) -> TagInfo:
        from photoclip.organize import tagging

        info = tagging.add_tag(self.catalog, name, prompts=prompts, threshold=threshold)
        self.notify("tags")
        return info

    def remove_tag(self, name: str) -> None:
        from photoclip.organize import tagging

        tagging.remove_tag(self.catalog, name)
        self.notify("tags")

    def set_tag_threshold(self, name: str, threshold: float | None) -> None:
        from photoclip.organize import tagging

        tagging.set_threshold(self.catalog, name, threshold)
        self.notify("tags")

    def set_tag_prompts(self, name: str, prompts: list[str]) -> None:
        from photoclip.organize import tagging

        tagging.set_prompts(self.catalog, name, prompts)
        self.notify("tags")

    def set_tag_enabled(self, name: str, enabled: bool) -> None:
        from photoclip.organize import tagging

        tagging.set_enabled(self.catalog, name, enabled)
        self.notify("tags")

    def review_queue(self, tag: str | None = None, limit: int = 50) -> list[ReviewItem]:
        from photoclip.organize import tagging

        return tagging.review_queue(self.catalog, tag, limit)

    def needs_retag(self) -> bool:
        from photoclip.organize import tagging

        return tagging.needs_retag(self.catalog, self.engine, top_k=self.settings.max_tags_per_photo)

    def retag(self, *, progress: ProgressSink = null_sink, cancel: CancelToken | None = None) -> int:
        """Re-decide every photo's automatic tags from stored vectors (no re-embedding)."""
        from photoclip.organize import tagging

        n = tagging.retag_all(self.catalog, self.engine, progress=progress, cancel=cancel,
                              top_k=self.settings.max_tags_per_photo)
        self.notify("tags")
        self.refresh_albums()
        return n

    # -- albums ------------------------------------------------------------------------------

    def albums(self) -> list[Album]:
        from photoclip.organize import albums

        return albums.list_albums(self.catalog)

    def create_album(self, name: str, *, query: str | None = None, tags: tuple[str, ...] = (),
                     filters: Filters | None = None, threshold: float | None = None,
                     like: tuple[int, ...] = (), unlike: tuple[int, ...] = ()) -> Album:
        from photoclip.organize import albums

        searcher = self.searcher if query else None
        album = albums.create_album(self.catalog, name, query=query, tags=tags, filters=filters,
                                    threshold=threshold, searcher=searcher, like=like, unlike=unlike)
        self.notify("albums")
        return album

    def set_album_rule(self, name: str, *, query: str | None = None, tags: tuple[str, ...] = (),
                       filters: Filters | None = None, threshold: float | None = None) -> Album:
        """Replace a smart album's rule; rule members are recomputed, pins and exclusions stay."""
        from photoclip.organize import albums

        searcher = self.searcher if query else None
        album = albums.set_rule(self.catalog, name, query=query, tags=tags, filters=filters, threshold=threshold,
                                searcher=searcher)
        self.notify("albums")
        return album

    def album_rule_scores(self, query: str, filters: Filters | None = None, *, like: tuple[int, ...] = (),
                          unlike: tuple[int, ...] = ()) -> list[tuple[int, float]]:
        """Every photo's score for a would-be smart album's query, best first (for a live preview)."""
        from photoclip.organize import albums

        return albums.rule_scores(self.catalog, self.searcher, query, filters, like=like, unlike=unlike)

    def album_members(self, name: str) -> list[Photo]:
        from photoclip.organize import albums

        members = albums.album_members(self.catalog, name)
        hidden = self._hidden_copies()
        return [p for p in members if p.id not in hidden] if hidden else members

    def album_entries(self, name: str, *, include_excluded: bool = False) -> list[AlbumEntry]:
        from photoclip.organize import albums

        return albums.album_entries(self.catalog, name, include_excluded=include_excluded)

    def _album_change(self, n: int) -> int:
        self.notify("albums")
        return n

    def add_to_album(self, name: str, photo_ids: list[int]) -> int:
        from photoclip.organize import albums

        return self._album_change(albums.add_to_album(self.catalog, name, photo_ids))

    def remove_from_album(self, name: str, photo_ids: list[int]) -> int:
        from photoclip.organize import albums

        return self._album_change(albums.remove_from_album(self.catalog, name, photo_ids))

    def pin(self, name: str, photo_ids: list[int]) -> int:
        """Keep photos in a smart album whatever its rule says."""
        from photoclip.organize import albums

        return self._album_change(albums.pin(self.catalog, name, photo_ids))

    def exclude(self, name: str, photo_ids: list[int]) -> int:
        """Keep photos out of a smart album whatever its rule says."""
        from photoclip.organize import albums

        return self._album_change(albums.exclude(self.catalog, name, photo_ids))

    def rename_album(self, name: str, new_name: str) -> None:
        from photoclip.organize import albums

        albums.rename_album(self.catalog, name, new_name)
        self.notify("albums")

    def delete_album(self, name: str) -> None:
        from photoclip.organize import albums

        albums.delete_album(self.catalog, name)
        self.notify("albums")

    def export_album(self, name: str, destination: str | os.PathLike[str], *, mode: str = "copy",
                     xmp: bool = False, subfolder: bool = True, progress: ProgressSink = null_sink,
                     cancel: CancelToken | None = None) -> ExportReport:
        """Copy or link an album's photos into a folder (originals are only read)."""
        from photoclip.organize import albumexport

        return albumexport.export_album(self.catalog, name, destination, mode=mode, xmp_sidecars=xmp,
                                        subfolder=subfolder, progress=progress, cancel=cancel)

    # -- trash -------------------------------------------------------------------------------

    def move_to_trash(self, photo_ids: list[int]) -> TrashOutcome:
        """Move the photos' files to the platform's trash (only ever after the user confirmed it).

        Returns a ``TrashOutcome``: the photos trashed (marked missing in the catalog, so their
        tags and albums come back with them) and the files that could not be trashed, with why.
        """
        from photoclip.organize import trash

        outcome = trash.trash_photos(self.catalog, list(photo_ids))
        if outcome.trashed:
            self.notify("photos", tuple(outcome.ids))
        return outcome

    def restore_from_trash(self, outcome: TrashOutcome) -> TrashOutcome:
        """Undo `move_to_trash`: put the files back where they were; returns what came back."""
        from photoclip.organize import trash

        back = trash.restore_photos(self.catalog, outcome)
        if back.trashed:
            self.notify("photos", tuple(back.ids))
        return back


    def choose_keeper(self, photo_id: int) -> None:
        """Keep this photo rather than the suggested one in its group."""
        from photoclip.organize import duplicates

        duplicates.choose_keeper(self.catalog, photo_id)
        self.notify("duplicates")


    # -- snapshots for undo --------------------------------------------------------------------------

    def snapshot_album(self, name: str) -> AlbumSnapshot:
        """An album exactly as it is (rule and members), to put back with `restore_album`."""
        from photoclip.organize import history

        return history.album(self.catalog, name)

    def restore_album(self, snapshot: AlbumSnapshot, *, replace: bool = False) -> None:
        """Put an album back as snapshotted; with ``replace``, in place of what it has become."""
        from photoclip.organize import history

        history.restore_album(self.catalog, snapshot, replace=replace)

    def snapshot_members(self, album: str, photo_ids: list[int]) -> MembersSnapshot:
        from photoclip.organize import history

        return history.members(self.catalog, album, photo_ids)

    def restore_members(self, snapshot: MembersSnapshot) -> MembersSnapshot:
        """Put album memberships back; returns what they were just before (for redo)."""
        from photoclip.organize import history

        return history.restore_members(self.catalog, snapshot)

    def snapshot_tag_rows(self, name: str, photo_ids: list[int]) -> TagSnapshot:
        from photoclip.organize import history

        return history.tag_rows(self.catalog, name, photo_ids)

    def restore_tag_rows(self, snapshot: TagSnapshot) -> TagSnapshot:
        """Put a tag's decisions on these photos back; returns what they were just before (for redo)."""
        from photoclip.organize import history

        return history.restore_tag_rows(self.catalog, snapshot)

    # -- favourites and ratings --------------------------------------------------------------

    def marks(self, photo_ids: list[int] | None = None) -> dict[int, Mark]:
        """Favourite and stars per photo: of these ids, or of every marked photo when None."""
        from photoclip.organize import marks

        return marks.all_marks(self.catalog) if photo_ids is None else marks.marks_of(self.catalog, photo_ids)

    def set_favourite(self, photo_ids: list[int], favourite: bool = True) -> dict[int, Mark]:
        """Mark or unmark as favourites; returns the marks before, for `restore_marks` (undo)."""
        from photoclip.organize import marks

        before = marks.set_favourite(self.catalog, photo_ids, favourite)
        self.notify("marks", tuple(before))
        return before

    def set_rating(self, photo_ids: list[int], rating: int) -> dict[int, Mark]:
        """Give 0-5 stars; returns the marks before, for `restore_marks` (undo)."""
        from photoclip.organize import marks

        before = marks.set_rating(self.catalog, photo_ids, rating)
        self.notify("marks", tuple(before))
        return before

    def restore_marks(self, before: dict[int, Mark]) -> dict[int, Mark]:
        """Put back marks returned by `set_favourite` / `set_rating`; returns the ones replaced (redo)."""
        from photoclip.organize import marks

        replaced = marks.set_marks(self.catalog, before)
        self.notify("marks", tuple(before))
        return replaced

    # -- smart album rules -------------------------------------------------------------------

    def album_rule_count(self, *, query: str | None = None, tags: tuple[str, ...] = (),
                         filters: Filters | None = None, threshold: float | None = None) -> int:
        """How many photos a smart album rule would hold now (for a live count while editing it)."""
        from photoclip.organize import albums

        rule = albums.Rule(" ".join(query.split()) if query else None, tuple(tags), albums._filters_dict(filters),
                           albums.DEFAULT_THRESHOLD if threshold is None else float(threshold))
        searcher = self.searcher if rule.query else None
        return len(albums._rule_members(self.catalog, searcher, rule, len(self.catalog.live_ids())))
