"""Query languages for NLLB-style text towers: a FLORES-200 code token before the text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from photoclip.engine.language import LANGUAGE_ENV, script_language
from photoclip.engine.tokenizer import TemplateTokenizer
from photoclip.errors import QueryError

CODES = ["eng_Latn", "deu_Latn", "jpn_Jpan", "zho_Hans", "kor_Hang", "rus_Cyrl", "ell_Grek"]


@pytest.mark.parametrize(("text", "code"), [
    ("東京の犬", "jpn_Jpan"), ("カメラ", "jpn_Jpan"), ("北京的狗", "zho_Hans"), ("서울의 개", "kor_Hang"),
    ("собака в парке", "rus_Cyrl"), ("σκύλος", "ell_Grek"), ("a dog in the park", None),
    ("Straße café été", None), ("2024 !!", None), ("a photo of 東京", None),
    ("東京タワーの夜景 night", "jpn_Jpan"),
])
def test_script_names_the_language(text: str, code: str | None) -> None:
    assert script_language(text) == code


@pytest.fixture()
def nllb_like(tmp_path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    rng = random.Random(0)
    words = ["dog", "cat", "Hund", "Katze", "東京", "犬", "собака", "парк", "σκύλος", "beach"]
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>", *CODES],
                                      unk_token="<unk>")
    tok.train_from_iterator([" ".join(rng.choices(words, k=5)) for _ in range(500)], trainer)
    tok.add_special_tokens(CODES)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path


def _first(tok: TemplateTokenizer, text: str, language: str | None = None) -> int:
    return tok.ids(text, language)[0]


def test_the_query_starts_with_its_language_token(nllb_like: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    tok = TemplateTokenizer(nllb_like, 16, pad_id=0, language_prefix=True)
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(nllb_like))
    assert _first(tok, "a dog on the beach") == vocab.token_to_id("eng_Latn")
    assert _first(tok, "東京の犬") == vocab.token_to_id("jpn_Jpan")
    assert _first(tok, "собака") == vocab.token_to_id("rus_Cyrl")
    monkeypatch.setenv(LANGUAGE_ENV, "deu_Latn")  # the user's setting wins over the default
    assert _first(tok, "Hund am Strand") == vocab.token_to_id("deu_Latn")
    # photoclip embed --language
    assert _first(tok, "Hund", "ell_Grek") == vocab.token_to_id("ell_Grek")
    with pytest.raises(QueryError, match="xxx_Nope"):
        tok.ids("dog", "xxx_Nope")


def test_models_without_a_language_token_get_none(nllb_like: Path) -> None:
    tok = TemplateTokenizer(nllb_like, 16, pad_id=0, language_prefix=False)
    language_ids = range(3, 3 + len(CODES))  # the trainer numbers special tokens first, in order
    assert tok.ids("東京の犬")[0] not in language_ids


@pytest.mark.parametrize(("explicit", "setting", "env", "text", "expected"), [
    ("ell_Grek", "deu_Latn", "rus_Cyrl", "東京の犬", "ell_Grek"),  # an explicit flag wins over everything
    (None, "deu_Latn", "rus_Cyrl", "東京の犬", "deu_Latn"),  # then the setting
    (None, "auto", "rus_Cyrl", "東京の犬", "rus_Cyrl"),  # then the environment
    (None, "auto", None, "東京の犬", "jpn_Jpan"),  # then the script
    (None, "auto", None, "a dog on the beach", "eng_Latn"),  # then English
    (None, None, None, "собака", "rus_Cyrl"),
])
def test_who_decides_the_language(nllb_like: Path, monkeypatch: pytest.MonkeyPatch, explicit: str | None,
                                  setting: str | None, env: str | None, text: str, expected: str) -> None:
    from tokenizers import Tokenizer

    from photoclip.engine.language import chosen_language

    if env is None:
        monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    else:
        monkeypatch.setenv(LANGUAGE_ENV, env)
    tok = TemplateTokenizer(nllb_like, 16, pad_id=0, language_prefix=True)
    ids = tok.ids(text, chosen_language(explicit, setting))
    assert ids[0] == Tokenizer.from_file(str(nllb_like)).token_to_id(expected)
    assert ids[-1] == tok.end_id and tok.end_id not in ids[1:-1]
