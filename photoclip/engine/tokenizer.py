"""CLIP text tokenization through a bundle's ``tokenizer.json`` (the `tokenizers` library).

Text is cleaned the way the reference CLIP tokenizer cleans it (ftfy when available, HTML entities
unescaped twice, whitespace collapsed) so ids match it exactly; start and end tokens are added here,
not by the file's post-processor, so CLIP tokenizer files from any source behave the same.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from photoclip.errors import ModelError, QueryError

START_TOKENS = ("<|startoftext|>", "<start_of_text>")
END_TOKENS = ("<|endoftext|>", "<end_of_text>")

try:  # ftfy repairs mojibake, ligatures and full-width letters as the reference does.
    import ftfy as _ftfy
except ImportError:  # pragma: no cover - depends on the installation
    _ftfy = None


def clean_text(text: str) -> str:
    """Clean a query like CLIP's reference tokenizer: fix text, unescape HTML twice, collapse spaces."""
    if _ftfy is not None:
        text = _ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return " ".join(text.split()).lower()


class ClipTokenizer:
    """Turns texts into CLIP token ids, truncated to the context length with the end token kept."""

    def __init__(self, path: Path, context_length: int) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - tokenizers is a core dependency
            raise ModelError("The 'tokenizers' package is missing: pip install tokenizers") from exc
        try:
            self._tok = Tokenizer.from_file(str(path))
        except Exception as exc:
            raise ModelError(f"Cannot read the tokenizer {path}: {exc}") from exc
        if context_length < 3:
            raise ModelError(f"Context length {context_length} is too small for a CLIP text tower.")
        self.context_length = context_length
        self.start_id = self._special_id(START_TOKENS, path)
        self.end_id = self._special_id(END_TOKENS, path)
        self.vocab_size = self._tok.get_vocab_size()
        self._tok.no_truncation()
        self._tok.no_padding()

    def _special_id(self, names: Sequence[str], path: Path) -> int:
        for name in names:
            token_id = self._tok.token_to_id(name)
            if token_id is not None:
                return int(token_id)
        raise ModelError(f"The tokenizer {path} has no {names[0]} token: it is not a CLIP tokenizer.")

    def ids(self, text: str) -> list[int]:
        """The ids of one text with start and end tokens, at most ``context_length`` long."""
        cleaned = clean_text(text)
        if not cleaned:
            raise QueryError("The search text is empty: type a few words describing the photo.")
        body = self._tok.encode(cleaned, add_special_tokens=False).ids
        body = body[: self.context_length - 2]
        return [self.start_id, *body, self.end_id]

    def encode(self, texts: Sequence[str], pad_to: int | None = None) -> np.ndarray:
        """An int64 (N, L) array padded with 0 to the longest text (or to ``pad_to``).

        Padding after the end token never changes CLIP's pooled embedding: the causal mask keeps
        the end token from seeing what follows it.
        """
        rows = [self.ids(text) for text in texts]
        if not rows:
            raise QueryError("No search text was given.")
        length = max(len(r) for r in rows) if pad_to is None else max(pad_to, max(len(r) for r in rows))
        out = np.zeros((len(rows), length), dtype=np.int64)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out
