"""Token ids of the multilingual families equal the reference on thousands of strings.

XLM-RoBERTa-style and NLLB-style tokenizer folders are built by transformers' own tokenizer classes
(tests/engine/replica_tokenizers.py) and described as Immich model folders describe them; PhotoClip
reads the folder the way it reads a downloaded model. The reference is open_clip's HFTokenizer on the
same folder (the text pipeline these models were trained with: cleaning, then transformers'
XLMRobertaTokenizerFast / NllbTokenizerFast padded and truncated to the context), with the source
language set for NLLB through the tokenizer's ``src_lang`` (transformers 5 puts it back before each
call, so open_clip's ``set_language`` no longer changes it).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from photoclip.engine.bundle import read_bundle
from photoclip.engine.language import LANGUAGE_ENV, script_language
from photoclip.engine.tokenizer import TemplateTokenizer, clean_text, text_tokenizer
from photoclip.errors import QueryError
from tests.engine import export_stack
from tests.engine.replica_tokenizers import (
    NLLB_CODES,
    NLLB_CONTEXT,
    XLMR_CONTEXT,
    corpus,
    nllb_tokenizer,
    xlm_roberta_tokenizer,
)
from tests.engine.test_tokenizer import _strings

pytestmark = pytest.mark.torch
export_stack.require("transformers")


def _texts(n: int, seed: int) -> list[str]:
    """Mixed scripts, accents, emoji, HTML entities, whitespace runs, and texts past the context."""
    rng = random.Random(seed)
    sentences = corpus(400, seed=seed + 1)
    out = _strings(n // 2, seed=seed)
    while len(out) < n:
        kind = rng.randrange(4)
        if kind == 0:
            out.append(rng.choice(sentences))
        elif kind == 1:  # whitespace runs of every kind between words
            gaps = ["  ", "   ", "\t", "\n\n", "\u00a0", "\u3000", " \u2009 "]
            out.append("".join(w + rng.choice(gaps) for w in rng.choice(sentences).split()))
        elif kind == 2:  # far past the context
            out.append(" ".join(rng.choices(sentences, k=rng.randint(15, 40))))
        else:
            out.append(rng.choice(sentences).upper() + " " + rng.choice(sentences).title())
    return out


def _immich_folder(base: Path, tokenizer: Path, context: int, hf_name: str) -> Path:
    """The description around a tokenizer, as in an Immich folder (the towers are not opened here)."""
    folder = base / "model"
    (folder / "visual").mkdir(parents=True)
    (folder / "textual").mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / "textual" / name).write_bytes((tokenizer.parent / name).read_bytes())
    (folder / "visual" / "model.onnx").write_bytes(b"not opened")
    (folder / "textual" / "model.onnx").write_bytes(b"not opened")
    (folder / "visual" / "preprocess_cfg.json").write_text(json.dumps({"size": [64, 64], "mean": [0.5] * 3,
                                                                      "std": [0.5] * 3}))
    (folder / "config.json").write_text(json.dumps({"embed_dim": 32, "vision_cfg": {"image_size": 64}, "text_cfg": {
        "hf_model_name": hf_name, "hf_tokenizer_name": hf_name, "context_length": context}}))
    return folder


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from open_clip.tokenizer import HFTokenizer
    from transformers import NllbTokenizerFast, XLMRobertaTokenizerFast

    base = tmp_path_factory.mktemp("multilingual")
    xlmr = xlm_roberta_tokenizer(base / "xlmr-tok")
    nllb = nllb_tokenizer(base / "nllb-tok")
    out = {}
    for name, path, context, hf_name, cls in (
            ("xlmr", xlmr, XLMR_CONTEXT, "xlm-roberta-large", XLMRobertaTokenizerFast),
            ("nllb", nllb, NLLB_CONTEXT, "facebook/nllb-200-distilled-600M", NllbTokenizerFast)):
        info = read_bundle(_immich_folder(base / name, path, context, hf_name))
        reference = HFTokenizer(str(path.parent), context_length=context, clean="whitespace")
        assert isinstance(reference.tokenizer, cls)
        out[name] = (text_tokenizer(info), reference, info)
    return out


def _compare(ours: TemplateTokenizer, reference, texts: list[str], language: str | None = None) -> int:
    expected = reference(texts).numpy()
    mismatches, compared = [], 0
    for text, want in zip(texts, expected, strict=True):
        try:
            got = ours.encode([text], language=language)[0]
        except QueryError:  # nothing left after cleaning: PhotoClip refuses the query
            assert not clean_text(text, ours.clean), text
            continue
        compared += 1
        if not np.array_equal(got, want):
            mismatches.append((text, got.tolist(), want.tolist()))
    assert mismatches == [], mismatches[:3]
    return compared


def test_xlm_roberta_ids_match_transformers(families: dict) -> None:
    ours, reference, info = families["xlmr"]
    assert (info.tokenizer_kind, info.text_clean, info.pad_to_context, info.language_prefix) == \
        ("template", "whitespace", True, False)
    assert info.pad_id == reference.tokenizer.pad_token_id == 1
    texts = _texts(3000, seed=1)
    assert _compare(ours, reference, texts) > 2900
    long = ours.encode([texts[-1] * 5])[0]
    assert len(long) == XLMR_CONTEXT and long[0] == 0 and long[-1] == 2  # <s> ... </s>, cut to fit


def test_nllb_ids_match_transformers_in_each_language(families: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, reference, info = families["nllb"]
    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    assert info.language_prefix and info.pad_id == reference.tokenizer.pad_token_id
    # The folder was saved with English as the source language; the query's own language must win.
    assert "eng_Latn" in json.dumps(json.loads(info.tokenizer.read_text())["post_processor"])
    texts = _texts(2600, seed=2)
    rng = random.Random(5)
    by_code: dict[str, list[str]] = {}
    for text in texts:
        by_code.setdefault(rng.choice(NLLB_CODES), []).append(text)
    compared = 0
    for code, group in by_code.items():
        reference.tokenizer.src_lang = code
        compared += _compare(ours, reference, group, language=code)
    assert compared > 2500 and len(by_code) == len(NLLB_CODES)
    # Automatic: the code the query's script names, English for Latin letters.
    sample = [t for t in texts[:400] if clean_text(t, ours.clean)]
    for text in sample:
        code = script_language(clean_text(text, ours.clean)) or "eng_Latn"
        reference.tokenizer.src_lang = code
        assert ours.encode([text])[0].tolist() == reference([text])[0].tolist(), text
