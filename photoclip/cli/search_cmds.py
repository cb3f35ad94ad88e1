"""`photoclip search` and `photoclip similar`: ranked photos for a query or an example image."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from photoclip import instance
from photoclip.cli._common import open_library, print_json
from photoclip.errors import PhotoClipError
from photoclip.paths import resolve_library_dir

if TYPE_CHECKING:
    from photoclip.search import Filters, SearchResult


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("the score is between 0 and 1 (0.5 means clearly related)")
    return value


def _top(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1 result")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top", type=_top, default=50, metavar="N", help="at most N results (default 50)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, best first")
    parser.add_argument("--folder", metavar="F", help="only photos inside this folder or its sub-folders")
    parser.add_argument("--after", type=_date, metavar="YYYY-MM-DD", help="taken on or after this day")
    parser.add_argument("--before", type=_date, metavar="YYYY-MM-DD", help="taken on or before this day")
    parser.add_argument("--tag", action="append", default=[], metavar="T",
                        help="only photos with this tag (repeat for all of several)")
    parser.add_argument("--type", action="append", default=[], metavar="FORMAT",
                        help="only this format: jpeg, png, heic, webp, ... (repeatable)")
    parser.add_argument("--album", metavar="NAME", help="only photos in this album")
    parser.add_argument("--min-score", type=_score, metavar="S",
                        help="only results scoring at least S (0-1; 0.5 means clearly related)")
    parser.add_argument("--all", action="store_true", dest="show_all",
                        help="also show results that look unrelated")


def register(subparsers: argparse._SubParsersAction) -> None:
    search = subparsers.add_parser(
        "search", help="find photos by describing them",
        description="Find photos by describing them. Combine terms with + and -, weight them with N:, "
                    "and use image files as terms: '2:beach + sunset - people', './dog.jpg + snow'.")
    search.add_argument("query", help="what to look for, e.g. 'a dog in the snow'")
    search.add_argument("--place", metavar="NAME", help="only photos taken there (city, region or country)")
    _add_common(search)
    search.set_defaults(handler=run_search)
    similar = subparsers.add_parser("similar", help="find photos that look like an image",
                                    description="Find photos that look like an image file or a photo id.")
    similar.add_argument("image", help="an image file (inside the library or not), or a photo id")
    _add_common(similar)
    similar.set_defaults(handler=run_similar)


def filters_from(args: argparse.Namespace) -> Filters:
    from photoclip.search import Filters

    return Filters(folder=args.folder, after=args.after, before=args.before, tags=tuple(args.tag),
                   types=tuple(args.type), album=args.album)


def _options(args: argparse.Namespace) -> dict:
    return {"filters": filters_from(args), "top": args.top, "min_score": args.min_score,
            "show_all": args.show_all}


def _ask_running(args: argparse.Namespace, request: dict[str, Any]) -> bool:
    """Let the app or `photoclip watch`, when one serves this library, answer: it has the model and the
    vectors loaded already. False when none answers (the command then does the work itself)."""
    # the filters as JSON straight from the arguments: importing the search package costs more than
    # the running instance takes to answer
    filters = {"folder": args.folder, "after": args.after.isoformat() if args.after else None,
               "before": args.before.isoformat() if args.before else None, "tags": list(args.tag),
               "types": list(args.type), "album": args.album}
    request = {**request, "filters": filters, "top": args.top, "min_score": args.min_score,
               "show_all": args.show_all}
    answer = instance.ask(resolve_library_dir(getattr(args, "library", None)), request)
    if answer is None:
        return False
    if not answer.get("ok"):
        raise PhotoClipError(str(answer.get("error") or "the running PhotoClip could not answer"))
    _show_rows(answer.get("rows") or [], int(answer.get("hidden") or 0), args)
    return True


def _open_for_search(args: argparse.Namespace) -> Any:
    library = open_library(args)
    library.build_graph = False  # one query, then exit: never start (or wait for) a graph build
    return library


def run_search(args: argparse.Namespace) -> int:
    if _ask_running(args, {"op": "search", "query": args.query, "place": args.place}):
        return 0
    with _open_for_search(args) as library:
        where = {"place": args.place} if args.place else {}
        result = library.search(args.query, **where, **_options(args))
    return _show(result, args)


def run_similar(args: argparse.Namespace) -> int:
    target: int | str = int(args.image) if args.image.isdigit() else args.image
    # the running instance may have another working folder: send it a path it can open
    sent = target if isinstance(target, int) or not os.path.exists(target) else os.path.abspath(target)
    if _ask_running(args, {"op": "similar", "target": sent}):
        return 0
    with _open_for_search(args) as library:
        result = library.similar(target, **_options(args))
    return _show(result, args)


def result_rows(result: SearchResult) -> list[dict]:
    return instance.result_rows(result)


def _show(result: SearchResult, args: argparse.Namespace) -> int:
    _show_rows(result_rows(result), result.hidden, args)
    return 0


def _show_rows(rows: list[dict], hidden: int, args: argparse.Namespace) -> None:
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['score']:.2f}  {row['path']}")
    if hidden:
        print(f"{hidden} more result(s) hidden as unrelated; --all shows them", file=sys.stderr)
    elif not rows:
        print("no matching photos", file=sys.stderr)
