"""Favourites and star ratings (0-5): a person's own marks on photos, kept in the catalog.

Every change returns the marks the photos had before, so the GUI can undo it exactly. Only
marked photos have a row; a photo with no favourite and no stars has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from photoclip.errors import QueryError
from photoclip.store.catalog import Catalog, chunked

MAX_RATING = 5


@dataclass(frozen=True, slots=True)
class Mark:
    favourite: bool = False
    rating: int = 0


NO_MARK = Mark()


def check_rating(rating: int) -> int:
    if not isinstance(rating, int) or not 0 <= rating <= MAX_RATING:
        raise QueryError(f"a rating is 0 to {MAX_RATING} stars, not {rating!r}")
    return rating


def marks_of(catalog: Catalog, photo_ids: Iterable[int]) -> dict[int, Mark]:
    """The marks of these photos (unmarked ones get `NO_MARK`)."""
    ids = list(dict.fromkeys(photo_ids))
    out = dict.fromkeys(ids, NO_MARK)
    for chunk in chunked(ids):
        rows = catalog.read().execute(
            f"SELECT photo_id, favourite, rating FROM photo_marks WHERE photo_id IN ({','.join('?' * len(chunk))})",
            chunk)
        for pid, fav, rating in rows:
            out[pid] = Mark(bool(fav), int(rating))
    return out


def all_marks(catalog: Catalog) -> dict[int, Mark]:
    """Every marked photo's marks (for painting them on the grid)."""
    rows = catalog.read().execute("SELECT photo_id, favourite, rating FROM photo_marks")
    return {pid: Mark(bool(fav), int(rating)) for pid, fav, rating in rows}


def set_marks(catalog: Catalog, marks: dict[int, Mark]) -> dict[int, Mark]:
    """Give each photo its mark; returns what they had before (to undo). Unknown ids are ignored."""
    before = marks_of(catalog, marks)
    with catalog.write() as c:
        for pid, mark in marks.items():
            check_rating(mark.rating)
            if mark == NO_MARK:
                c.execute("DELETE FROM photo_marks WHERE photo_id=?", (pid,))
            else:
                c.execute("INSERT INTO photo_marks(photo_id, favourite, rating) "
                          "SELECT id, ?, ? FROM photos WHERE id=? "
                          "ON CONFLICT(photo_id) DO UPDATE SET favourite=excluded.favourite, rating=excluded.rating",
                          (int(mark.favourite), mark.rating, pid))
    return before


def set_favourite(catalog: Catalog, photo_ids: Iterable[int], favourite: bool) -> dict[int, Mark]:
    before = marks_of(catalog, photo_ids)
    return set_marks(catalog, {pid: Mark(favourite, m.rating) for pid, m in before.items()})


def set_rating(catalog: Catalog, photo_ids: Iterable[int], rating: int) -> dict[int, Mark]:
    check_rating(rating)
    before = marks_of(catalog, photo_ids)
    return set_marks(catalog, {pid: Mark(m.favourite, rating) for pid, m in before.items()})
