"""Token ids equal to the reference CLIP tokenizer (open_clip's copy of OpenAI's), and safe truncation."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

from photoclip import paths
from photoclip.engine.tokenizer import ClipTokenizer
from photoclip.errors import QueryError

TOKENIZER = paths.resources_dir() / "clip_tokenizer.json"

WORDS = [
    "a",
    "photo",
    "of",
    "the",
    "cat",
    "dog's",
    "isn't",
    "we'll",
    "beach",
    "sunset",
    "New",
    "YORK",
    "café",
    "naïve",
    "straße",
    "Ærøskøbing",
    "東京",
    "タワー",
    "서울",
    "Москва",
    "αβγ",
    "عربى",
    "हिन्दी",
    "ﬁne",
    "Ｆｕｌｌ",
    "x²",
    "3.14",
    "2024-05-01",
    "#hashtag",
    "@user",
    "C++",
    "rock'n'roll",
    "ǅemal",
    "İstanbul",
    "ß",
    "ﬀ",
    "Ⅻ",
    "①",
    "🐶",
    "👩‍👩‍👧",
    "🇫🇷",
    "❤️",
    "&amp;",
    "&lt;b&gt;",
    "&amp;amp;",
    "&#39;",
    "&quot;hi&quot;",
    "Ã©tÃ©",
    "â€œquotedâ€\x9d",
    "tab\there",
    "new\nline",
    "...",
    "!!!",
    "--",
    "_under_",
    "e\u0301",
    "Z\u0308",
]


@pytest.fixture(scope="module")
def reference():
    """The reference tokenizer (loads torch, so built once per module)."""
    pytest.importorskip("torch")
    pytest.importorskip("ftfy")
    pytest.importorskip("regex")
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("open_clip_torch is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.py"
    module_spec = importlib.util.spec_from_file_location("_reference_clip_tokenizer", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.SimpleTokenizer()


def _strings(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            words = rng.choices(WORDS, k=rng.randint(1, 8))
        elif kind == 1:  # random code points from several scripts
            words = [
                "".join(
                    chr(
                        rng.choice(
                            [
                                rng.randint(0x20, 0x7E),
                                rng.randint(0xA0, 0x24F),
                                rng.randint(0x370, 0x3FF),
                                rng.randint(0x4E00, 0x4FFF),
                                rng.randint(0x1F300, 0x1F64F),
                                rng.randint(0xFF01, 0xFF5E),
                            ]
                        )
                    )
                    for _ in range(rng.randint(1, 12))
                )
            ]
        elif kind == 2:  # long captions that must be truncated
            words = rng.choices(WORDS, k=rng.randint(60, 120))
        elif kind == 3:  # odd spacing
            words = [rng.choice(["  ", "\t", "\u00a0", "\u3000", " \n "]).join(rng.choices(WORDS, k=3))]
        elif kind == 4:  # digits and punctuation runs
            words = [str(rng.randint(0, 10**9)), rng.choice(["!?", "...", "--", "'s", "'S"]), rng.choice(WORDS)]
        else:
            words = [rng.choice(WORDS).upper(), rng.choice(WORDS).title(), rng.choice(WORDS)]
        out.append(" ".join(words))
    return out


@pytest.mark.torch
@pytest.mark.parametrize(
    "count", [pytest.param(300, id="quick"), pytest.param(3000, id="thorough", marks=pytest.mark.slow)]
)
def test_ids_match_reference_tokenizer(reference, count: int) -> None:
    ours = ClipTokenizer(TOKENIZER, 77)
    strings = _strings(count, seed=count)
    mismatches = []
    for text in strings:
        try:
            mine = ours.ids(text)
        except QueryError:
            mine = None
        ref = reference([text], context_length=77)[0].numpy()
        ref_ids = ref[: int(np.flatnonzero(ref == reference.eot_token_id)[0]) + 1].tolist()
        if mine is None:
            assert ref_ids == [reference.sot_token_id, reference.eot_token_id], text
        elif mine != ref_ids:
            mismatches.append(text)
    assert mismatches == []
    assert ours.start_id == reference.sot_token_id and ours.end_id == reference.eot_token_id


def test_truncation_keeps_the_end_token() -> None:
    tok = ClipTokenizer(TOKENIZER, 16)
    ids = tok.ids("word " * 100)
    assert len(ids) == 16 and ids[0] == tok.start_id and ids[-1] == tok.end_id
    assert tok.end_id not in ids[1:-1]
    batch = tok.encode(["a dog", "word " * 100])
    assert batch.shape == (2, 16) and batch.dtype == np.int64
    assert batch[0, 3] == tok.end_id and not batch[0, 4:].any()


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u3000\u00a0"])
def test_empty_text_is_a_query_error(text: str) -> None:
    tok = ClipTokenizer(TOKENIZER, 77)
    with pytest.raises(QueryError, match="empty"):
        tok.ids(text)


def test_cleaning_matches_reference_rules() -> None:
    tok = ClipTokenizer(TOKENIZER, 77)
    assert tok.ids("A  Dog") == tok.ids("a dog")
    assert tok.ids("&amp;amp;") == tok.ids("&")


def test_plain_ascii_is_cleaned_without_loading_ftfy() -> None:
    """A one-shot CLI search of an everyday query does not pay for importing ftfy; other text still gets it."""
    import subprocess
    import sys

    code = ("import sys; from photoclip.engine.tokenizer import clean_text; "
            "a = clean_text('A dog  on the beach!'); plain = 'ftfy' in sys.modules; "
            "b = clean_text('caf\\u00c3\\u00a9 &amp;amp; co'); print(plain, 'ftfy' in sys.modules, a, '|', b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "True"]
    assert " ".join(out[2:]) == "a dog on the beach! | café & co"  # mojibake repaired, entities unescaped
