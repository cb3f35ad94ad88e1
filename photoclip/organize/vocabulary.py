"""The tag vocabulary: the shipped tags with their prompts (``tags.json``), checked names and prompts, and
the tags a new library starts with."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from photoclip.errors import PhotoClipError
from photoclip.paths import resources_dir
from photoclip.store.catalog import Catalog

VOCABULARY_FILE = "tags.json"
SEEDED_KEY = "tags.seeded_version"
TEMPLATE = "a photo of {}."
MAX_NAME = 100


class VocabularyError(PhotoClipError):
    """The tag vocabulary file cannot be read, or a tag definition is invalid."""


@dataclass(frozen=True)
class Vocabulary:
    """The shipped defaults: tags with their prompts, the background, and the decision settings."""

    tags: tuple[tuple[str, tuple[str, ...]], ...]
    background: tuple[str, ...]
    default_threshold: float = 0.8
    top_k: int = 5
    logit_scale: float = 100.0
    version: int = 1
    rivals: tuple[tuple[str, ...], ...] = ()  # groups of tags that compete: the closest one wins



def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """Read a vocabulary file (default: the shipped ``tags.json``)."""
    file = Path(path) if path is not None else resources_dir() / VOCABULARY_FILE
    try:
        stat = file.stat()
    except OSError as exc:
        raise VocabularyError(f"the tag vocabulary {file} cannot be read: {exc.strerror or exc}") from exc
    return _load_vocabulary(str(file), stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _load_vocabulary(file: str, _mtime_ns: int) -> Vocabulary:
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        tags = tuple((clean_name(t["name"]), tuple(clean_prompts(t.get("prompts"), t["name"])))
                     for t in data["tags"])
        background = tuple(str(b) for b in data["background"])
        if not background:
            raise ValueError("the background prompt list is empty")
        rivals = tuple(tuple(clean_name(n) for n in group) for group in data.get("rivals") or ())
        return Vocabulary(tags, background, float(data.get("default_threshold", 0.8)),
                          int(data.get("top_k", 5)), float(data.get("logit_scale", 100.0)),
                          int(data.get("version", 1)), rivals)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VocabularyError(f"the tag vocabulary {file} is not valid: {exc}") from exc


def clean_name(name: object) -> str:
    text = " ".join(str(name).split())
    if not text:
        raise VocabularyError("a tag name cannot be empty")
    if len(text) > MAX_NAME:
        raise VocabularyError(f"the tag name '{text[:40]}...' is longer than {MAX_NAME} characters")
    return text


def clean_prompts(prompts: Iterable[str] | None, name: str) -> list[str]:
    cleaned = [" ".join(str(p).split()) for p in (prompts or ())]
    cleaned = list(dict.fromkeys(p for p in cleaned if p))
    return cleaned or [TEMPLATE.format(" ".join(str(name).split()))]


def ensure_vocabulary(catalog: Catalog, vocabulary: Vocabulary | None = None) -> int:
    """Seed the ``tags`` table from the shipped vocabulary once per library; returns tags added."""
    if catalog.get_meta(SEEDED_KEY) is not None:
        return 0
    vocab = vocabulary or load_vocabulary()
    now = time.time()
    with catalog.write() as c:
        if c.execute("SELECT 1 FROM meta WHERE key=?", (SEEDED_KEY,)).fetchone():
            return 0  # another writer seeded meanwhile
        before = c.total_changes
        c.executemany("INSERT OR IGNORE INTO tags(name, prompts, threshold, builtin, enabled, created_at) "
                      "VALUES(?, ?, NULL, 1, 1, ?)",
                      [(name, json.dumps(list(prompts)), now) for name, prompts in vocab.tags])
        added = c.total_changes - before
        c.execute("INSERT INTO meta(key, value) VALUES(?, ?)", (SEEDED_KEY, str(vocab.version)))
    return added


