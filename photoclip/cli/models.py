"""`photoclip models ...`: list, download, import, export, remove and choose CLIP model bundles."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from photoclip.errors import ModelError

_PER_USER = ("Validate a model folder and install a copy of it. Models are installed per user, not per library: "
             "they go to {where} (set PHOTOCLIP_MODELS to choose another folder) and every library of this user "
             "can use them, so --library does not apply here; --use makes the model the active one for this user.")


def _models_home() -> str:
    from photoclip.paths import models_dir

    try:
        return str(models_dir())
    except Exception:  # help must print even where the user's data folder cannot be found
        return "the user's PhotoClip data folder"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("models", help="manage CLIP models (list, download, import, export, use)")
    parser.set_defaults(handler=lambda args: _usage(parser))
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")

    p = sub.add_parser("list", help="installed models and the devices they can run on")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--verify", action="store_true", help="re-read every model file and check its sha256")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("download", help="download a known model (default: openclip-vit-b32)")
    p.add_argument("name", nargs="?", default=None, help="model name from the catalogue (see --known)")
    p.add_argument("--known", action="store_true", help="list the downloadable models and exit")
    p.add_argument("--force", action="store_true", help="replace the model if it is already installed")
    p.add_argument("--catalogue", type=Path, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_download)

    p = sub.add_parser(
        "import", help="validate and install a model folder (PhotoClip or Hugging Face ONNX layout)",
        description=_PER_USER.format(where=_models_home()))
    p.add_argument("dir", type=Path)
    p.add_argument("--name", help="name to install it under (default: the folder's or manifest's name)")
    p.add_argument(
        "--variant",
        default="auto",
        choices=["auto", "fp32", "int8", "uint8", "fp16"],
        help="which ONNX files of a Hugging Face folder to use (default: fp32 if present)",
    )
    p.add_argument("--force", action="store_true", help="replace a model of the same name")
    p.add_argument("--use", action="store_true", help="make it the active model")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export", help="export a transformers CLIP checkpoint to a bundle (needs photoclip[export])")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-transformers", metavar="ID_OR_PATH", help="checkpoint folder or hub model id")
    src.add_argument("--arch", choices=["vit-b-32", "tiny"], help="architecture for --random-init")
    p.add_argument("--random-init", action="store_true", help="random weights (tests and benchmarks only)")
    p.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    p.add_argument("--name", help="model name recorded in the bundle")
    p.add_argument("--tokenizer", type=Path, default=None, help="tokenizer.json to ship (default: checkpoint's)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--int8", action="store_true", help="dynamic int8 quantization (fast on CPUs)")
    precision.add_argument("--fp16", action="store_true", help="half precision (for GPUs)")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-init")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--install", action="store_true", help="also install the bundle in the model store")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("remove", help="delete an installed model")
    p.add_argument("name")
    p.set_defaults(handler=cmd_remove)

    p = sub.add_parser("use", help="make an installed model the active one")
    p.add_argument("name")
    p.set_defaults(handler=cmd_use)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _store() -> Any:
    from photoclip.engine import ModelStore

    store = ModelStore()
    store.cleanup()  # an install killed midway left its temporary folder behind
    return store


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def cmd_list(args: argparse.Namespace) -> int:
    from photoclip.engine import available_devices

    store = _store()
    models = store.list()
    active = store.active()
    devices = available_devices()
    problems: dict[str, str] = {}
    if getattr(args, "verify", False):
        for m in models:
            try:
                store.verify(m, full=True)
            except ModelError as exc:
                problems[m.name] = str(exc)
    if getattr(args, "json", False):
        data = {
            "active": active.name if active else None,
            "models": [
                {k: v for k, v in m.as_dict().items() if k not in ("extra_files", "files")}
                | ({"verified": m.name not in problems, "problem": problems.get(m.name)} if args.verify else {})
                for m in models
            ],
            "devices": devices,
        }
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 1 if problems else 0
    if not models:
        _say("no models installed: run 'photoclip models download' or 'photoclip models import DIR'")
    for m in models:
        mark = "*" if active and m.name == active.name else " "
        random = "  RANDOM WEIGHTS (tests only)" if m.random else ""
        check = ("  DAMAGED" if m.name in problems else "  verified") if args.verify else ""
        _say(f"{mark} {m.name:24} dim {m.dim:<5} {m.image_size} px  {m.precision:5} {m.source}{random}{check}")
    for problem in problems.values():
        sys.stderr.write(f"error: {problem}\n")
    providers = ", ".join(devices["providers"]) or "none"
    _say(
        f"runtime: {devices['runtime'] or 'missing'} {devices['version'] or ''}  providers: {providers}  "
        f"cores: {devices['physical_cores']}"
    )
    if devices.get("problem"):
        _say(f"warning: {devices['problem']}")
    return 1 if problems else 0


def _progress_bar() -> Any:
    """A tqdm bar in bytes on stderr, fed by the download's progress sink."""
    from tqdm import tqdm

    bar = tqdm(
        total=None,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    )

    def sink(progress: Any) -> None:
        if progress.total is not None:
            bar.total = progress.total
        bar.n = progress.done
        bar.set_description(progress.current or progress.phase, refresh=False)
        bar.refresh()

    return bar, sink


