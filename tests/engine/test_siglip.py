"""SigLIP-style models: fixed 64-token text padded with the pad id, SentencePiece tokenizers, canonical
cleaning, squash resizing, mean/std 0.5, and the model's own logit scale and bias.

The replica is an open_clip model with SigLIP's text settings (no causal mask, the last position
pooled, so padding changes the result) and a T5-style SentencePiece tokenizer trained here, exported
in Immich's layout. The reference is open_clip in PyTorch with its HFTokenizer (transformers
underneath) on the same tokenizer folder.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.engine import export_stack
from tests.engine.test_tokenizer import WORDS, _strings

pytestmark = pytest.mark.torch
export_stack.require("transformers", "onnxruntime")

CAPTIONS = [
    "A dog, on the Beach!",
    "Ein Hund läuft über die Straße — café, 東京の犬 garçon_été",
    "a long caption " + " ".join(f"word{i}" for i in range(90)),
]


@pytest.fixture(scope="module")
def siglip(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from photoclip.engine import ClipEngine, ModelStore
    from tests.engine.replicas import (
        build_siglip_like,
        export_siglip_like,
        reference_hf_tokenizer,
        sentencepiece_tokenizer,
    )

    base = tmp_path_factory.mktemp("siglip")
    rng = random.Random(3)
    extra = ["Hund", "Straße", "café", "東京", "犬", "été", "garçon", "word"]
    corpus = [" ".join(rng.choices(WORDS + extra, k=rng.randint(2, 14))) for _ in range(4000)]
    corpus += [f"word{i}" for i in range(100)]
    tokenizer_dir = base / "tokenizer"
    sentencepiece_tokenizer(tokenizer_dir, corpus)
    model, config = build_siglip_like(tokenizer_dir, seed=5)
    folder = export_siglip_like(model, config, tokenizer_dir, base / "siglip-like")
    info = ModelStore(base / "models").install_from_dir(folder, "siglip-like")
    with pytest.warns(UserWarning, match="RANDOM"):
        engine = ClipEngine.load(info.path, device="cpu")
    return {"model": model, "engine": engine, "reference": reference_hf_tokenizer(tokenizer_dir), "info": info}


def test_installed_manifest_keeps_the_siglip_handling(siglip: dict) -> None:
    info = siglip["info"]
    assert (info.tokenizer_kind, info.text_clean, info.pad_to_context) == ("template", "canonicalize", True)
    assert (info.resize_mode, info.mean, info.std) == ("squash", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    engine = siglip["engine"]
    assert engine.logit_scale == pytest.approx(float(siglip["model"].logit_scale.exp()), rel=1e-6)
    assert engine.logit_bias == pytest.approx(float(siglip["model"].logit_bias), rel=1e-6)


def test_token_ids_match_the_reference_on_thousands_of_strings(siglip: dict) -> None:
    texts = [t for t in _strings(2000, seed=9) + CAPTIONS if t.strip()]
    reference = siglip["reference"]
    ours = siglip["engine"].tokenizer
    mismatches = []
    for text in texts:
        expected = reference([text])[0].tolist()
        try:
            got = ours.encode([text])[0].tolist()
        except Exception as exc:  # an empty text after cleaning is a query error on our side only
            if all(i == ours.pad_id for i in expected[1:]):
                continue
            raise AssertionError(f"{text!r}: {exc}") from exc
        if got != expected:
            mismatches.append(text)
    assert len(texts) > 1900
    assert mismatches == [], mismatches[:5]


def test_embeddings_match_pytorch_and_padding_matters(siglip: dict, tmp_path: Path) -> None:
    import torch

    engine = siglip["engine"]
    model = siglip["model"]
    rng = np.random.default_rng(4)
    images = [Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)) for w, h in [(64, 64), (120, 50)]]

    def squash(im: Image.Image) -> np.ndarray:  # SigLIP's preprocessing, written from its description
        arr = np.asarray(im.resize((64, 64), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
        return ((arr - 0.5) / 0.5).transpose(2, 0, 1)

    with torch.no_grad():
        ref_img = model.encode_image(torch.from_numpy(np.stack([squash(im) for im in images])), normalize=True)
        ref_txt = model.encode_text(siglip["reference"](CAPTIONS), normalize=True)
    got_img = engine.embed_images(images)
    got_txt = engine.embed_texts(CAPTIONS)
    single = engine.embed_texts([CAPTIONS[0]])  # the query path, one text on its own
    for got, ref in ((got_img, ref_img.numpy()), (got_txt, ref_txt.numpy()), (single, ref_txt.numpy()[:1])):
        assert (got * ref).sum(axis=1).min() >= 0.999
    # Padding with anything but the pad id gives another vector: the tower sees every position.
    ids = engine.tokenize([CAPTIONS[0]])
    wrong = np.where(ids == engine.tokenizer.pad_id, 0 if engine.tokenizer.pad_id else 1, ids)
    assert float((engine._run_text(wrong)[0] * single[0]).sum()) < 0.999
