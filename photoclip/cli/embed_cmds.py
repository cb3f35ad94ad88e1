"""`photoclip embed`: print the L2-normalised embeddings of images or texts, for scripts and checks.

Useful to compare a model with its reference implementation, or to feed PhotoClip's vectors to
another tool. Images are decoded exactly as indexing decodes them (upright, sRGB, full size).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from photoclip.errors import ModelError, PhotoClipError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("embed", help="print the embedding vectors of images or texts")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image files to embed")
    p.add_argument("--text", action="append", default=[], metavar="TEXT",
                   help="a text to embed (repeat for several)")
    p.add_argument("--model", metavar="NAME_OR_DIR",
                   help="installed model name or model folder (default: the active model)")
    p.add_argument("--language", metavar="CODE",
                   help="language of the texts for models that need one, e.g. deu_Latn (default: from the "
                        "text's script, else eng_Latn)")
    p.add_argument("--json", action="store_true", help='print [{"input": ..., "vector": [...]}, ...]')
    p.set_defaults(handler=cmd_embed)


def _load(model: str | None) -> Any:
    import warnings

    from photoclip.engine import ClipEngine, ModelStore, RandomWeightsWarning

    store = ModelStore()
    if model and Path(model).is_dir():
        folder = Path(model)
    else:
        info = store.get(model) if model else store.require_active()
        store.verify(info)
        folder = info.path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RandomWeightsWarning)
        engine = ClipEngine.load(folder, device="cpu")
    for warning in caught:
        if issubclass(warning.category, RandomWeightsWarning):
            sys.stderr.write(f"warning: {warning.message}\n")
    return engine


def cmd_embed(args: argparse.Namespace) -> int:
    if not args.images and not args.text:
        raise PhotoClipError("give image files or --text TEXT to embed")
    engine = _load(args.model)
    if args.language and not engine.takes_language:
        sys.stderr.write(f"warning: the model {engine.model_name} takes no language; --language ignored\n")
    results: list[tuple[str, list[float]]] = []
    if args.images:
        from photoclip.imaging import load_image

        for name in args.images:
            try:
                image, _meta = load_image(name)
            except (OSError, PhotoClipError) as exc:
                raise ModelError(f"cannot read {name}: {exc}") from exc
            results.append((name, engine.embed_images([image])[0].tolist()))
    for text in args.text:
        results.append((text, engine.embed_texts([text], language=args.language)[0].tolist()))
    if args.json:
        json.dump([{"input": name, "vector": vector} for name, vector in results], sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for name, vector in results:
            sys.stdout.write(f"{name}\t{' '.join(f'{v:.7g}' for v in vector)}\n")
    return 0