def cmd_download(args: argparse.Namespace) -> int:
    from photoclip.engine.download import download_model, load_catalogue

    default, entries = load_catalogue(args.catalogue)
    if args.known:
        for name, entry in entries.items():
            size = f"{entry.size_mb} MB" if entry.size_mb else "size not known"
            _say(f"{name:20} {entry.label}{'  (default)' if name == default else ''}: {entry.description}")
            _say(f"{'':20}   {size}; licence {entry.licence}; languages: {entry.languages}")
            _say(f"{'':20}   recall: {entry.recall}; speed: {entry.speed}")
        return 0
    bar, sink = _progress_bar()
    try:
        info = download_model(
            args.name or default, _store(), catalogue=args.catalogue, sink=sink, replace_existing=args.force
        )
    finally:
        bar.close()
    _say(f"installed {info.name} ({info.dim}-d, {info.precision}) in {info.path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    store = _store()
    info = store.install_from_dir(args.dir, args.name, variant=args.variant, replace_existing=args.force)
    if args.use:
        store.set_active(info.name)
    active = store.active()
    _say(
        f"installed {info.name} ({info.dim}-d, {info.image_size} px, {info.precision}) in {info.path}"
        + (" [active]" if active and active.name == info.name else "")
    )
    if info.random:
        _say("warning: this model has RANDOM weights; search results will be meaningless")
    if active and active.name == info.name:
        _say("photos already in a library are embedded with it by the next `photoclip index` (or the app)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from photoclip.engine import export

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's tracer warnings are about its internals, not the user's model
        if args.from_transformers:
            if args.random_init:
                raise ModelError("--random-init goes with --arch, not with --from-transformers.")
            report = export.export_from_transformers(
                args.from_transformers,
                args.out,
                name=args.name,
                tokenizer=args.tokenizer,
                int8=args.int8,
                fp16=args.fp16,
                force=args.force,
            )
        else:
            if not args.random_init:
                raise ModelError("--arch builds random weights only: add --random-init (tests and benchmarks).")
            report = export.export_random(
                args.arch,
                args.out,
                seed=args.seed,
                name=args.name,
                int8=args.int8,
                fp16=args.fp16,
                force=args.force,
            )
    for line in report.lines():
        _say(line)
    if report.info.random:
        _say("warning: RANDOM weights: use this bundle for tests and benchmarks only")
    if args.install:
        info = _store().install_from_dir(args.out, replace_existing=args.force)
        _say(f"installed {info.name} in {info.path}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    _store().remove(args.name)
    _say(f"removed {args.name}")
    return 0


def cmd_use(args: argparse.Namespace) -> int:
    info = _store().set_active(args.name)
    _say(f"active model: {info.name}")
    if info.random:
        _say("warning: this model has RANDOM weights; search results will be meaningless")
    _say("photos already in a library are embedded with it by the next `photoclip index` (or the app)")
    return 0
