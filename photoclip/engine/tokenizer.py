"""CLIP text tokenization through a bundle's ``tokenizer.json`` (the `tokenizers` library).

Text is cleaned the way the reference CLIP tokenizer cleans it (ftfy when available, HTML entities
unescaped twice, whitespace collapsed) so ids match it exactly; start and end tokens are added here,
not by the file's post-processor, so CLIP tokenizer files from any source behave the same.
"""

from __future__ import annotations

import html
import string
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photoclip.errors import ModelError, QueryError

if TYPE_CHECKING:
    from photoclip.engine.bundle import BundleInfo

START_TOKENS = ("<|startoftext|>", "<start_of_text>")
END_TOKENS = ("<|endoftext|>", "<end_of_text>")

_PUNCTUATION = str.maketrans("", "", string.punctuation)


# Text ftfy leaves as it is: printable ASCII and whitespace, no HTML entity (ftfy would unescape one).
_PLAIN = frozenset(string.printable) - frozenset("&\x0b\x0c")


def basic_clean(text: str) -> str:
    """Fix mojibake, ligatures and full-width letters (ftfy), unescape HTML twice, strip.

    ftfy is loaded only for text it could change: most queries are plain ASCII, and a one-shot search
    should not pay for importing it."""
    if not _PLAIN.issuperset(text):
        try:  # ftfy repairs mojibake, ligatures and full-width letters as the reference does
            import ftfy
        except ImportError:  # pragma: no cover - depends on the installation
            pass
        else:
            text = ftfy.fix_text(text)
    return html.unescape(html.unescape(text)).strip()


def clean_text(text: str, mode: str = "clip") -> str:
    """Clean a query the way the model's reference tokenizer does.

    "clip": collapse whitespace and lower-case (CLIP's BPE vocabulary is lower case); "whitespace":
    collapse whitespace only (case-sensitive SentencePiece vocabularies); "canonicalize": also drop
    punctuation and lower-case, as SigLIP was trained (underscores become spaces first).
    """
    text = basic_clean(text)
    if mode == "canonicalize":
        text = text.replace("_", " ").translate(_PUNCTUATION).lower()
    elif mode == "clip":
        text = text.lower()
    return " ".join(text.split())



def load_tokenizer(path: Path) -> Any:
    """A ``tokenizers.Tokenizer`` from its JSON file; a missing package or a bad file is a ModelError."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - tokenizers is a core dependency
        raise ModelError("The 'tokenizers' package is missing: pip install tokenizers") from exc
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:
        raise ModelError(f"Cannot read the tokenizer {path}: {exc}") from exc


class ClipTokenizer:
    """Turns texts into CLIP token ids, truncated to the context length with the end token kept."""

    def __init__(self, path: Path, context_length: int, clean: str = "clip") -> None:
        self.clean = clean
        self._tok = load_tokenizer(path)
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
        cleaned = clean_text(text, self.clean)
        if not cleaned:
            raise QueryError("The search text is empty: type a few words describing the photo.")
        body = self._tok.encode(cleaned, add_special_tokens=False).ids
        body = body[: self.context_length - 2]
        return [self.start_id, *body, self.end_id]

    def encode(self, texts: Sequence[str], pad_to: int | None = None, language: str | None = None) -> np.ndarray:
        """An int64 (N, L) array padded with 0 to the longest text (or to ``pad_to``); CLIP takes no
        ``language``.

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


class TemplateTokenizer:
    """Tokenizers that bring their own special tokens (SentencePiece for SigLIP, XLM-R, NLLB).

    The file's post-processor adds what the model was trained with (``<s>``/``</s>`` for XLM-R, an end
    token for SigLIP); every text is truncated and padded to exactly ``context_length`` with the pad
    id, because these text towers see every position.

    NLLB-style towers (``language_prefix``) take ``[language code] text </s>``. The language is the
    caller's, not the file's: a saved NLLB tokenizer bakes the source language it was saved with into
    its post-processor, so these ids are put together here, the body truncated as the reference
    tokenizer truncates it (the code and the end token always kept).
    """

    def __init__(self, path: Path, context_length: int, *, pad_id: int, clean: str = "whitespace",
                 language_prefix: bool = False, end_token: str = "</s>") -> None:
        self._tok = load_tokenizer(path)
        if context_length < 2:
            raise ModelError(f"Context length {context_length} is too small for a text tower.")
        self.context_length = context_length
        self.pad_id = pad_id
        self.clean = clean
        self.language_prefix = language_prefix
        self.vocab_size = self._tok.get_vocab_size()
        self.end_id: int | None = None
        if language_prefix:
            end_id = self._tok.token_to_id(end_token)
            if end_id is None:
                raise ModelError(f"The tokenizer {path} has no {end_token} token to end a text with.")
            self.end_id = int(end_id)
            if context_length < 3:
                raise ModelError(f"Context length {context_length} is too small for a text tower.")
        self._tok.enable_truncation(max_length=context_length)
        self._tok.no_padding()

    def ids(self, text: str, language: str | None = None) -> list[int]:
        """The ids of one text; ``language`` (a FLORES-200 code) matters only to NLLB-style towers."""
        cleaned = clean_text(text, self.clean)
        if not cleaned:
            raise QueryError("The search text is empty: type a few words describing the photo.")
        if not self.language_prefix:
            return list(self._tok.encode(cleaned).ids)
        from photoclip.engine.language import query_language

        code = query_language(cleaned, language)
        code_id = self._tok.token_to_id(code)
        if code_id is None:
            raise QueryError(f"The model does not know the language code '{code}' (use FLORES-200 codes "
                             "such as eng_Latn, deu_Latn, jpn_Jpan).")
        body = self._tok.encode(cleaned, add_special_tokens=False).ids[: self.context_length - 2]
        return [int(code_id), *body, int(self.end_id)]  # type: ignore[arg-type]

    def encode(self, texts: Sequence[str], pad_to: int | None = None, language: str | None = None) -> np.ndarray:
        """An int64 (N, context) array: always the full context (or ``pad_to``), padded with the pad id."""
        rows = [self.ids(text, language) for text in texts]
        if not rows:
            raise QueryError("No search text was given.")
        length = max(pad_to or self.context_length, max(len(r) for r in rows))
        out = np.full((len(rows), length), self.pad_id, dtype=np.int64)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out

    def mask(self, ids: np.ndarray) -> np.ndarray:
        return (ids != self.pad_id).astype(np.int64)


def text_tokenizer(info: BundleInfo) -> ClipTokenizer | TemplateTokenizer:
    """The tokenizer a bundle's text tower was trained with, set up as its description says."""
    if info.tokenizer_kind == "template":
        return TemplateTokenizer(info.tokenizer, info.context_length, pad_id=info.pad_id, clean=info.text_clean,
                                 language_prefix=info.language_prefix)
    return ClipTokenizer(info.tokenizer, info.context_length, clean=info.text_clean)
