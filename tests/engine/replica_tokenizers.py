"""Test generators: multilingual tokenizer folders in the layout their models publish them.

XLM-RoBERTa (``immich-app/XLM-Roberta-*``: ``textual/tokenizer.json`` + ``tokenizer_config.json`` +
``special_tokens_map.json``) is a SentencePiece Unigram model with ``<s>``/``<pad>``/``</s>``/``<unk>``
and ``<s> text </s>`` around every text; NLLB (``nllb-clip-*``) a SentencePiece BPE model whose texts
are ``[language code] text </s>``, the FLORES-200 codes being special tokens after the vocabulary.

The vocabularies are trained here on a generated multilingual corpus with the ``tokenizers`` library;
transformers' own tokenizer classes (``XLMRobertaTokenizerFast``, ``NllbTokenizerFast``) then build
the rest of each tokenizer (pre-tokenizer, special tokens, post-processor) and save it with
``save_pretrained``, as the published folders were made. The published files also carry
SentencePiece's precompiled normalization map, which only a SentencePiece-trained model has; these
have none, and transformers 5 rebuilds a loaded tokenizer's normalizer from that map alone.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

XLMR_CONTEXT = 77
NLLB_CONTEXT = 64
NLLB_CODES = ("eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn", "ita_Latn", "por_Latn", "nld_Latn", "pol_Latn",
              "tur_Latn", "vie_Latn", "rus_Cyrl", "ukr_Cyrl", "ell_Grek", "heb_Hebr", "arb_Arab", "hin_Deva",
              "ben_Beng", "tha_Thai", "jpn_Jpan", "kor_Hang", "zho_Hans", "zho_Hant", "kat_Geor", "hye_Armn",
              "amh_Ethi", "tam_Taml")

# Words of several languages and scripts, with accents, combining marks and emoji.
WORDS = (
    "a dog on the beach at sunset", "ein Hund läuft über die Straße", "un chien à la plage, l'été",
    "un perro en la playa con niños", "il gatto è sul divano", "um cão na praia ao pôr do sol",
    "een hond in het park", "pies na plaży", "sahilde bir köpek", "một con chó trên bãi biển",
    "собака на пляже", "кіт на дивані", "ένας σκύλος στην παραλία", "כלב על החוף", "كلب على الشاطئ",
    "समुद्र तट पर एक कुत्ता", "সমুদ্র সৈকতে একটি কুকুর", "สุนัขบนชายหาด", "浜辺の犬と夕焼け", "東京タワーの夜景",
    "해변의 개", "海滩上的狗", "海灘上的狗", "ძაღლი სანაპიროზე", "շուն լողափին", "ውሻ በባህር ዳርቻ",
    "கடற்கரையில் ஒரு நாய்", "café crème", "naïve façade", "Ærøskøbing", "İstanbul", "ǅemal", "e\u0301te\u0301",
    "🐶", "🌅🏖️", "👩‍👩‍👧", "🇫🇷", "❤️", "Ｆｕｌｌ ｗｉｄｔｈ", "ﬁne ﬂower", "x² ½ Ⅻ ①", "3.14 2024-05-01",
    "#hashtag @user C++ rock'n'roll", "&amp; &lt;b&gt; &quot;hi&quot;",
)


SCRIPTS = ((0x41, 0x7A), (0xC0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF),
           (0x900, 0x97F), (0xE00, 0xE7F), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
           (0x1F300, 0x1F64F))


def corpus(n: int = 6000, seed: int = 0) -> list[str]:
    """Sentences made of the words above, their parts, their upper-case forms and made-up words of
    random letters from a dozen scripts (so the vocabulary is not only those words)."""
    rng = random.Random(seed)
    pieces = [w for phrase in WORDS for w in phrase.split()] + list(WORDS)
    out = []
    for _ in range(n):
        words = rng.choices(pieces, k=rng.randint(1, 12))
        if rng.random() < 0.5:
            lo, hi = rng.choice(SCRIPTS)
            words.append("".join(chr(rng.randint(lo, min(hi, lo + 40))) for _ in range(rng.randint(2, 6))))
        out.append(" ".join(w.upper() if rng.random() < 0.1 else w for w in words))
    return out


def _trained(kind: str, texts: list[str], vocab_size: int) -> Any:
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

    specials = ["<s>", "<pad>", "</s>", "<unk>"]  # fairseq's order: ids 0-3 in both families
    if kind == "unigram":
        tok = Tokenizer(models.Unigram())
        trainer: Any = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>")
    else:
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials)
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.train_from_iterator(texts, trainer)
    return tok


def _finish(folder: Path, hf: Any, context: int) -> Path:
    hf.model_max_length = context
    hf.save_pretrained(str(folder))
    special = folder / "special_tokens_map.json"
    if not special.is_file():  # transformers 5 keeps these in tokenizer_config.json only
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        names = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
        special.write_text(json.dumps({k: config[k] for k in names if k in config}, indent=2), encoding="utf-8")
    return folder / "tokenizer.json"


def xlm_roberta_tokenizer(folder: Path, texts: list[str] | None = None, vocab_size: int = 3000) -> Path:
    """An XLM-RoBERTa-style tokenizer folder (SentencePiece Unigram, ``<s> text </s>``, pad ``<pad>``)."""
    from transformers import XLMRobertaTokenizerFast

    trained = _trained("unigram", texts or corpus(), vocab_size)
    pieces = [(str(p), float(s)) for p, s in json.loads(trained.to_str())["model"]["vocab"]]
    hf = XLMRobertaTokenizerFast(vocab=pieces)
    folder.mkdir(parents=True, exist_ok=True)
    return _finish(folder, hf, XLMR_CONTEXT)


def nllb_tokenizer(folder: Path, texts: list[str] | None = None, vocab_size: int = 3000,
                   codes: tuple[str, ...] = NLLB_CODES) -> Path:
    """An NLLB-style tokenizer folder (SentencePiece BPE, ``[code] text </s>``, codes as special tokens).

    Saved with English as the source language, as the published NLLB tokenizer is."""
    from transformers import NllbTokenizerFast

    trained = _trained("bpe", texts or corpus(), vocab_size)
    model = json.loads(trained.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(str(m).split(" ")) for m in model["merges"]]
    hf = NllbTokenizerFast(vocab=model["vocab"], merges=merges, src_lang="eng_Latn",
                           additional_special_tokens=list(codes))
    folder.mkdir(parents=True, exist_ok=True)
    return _finish(folder, hf, NLLB_CONTEXT)
