"""Where the grid puts each photo and each date header: plain arithmetic over the day sections.

In date order the grid starts a new line of cells under a header for every day (and a larger
one for every month). The headers are not rows of the model: they live only here, as the height
each section's band takes above its first line of cells. A layout is built once per list of days,
width and zoom, in one pass over the days (not the photos); every question the view asks then
(where is row r, which row is at this point, what is below) is a bisection over the sections, so
scrolling 100,000 photos never walks them. Without days (relevance order) there is one section
with no header: the plain grid.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence


class SectionLayout:
    """Rows ``starts[i]`` .. ``starts[i+1]-1`` sit in ``cols`` columns under a band of ``headers[i]`` pixels."""

    def __init__(self, starts: Sequence[int], headers: Sequence[int], total: int, cols: int,
                 cell_w: int, cell_h: int) -> None:
        self.starts = list(starts) or [0]
        self.headers = list(headers) or [0]
        self.total = total
        self.cols = max(1, cols)
        self.cell_w, self.cell_h = max(1, cell_w), max(1, cell_h)
        self.tops: list[int] = []  # y of each section's header band
        self.cell_tops: list[int] = []  # y of each section's first line of cells
        y, n = 0, len(self.starts)
        for i in range(n):
            self.tops.append(y)
            y += self.headers[i]
            self.cell_tops.append(y)
            y += -(-self.count(i) // self.cols) * self.cell_h
        self.height = y

    def __len__(self) -> int:
        return len(self.starts)

    def count(self, i: int) -> int:
        end = self.starts[i + 1] if i + 1 < len(self.starts) else self.total
        return max(0, end - self.starts[i])

    def lines(self, i: int) -> int:
        return -(-self.count(i) // self.cols)

    # -- rows and points ---------------------------------------------------------------------

    def section_of_row(self, row: int) -> int:
        return max(0, bisect.bisect_right(self.starts, row) - 1)

    def section_at(self, y: int) -> int:
        return max(0, bisect.bisect_right(self.tops, y) - 1)

    def cell(self, row: int) -> tuple[int, int]:
        """(column, y) of the top left of ``row``'s cell, in content coordinates."""
        i = self.section_of_row(row)
        k = row - self.starts[i]
        return k % self.cols, self.cell_tops[i] + (k // self.cols) * self.cell_h

    def row_at(self, col: int, y: int) -> int:
        """The row whose cell holds column ``col`` at height ``y``; -1 on a header or an empty place."""
        if not 0 <= col < self.cols or not 0 <= y < self.height:
            return -1
        i = self.section_at(y)
        if y < self.cell_tops[i]:
            return -1
        k = (y - self.cell_tops[i]) // self.cell_h * self.cols + col
        return self.starts[i] + k if k < self.count(i) else -1

    def near(self, col: int, y: int) -> int:
        """The row nearest to a point in reading order: a header means its day's first photo."""
        if self.total <= 0:
            return -1
        y = min(max(y, 0), max(0, self.height - 1))
        i = self.section_at(y)
        if y < self.cell_tops[i] or not self.count(i):
            return min(self.starts[i], self.total - 1)
        k = (y - self.cell_tops[i]) // self.cell_h * self.cols + min(max(col, 0), self.cols - 1)
        return self.starts[i] + min(k, self.count(i) - 1)

    def first_row_at(self, y: int) -> int:
        """The first photo shown at or below height ``y`` (the top of the viewport)."""
        i = self.section_at(y)
        if y < self.cell_tops[i]:
            return self.starts[i]
        k = (y - self.cell_tops[i]) // self.cell_h * self.cols
        return self.starts[i] + min(k, max(0, self.count(i) - 1))

    def top_of(self, row: int) -> int:
        """Where to scroll to show ``row`` from its top: with its day's header for a first line."""
        i = self.section_of_row(row)
        if row - self.starts[i] < self.cols:
            return self.tops[i]
        return self.cell(row)[1]

    # -- moving with the keyboard -------------------------------------------------------------

    def below(self, row: int) -> int:
        """The photo under ``row``: the next line of its day, or the first line of the next day."""
        i = self.section_of_row(row)
        k = row - self.starts[i]
        col, line = k % self.cols, k // self.cols
        if line + 1 < self.lines(i):
            return self.starts[i] + min((line + 1) * self.cols + col, self.count(i) - 1)
        if i + 1 < len(self.starts) and self.count(i + 1):
            return self.starts[i + 1] + min(col, self.count(i + 1) - 1)
        return row

    def above(self, row: int) -> int:
        """The photo over ``row``: the line before in its day, or the last line of the day before."""
        i = self.section_of_row(row)
        k = row - self.starts[i]
        col, line = k % self.cols, k // self.cols
        if line > 0:
            return self.starts[i] + (line - 1) * self.cols + col
        if i > 0 and self.count(i - 1):
            last_line = (self.count(i - 1) - 1) // self.cols
            return self.starts[i - 1] + min(last_line * self.cols + col, self.count(i - 1) - 1)
        return row

    # -- painting -----------------------------------------------------------------------------

    def visible(self, y0: int, y1: int) -> list[tuple[int, int, int]]:
        """(section, first row, last row) of each section with something between heights y0 and y1."""
        out = []
        i = self.section_at(y0)
        while i < len(self.starts) and self.tops[i] <= y1:
            lines = self.lines(i)
            first_line = max(0, (y0 - self.cell_tops[i]) // self.cell_h)
            last_line = min(lines - 1, (y1 - self.cell_tops[i]) // self.cell_h)
            first = self.starts[i] + first_line * self.cols
            last = min(self.starts[i] + (last_line + 1) * self.cols, self.starts[i] + self.count(i)) - 1
            out.append((i, first, last))
            i += 1
        return out
