"""XMP keywords become accepted tags: a person chose them, so auto-tagging never takes them away.

The ingest pipeline hands over the keywords it decoded (it knows nothing of tags); read again whenever the
photo is, they never undo a decision made in PhotoClip (a rejected tag stays rejected).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from photoclip.organize import tagging, vocabulary
from photoclip.store.catalog import Catalog

log = logging.getLogger(__name__)


def accept(catalog: Catalog, items: Sequence[tuple[int, str]]) -> None:
    """Record (photo id, keyword) pairs as accepted tags, in one transaction (a tagged library has many)."""
    if not items:
        return
    vocabulary.ensure_vocabulary(catalog)
    now = time.time()
    with catalog.write() as c:
        for photo_id, word in items:
            try:
                tag_id = tagging.tag_id_for_decision(c, word)
            except vocabulary.VocabularyError as exc:  # a keyword the tag rules refuse (too long): that one only
                log.warning("keyword %r of photo %d not kept as a tag: %s", word, photo_id, exc)
                continue
            c.execute("INSERT INTO photo_tags(photo_id, tag_id, score, source, rejected, updated_at) "
                      "VALUES(?, ?, NULL, 'manual', 0, ?) ON CONFLICT(photo_id, tag_id) DO UPDATE SET "
                      "source='manual', rejected=0, updated_at=excluded.updated_at WHERE source='auto'",
                      (photo_id, tag_id, now))
