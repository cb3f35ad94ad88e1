"""Date words in a query: ``beach 2023``, ``snow last winter``, ``party june 2024`` become date filters.

Only unambiguous phrases are taken: one year, a month and a year, ``this year``/``last year``,
``this``/``last`` with a season (northern seasons: winter is December to February), and only when
other words remain to search for. Anything else stays part of the query ("2023 2024", a bare
"june").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"))}
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
_YEAR = r"(?:19|20)\d\d"
_EDGE_L = r"(?:(?<=\s)|^)"
_EDGE_R = r"(?=\s|$)"
_MONTH_YEAR = re.compile(_EDGE_L + r"(" + "|".join(MONTHS) + r")\s+(" + _YEAR + r")" + _EDGE_R, re.IGNORECASE)
_RELATIVE = re.compile(_EDGE_L + r"(this|last)\s+(year|" + "|".join(SEASONS) + r")" + _EDGE_R, re.IGNORECASE)
_BARE_YEAR = re.compile(_EDGE_L + r"(" + _YEAR + r")" + _EDGE_R)


@dataclass(frozen=True)
class DateSpan:
    after: date
    before: date  # inclusive
    words: str  # the phrase that set it, as typed

    def describe(self) -> str:
        return f"taken {self.after.isoformat()} to {self.before.isoformat()} ('{self.words}')"


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _season(name: str, which: str, today: date) -> tuple[date, date]:
    start_month, end_month = SEASONS[name]
    # The season's most recent start on or before today; "last" is the one before that.
    year = today.year if (today.month, today.day) >= (start_month, 1) else today.year - 1
    if which == "last":
        year -= 1
    start = date(year, start_month, 1)
    end_year = year + 1 if end_month < start_month else year
    return start, _month_end(end_year, end_month)


def extract(query: str, today: date | None = None) -> tuple[str, DateSpan | None]:
    """The query without its date phrase, and the span the phrase names (None: nothing taken)."""
    today = today or date.today()
    found: list[tuple[re.Match[str], date, date]] = []
    for m in _MONTH_YEAR.finditer(query):
        month, year = MONTHS[m.group(1).lower()], int(m.group(2))
        found.append((m, date(year, month, 1), _month_end(year, month)))
    for m in _RELATIVE.finditer(query):
        which, what = m.group(1).lower(), m.group(2).lower()
        if what == "year":
            year = today.year - (which == "last")
            found.append((m, date(year, 1, 1), date(year, 12, 31)))
        else:
            found.append((m, *_season(what, which, today)))
    if not found:
        years = list(_BARE_YEAR.finditer(query))
        if len(years) == 1:
            y = int(years[0].group(1))
            found.append((years[0], date(y, 1, 1), date(y, 12, 31)))
    elif _BARE_YEAR.search(_MONTH_YEAR.sub(" ", _RELATIVE.sub(" ", query))):
        return query, None  # a further year: ambiguous
    if len(found) != 1:
        return query, None
    m, after, before = found[0]
    rest = " ".join((query[:m.start()] + " " + query[m.end():]).split())
    if not rest or rest in ("+", "-"):
        return query, None
    return rest, DateSpan(after, before, m.group(0))
