"""Where the grid puts each photo and each date header: plain arithmetic over the day sections.

In date order every day has a header over its photos. A month begins on a line of its own under
its name; within a month, a day that fits in what is left of the line before it shares that line
(each day keeps its own date above its photos), and a longer day starts a line of its own. The
headers are not rows of the model: they live only here, as the height of each day's band above
its first line of cells. A layout is built once per list of days, width and zoom, in one pass
over the days (not the photos); every question the view asks then (where is row r, which row is
at this point, what is below) is a bisection over the days, so scrolling 100,000 photos never
walks them. Without days (relevance order) there is one section with no header: the plain grid.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence


class SectionLayout:
    """Rows ``starts[i]`` .. ``starts[i+1]-1`` form day ``i``, under a header band of ``headers[i]`` pixels.

    A day that fits in what is left of the line before it shares that line (and its band) unless
    ``breaks[i]`` says it must start afresh (a new month); a longer day starts a line of its own.
    """

    def __init__(self, starts: Sequence[int], headers: Sequence[int], total: int, cols: int,
                 cell_w: int, cell_h: int, breaks: Sequence[bool] | None = None) -> None:
        self.starts = list(starts) or [0]
        self.headers = list(headers) or [0]
        self.total = total
        self.cols = max(1, cols)
        self.cell_w, self.cell_h = max(1, cell_w), max(1, cell_h)
        n = len(self.starts)
        self.tops: list[int] = []  # y of each day's header band (shared by the days of one line)
        self.cell_tops: list[int] = []  # y of each day's first line of cells
        self.col0: list[int] = []  # the column each day starts in
        y, used, band_top, band_cells = 0, -1, 0, 0  # used: columns taken on the open shared line
        for i in range(n):
            count = self.count(i)
            joins = used >= 0 and breaks is not None and not breaks[i] and count <= self.cols - used
            if joins:
                self.col0.append(used)
                used += count
            else:
                if used >= 0:
                    y = band_cells + (self.cell_h if used else 0)
                band_top, band_cells = y, y + self.headers[i]
                self.col0.append(0)
                if count <= self.cols:
                    used = count
                else:
                    used, y = -1, band_cells + -(-count // self.cols) * self.cell_h
            self.tops.append(band_top)
            self.cell_tops.append(band_cells)
        if used >= 0:
            y = band_cells + (self.cell_h if used else 0)
        self.height = y

    def __len__(self) -> int:
        return len(self.starts)

    def count(self, i: int) -> int:
        end = self.starts[i + 1] if i + 1 < len(self.starts) else self.total
        return max(0, end - self.starts[i])

    def lines(self, i: int) -> int:
        return -(-(self.col0[i] + self.count(i)) // self.cols)

    def band(self, i: int) -> tuple[int, int]:
        """The first and last day sharing day ``i``'s line (the same day twice for a day of its own)."""
        first, last = i, i
        while first > 0 and self.tops[first - 1] == self.tops[i]:
            first -= 1
        while last + 1 < len(self.starts) and self.tops[last + 1] == self.tops[i]:
            last += 1
        return first, last

    # -- rows and points ---------------------------------------------------------------------

    def section_of_row(self, row: int) -> int:
        return max(0, bisect.bisect_right(self.starts, row) - 1)

    def section_at(self, y: int) -> int:
        """The first day of the band at height ``y``."""
        i = max(0, bisect.bisect_right(self.tops, y) - 1)
        return self.band(i)[0]

    def _day_at(self, col: int, y: int) -> int:
        """The day at column ``col`` of the band at height ``y``."""
        i = max(0, bisect.bisect_right(self.tops, y) - 1)
        while i > 0 and self.tops[i - 1] == self.tops[i] and self.col0[i] > col:
            i -= 1
        return i

    def cell(self, row: int) -> tuple[int, int]:
        """(column, y) of the top left of ``row``'s cell, in content coordinates."""
        i = self.section_of_row(row)
        pos = self.col0[i] + row - self.starts[i]
        return pos % self.cols, self.cell_tops[i] + (pos // self.cols) * self.cell_h

    def row_at(self, col: int, y: int) -> int:
        """The row whose cell holds column ``col`` at height ``y``; -1 on a header or an empty place."""
        if not 0 <= col < self.cols or not 0 <= y < self.height:
            return -1
        i = self._day_at(col, y)
        if y < self.cell_tops[i]:
            return -1
        k = (y - self.cell_tops[i]) // self.cell_h * self.cols + col - self.col0[i]
        return self.starts[i] + k if 0 <= k < self.count(i) else -1

    def near(self, col: int, y: int) -> int:
        """The row nearest to a point in reading order: a header means its day's first photo."""
        if self.total <= 0:
            return -1
        col = min(max(col, 0), self.cols - 1)
        y = min(max(y, 0), max(0, self.height - 1))
        i = self._day_at(col, y)
        if y < self.cell_tops[i] or not self.count(i):
            return min(self.starts[i], self.total - 1)
        k = (y - self.cell_tops[i]) // self.cell_h * self.cols + col - self.col0[i]
        return self.starts[i] + min(max(k, 0), self.count(i) - 1)

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
        if self.col0[i] + row - self.starts[i] < self.cols:
            return self.tops[i]
        return self.cell(row)[1]

    # -- moving with the keyboard -------------------------------------------------------------

    def _in_line(self, first: int, last: int, col: int, line: int) -> int:
        """The photo at ``col`` (or the nearest before it) on ``line`` of the band of days first..last."""
        i = last
        while i > first and self.col0[i] > col:
            i -= 1
        k = line * self.cols + col - self.col0[i]
        return self.starts[i] + min(max(k, 0), self.count(i) - 1)

    def below(self, row: int) -> int:
        """The photo under ``row``: the next line of its day, or the line after its band."""
        i = self.section_of_row(row)
        pos = self.col0[i] + row - self.starts[i]
        col, line = pos % self.cols, pos // self.cols
        if line + 1 < self.lines(i):
            return self.starts[i] + min((line + 1) * self.cols + col, self.count(i) - 1)
        nxt = self.band(i)[1] + 1
        if nxt < len(self.starts) and self.count(nxt):
            return self._in_line(nxt, self.band(nxt)[1], col, 0)
        return row

    def above(self, row: int) -> int:
        """The photo over ``row``: the line before in its day, or the last line of the band before."""
        i = self.section_of_row(row)
        pos = self.col0[i] + row - self.starts[i]
        col, line = pos % self.cols, pos // self.cols
        if line > 0:
            return self.starts[i] + (line - 1) * self.cols + col - self.col0[i]
        prev = self.band(i)[0] - 1
        if prev < 0 or not self.count(prev):
            return row
        first, last = self.band(prev)
        return self._in_line(first, last, col, self.lines(last) - 1)

    # -- painting -----------------------------------------------------------------------------

    def visible(self, y0: int, y1: int) -> list[tuple[int, int, int]]:
        """(day, first row, last row) of each day with something between heights y0 and y1."""
        out = []
        i = self.section_at(y0)
        while i < len(self.starts) and self.tops[i] <= y1:
            count, col0 = self.count(i), self.col0[i]
            first_line = max(0, (y0 - self.cell_tops[i]) // self.cell_h)
            last_line = min(self.lines(i) - 1, (y1 - self.cell_tops[i]) // self.cell_h)
            first = self.starts[i] + max(0, first_line * self.cols - col0)
            last = self.starts[i] + min((last_line + 1) * self.cols - col0, count) - 1
            out.append((i, first, last))
            i += 1
        return out
