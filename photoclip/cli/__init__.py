"""The `photoclip` command: the GUI with no arguments, scripting commands otherwise.

Each command group lives in its own module with a ``register(subparsers)`` function. Errors the
core raises on purpose are printed as one line on stderr with a non-zero exit code; a traceback is
shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sqlite3
import sys
import warnings
from collections.abc import Sequence

from photoclip import __version__
from photoclip.errors import PhotoClipError
from photoclip.store.pathtext import show_on_console

# Command modules, in the order their commands appear in --help.
COMMAND_MODULES = ("library_cmds", "search_cmds", "watch_cmds", "models", "embed_cmds", "tags_cmds", "albums_cmds",
                   "duplicates_cmds")
# Which module registers a command, so one command imports only what it runs (a command not listed
# here imports every module, as --help does).
COMMAND_MODULE_OF = {"index": "library_cmds", "status": "library_cmds", "info": "library_cmds",
                     "folders": "library_cmds", "search": "search_cmds", "similar": "search_cmds",
                     "watch": "watch_cmds", "models": "models", "embed": "embed_cmds", "tags": "tags_cmds",
                     "albums": "albums_cmds", "duplicates": "duplicates_cmds", "gui": None}
_GLOBAL_WITH_VALUE = ("--library",)


def modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The command modules a command line needs: its command's only, none for ``--version``."""
    if argv is None:
        return COMMAND_MODULES
    args = list(argv)
    i = 0
    while i < len(args):
        token = args[i]
        if token in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if token.startswith("-"):
            if token in ("-h", "--help"):
                return COMMAND_MODULES
            if token == "--version":
                return ()
            i += 1
            continue
        if token in COMMAND_MODULE_OF:
            module = COMMAND_MODULE_OF[token]
            return (module,) if module else ()
        return COMMAND_MODULES  # unknown: let argparse list every command
    return ()  # no command: the app


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photoclip",
        description="Search your own photo folders by meaning, offline. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"photoclip {__version__}")
    parser.add_argument("--library", metavar="DIR",
                        help="library folder (default: $PHOTOCLIP_LIBRARY, else the user data folder)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.set_defaults(handler=run_gui)
    for name in modules:
        try:
            module = importlib.import_module(f"photoclip.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"photoclip.cli.{name}":
                continue  # a command group not present in this build
            raise
        module.register(sub)
    return parser


def run_gui(args: argparse.Namespace) -> int:
    try:
        from photoclip.gui.app import run
    except ImportError as exc:
        raise PhotoClipError(f"the desktop app cannot start: {exc}; is PySide6 installed?") from exc
    return run(library_dir=args.library)


def main(argv: Sequence[str] | None = None) -> int:
    show_on_console()  # a file name that is not UTF-8 prints with U+FFFD instead of stopping the command
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(modules_for(argv))
    args, extra = parser.parse_known_args(argv)
    if extra:  # an unknown option: show the usage of the command it was given to, not the top level's
        sub = next((a for a in parser._subparsers._group_actions if a.dest == "command"), None) \
            if parser._subparsers is not None else None
        command = sub.choices.get(args.command) if sub is not None and args.command else None
        (command or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    # The engine logs a random-weights model once; its Python warning would repeat it with a source line.
    warnings.filterwarnings("ignore", message=".*has RANDOM weights.*")
    handler = getattr(args, "handler", None) or run_gui
    try:
        return int(handler(args) or 0)
    except PhotoClipError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except sqlite3.DatabaseError as exc:
        if args.debug:
            raise
        print(f"error: the catalog is damaged ({exc}); your photos are untouched: run `photoclip index "
              "--rebuild` to read the library again from them", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 2
