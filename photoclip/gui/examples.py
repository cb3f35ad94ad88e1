"""Teaching a search by example: photos marked "more like this" or "not this" re-rank it at once.

The marks belong to the query they were made on: typing another query forgets them. The ranking
itself is the core's (``Library.search(like=..., unlike=...)``): Rocchio's update of the candidates'
probe and scores raised or lowered by the calibrated likeness to the marked photos.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExampleMarks:
    """Liked and disliked photo ids for the current query."""

    query: str = ""
    like: set[int] = field(default_factory=set)
    unlike: set[int] = field(default_factory=set)

    def for_query(self, query: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(like, unlike) for this query; a new query starts with none."""
        if query.strip() != self.query:
            self.query, self.like, self.unlike = query.strip(), set(), set()
        return tuple(sorted(self.like)), tuple(sorted(self.unlike))

    def mark(self, query: str, photo_id: int, liked: bool) -> None:
        self.for_query(query)
        (self.like if liked else self.unlike).add(photo_id)
        (self.unlike if liked else self.like).discard(photo_id)

    def describe(self) -> str:
        parts = [f"{len(self.like)} liked"] if self.like else []
        parts += [f"{len(self.unlike)} not wanted"] if self.unlike else []
        return ", ".join(parts)
