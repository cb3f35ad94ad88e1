"""The query language: text and image terms joined by ``+`` and ``-``, each with an optional weight.

Examples: ``beach at sunset``, ``2:beach + sunset - people``, ``0.5:snow``, ``./dog.jpg + snow``,
``"~/My Photos/cat.png" - indoors``. Parsing is pure (it only checks whether a term names a file);
the searcher turns terms into vectors and sums them.

Rules:
- ``+`` and ``-`` are operators only at a word boundary (after a space or at the start, or before a
  space): ``t-shirt`` and ``x+y`` stay words. Quoted text is never split.
- ``N:`` at the start of a term is its weight (a positive number); a weight needs a term after it.
- A term is an image when it names an existing file with an image extension (``~`` is expanded and
  relative paths are taken from ``cwd``); a term that looks like an image file but does not exist is
  an error rather than a text search for a file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from photoclip.errors import QueryError
from photoclip.imaging import SUPPORTED_EXTENSIONS

# A term naming a file of a format PhotoClip reads is an image term (the scanner's list, not a copy).
IMAGE_EXTENSIONS = SUPPORTED_EXTENSIONS
_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*:\s*")


@dataclass(frozen=True)
class Term:
    """One part of a query: exactly one of ``text`` or ``image``, with a signed weight."""

    weight: float
    text: str | None = None
    image: Path | None = None


@dataclass(frozen=True)
class Query:
    raw: str
    terms: tuple[Term, ...]

    @property
    def images_only(self) -> bool:
        """True when every term is an image: the query then sits inside the image cloud."""
        return all(t.image is not None for t in self.terms)


@dataclass
class _Chunk:
    sign: float
    parts: list[tuple[str, bool]]  # (text, was quoted)


def _split(text: str) -> list[_Chunk]:
    """Split into signed chunks at operator characters that stand at a word boundary."""
    chunks: list[_Chunk] = []
    current = _Chunk(1.0, [])
    word = ""
    leading = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'" and (i == 0 or not text[i - 1].isalnum()):
            end = text.find(ch, i + 1)
            if end < 0:
                raise QueryError(f"the quote opened at position {i + 1} is never closed")
            if word:
                current.parts.append((word, False))
                word = ""
            current.parts.append((text[i + 1:end], True))
            i = end + 1
            continue
        at_boundary = i == 0 or text[i - 1].isspace() or i + 1 >= n or text[i + 1].isspace()
        if ch in "+-" and at_boundary:
            if word.strip():
                current.parts.append((word, False))
            word = ""
            sign = -1.0 if ch == "-" else 1.0
            if current.parts:
                chunks.append(current)
                current = _Chunk(sign, [])
            elif not chunks and not leading:
                current.sign = sign  # a leading operator only sets the first term's sign
                leading = True
            else:
                raise QueryError(f"'{ch}' follows another operator with no term between them")
            i += 1
            continue
        word += ch
        i += 1
    if word.strip():
        current.parts.append((word, False))
    chunks.append(current)
    return chunks


def looks_like_image(text: str) -> bool:
    return Path(text.strip()).suffix.lower() in IMAGE_EXTENSIONS


def _term(chunk: _Chunk, raw: str, cwd: Path) -> Term:
    parts = [(t, q) for t, q in chunk.parts if q or t.strip()]
    if not parts:
        op = "-" if chunk.sign < 0 else "+"
        raise QueryError(f"'{op}' needs a term after it")
    weight = 1.0
    first, quoted = parts[0]
    if not quoted:
        m = _WEIGHT.match(first)
        if m:
            weight = float(m.group(1))
            rest = first[m.end():]
            parts = ([(rest, False)] if rest.strip() else []) + parts[1:]
            if not parts:
                raise QueryError(f"the weight {m.group(1)}: has no term after it")
    if weight <= 0:
        raise QueryError(f"a weight must be more than 0 (in {raw!r})")
    body = "".join(t for t, _ in parts).strip()
    if not body:
        raise QueryError("a quoted term is empty")
    if looks_like_image(body):
        path = Path(body).expanduser()
        if not path.is_absolute():
            path = cwd / path
        if path.is_file():
            return Term(chunk.sign * weight, image=path)
        raise QueryError(f"the image {body} does not exist (quote a path with spaces or '-' in it)")
    return Term(chunk.sign * weight, text=" ".join(body.split()))


def parse_query(text: str, *, cwd: str | Path | None = None) -> Query:
    """Parse a query string; raises QueryError with a reason a person can act on."""
    if not text or not text.strip():
        raise QueryError("the query is empty")
    base = Path(cwd) if cwd is not None else Path.cwd()
    chunks = _split(text)
    terms = tuple(_term(c, text, base) for c in chunks)
    if not terms:
        raise QueryError("the query is empty")
    return Query(text, terms)
