"""Build ``resources/clip_tokenizer.json``: the original CLIP BPE vocabulary as a `tokenizers` file.

The engine runs tokenization with the `tokenizers` library only, so random-init and toy bundles need
a ``tokenizer.json`` that reproduces the reference CLIP tokenizer id for id. This script derives it
from ``bpe_simple_vocab_16e6.txt.gz`` shipped inside ``open_clip_torch`` (install it with
``pip install --no-deps open_clip_torch``); the output is committed, so this only reruns when the
recipe changes.

    python models/build_tokenizer.py [--bpe PATH] [--out resources/clip_tokenizer.json]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import sys
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

START = "<|startoftext|>"
END = "<|endoftext|>"
# CLIP's own split pattern (the reference compiles it case-insensitively; text is lower-cased first).
SPLIT_PATTERN = r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
N_MERGES = 49152 - 256 - 2


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte-to-printable-character table, which CLIP's vocabulary is written in."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {byte: chr(code) for byte, code in zip(printable, codes, strict=True)}


def find_bpe_file() -> Path:
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("open_clip_torch is not installed: pip install --no-deps open_clip_torch")
    return Path(next(iter(spec.submodule_search_locations))) / "bpe_simple_vocab_16e6.txt.gz"


def build(bpe_path: Path) -> Tokenizer:
    with gzip.open(bpe_path) as fh:
        lines = fh.read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : N_MERGES + 1]]
    alphabet = list(bytes_to_unicode().values())
    tokens = alphabet + [c + "</w>" for c in alphabet] + ["".join(m) for m in merges] + [START, END]
    vocab = {token: index for index, token in enumerate(tokens)}
    assert len(vocab) == 49408, len(vocab)

    tokenizer = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=[(a, b) for a, b in merges],
            unk_token=END,
            end_of_word_suffix="</w>",
            continuing_subword_prefix="",
            fuse_unk=False,
        )
    )
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([START, END])
    start_id, end_id = vocab[START], vocab[END]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{START} $A {END}",
        pair=f"{START} $A {END} $B {END}",
        special_tokens=[(START, start_id), (END, end_id)],
    )
    return tokenizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bpe", type=Path, default=None, help="bpe_simple_vocab_16e6.txt.gz")
    default_out = Path(__file__).resolve().parent.parent / "resources" / "clip_tokenizer.json"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    tokenizer = build(args.bpe or find_bpe_file())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(args.out))
    print(f"wrote {args.out} ({tokenizer.get_vocab_size()} tokens)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
