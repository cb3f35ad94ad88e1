"""`photoclip search` and `photoclip similar`: ranked photos for a query or an example image.

When the app or `photoclip watch` serves the same library, the command asks it over a local socket
(``photoclip.instance``): it has the model and the vectors loaded already. The imports here stay light
for that reason: the search package is imported only when this process answers the query itself.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from photoclip import instance
from photoclip.cli._common import open_library, print_json
from photoclip.errors import PhotoClipError
from photoclip.paths import resolve_library_dir

if TYPE_CHECKING:
    from photoclip.search import Filters, SearchResult

ALL_RESULTS = 100_000  # --all with no --top: every ranked photo
_FLORES = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")  # a query language code, as the settings check it
SORTS = ("score", "newest", "oldest")


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


def _type(text: str) -> str:
    from photoclip.imaging import SUPPORTED_EXTENSIONS
    from photoclip.search.filters import normalise_type

    types = sorted({normalise_type(ext) for ext in SUPPORTED_EXTENSIONS})
    kind = normalise_type(text)
    if kind not in types:
        raise argparse.ArgumentTypeError(f"{text!r} is not a photo format PhotoClip reads ({', '.join(types)})")
    return kind


def _rating(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of stars: {text!r}") from None
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError("a rating is 1 to 5 stars")
    return value


def _language(text: str) -> str:
    if not _FLORES.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a FLORES-200 language code such as deu_Latn or jpn_Jpan")
    return text


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top", type=_top, default=None, metavar="N",
                        help="at most N results (default 50; with --all, every ranked photo)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, best first")
    parser.add_argument("--folder", metavar="F", help="only photos inside this folder or its sub-folders")
    parser.add_argument("--after", type=_date, metavar="YYYY-MM-DD", help="taken on or after this day")
    parser.add_argument("--before", type=_date, metavar="YYYY-MM-DD", help="taken on or before this day")
    parser.add_argument("--tag", action="append", default=[], metavar="T",
                        help="only photos with this tag (repeat for all of several)")
    parser.add_argument("--type", action="append", default=[], metavar="FORMAT", type=_type,
                        help="only this format: jpeg, png, heic, webp, ... (repeatable)")
    parser.add_argument("--album", metavar="NAME", help="only photos in this album")
    parser.add_argument("--favourite", "--favorite", action="store_true", help="only favourites")
    parser.add_argument("--rating", type=_rating, default=0, metavar="N",
                        help="only photos rated N stars or more (1-5)")
    parser.add_argument("--min-score", type=_score, metavar="S",
                        help="only results scoring at least S (0-1; 0.5 means clearly related; "
                             "default: the library's strictness setting, 0.3)")
    parser.add_argument("--all", action="store_true", dest="show_all",
                        help="also show the results hidden as unrelated")
    parser.add_argument("--sort", choices=SORTS, default="score",
                        help="order of the matches shown: by score (default), or by date taken")


def register(subparsers: argparse._SubParsersAction) -> None:
    search = subparsers.add_parser(
        "search", help="find photos by describing them",
        description="Find photos by describing them. Combine terms with + and -, weight them with N:, "
                    "and use image files as terms: '2:beach + sunset - people', './dog.jpg + snow'.")
    search.add_argument("query", nargs="+",
                        help="what to look for, e.g. 'a dog in the snow'; a query starting with '-' goes "
                             "after '--': search -- '-blue' --top 5")
    search.add_argument("--place", metavar="NAME", help="only photos taken there (city, region or country)")
    search.add_argument("--like", action="append", type=int, default=[], metavar="ID",
                        help="more like this photo (repeatable): ranks photos that look like it higher")
    search.add_argument("--unlike", action="append", type=int, default=[], metavar="ID",
                        help="not like this photo (repeatable): ranks photos that look like it lower")
    search.add_argument("--language", type=_language, metavar="CODE",
                        help="the query's language for models that take one (multilingual NLLB models), as a "
                             "FLORES-200 code such as deu_Latn; default: the library's query-language setting, "
                             "else from the query's script, else English")
    _add_common(search)
    search.set_defaults(handler=run_search, parser=search)
    similar = subparsers.add_parser("similar", help="find photos that look like an image",
                                    description="Find photos that look like an image file or a photo id.")
    similar.add_argument("image", help="an image file (inside the library or not), or a photo id")
    _add_common(similar)
    similar.set_defaults(handler=run_similar)


def filters_from(args: argparse.Namespace) -> Filters:
    from photoclip.search import Filters

    return Filters(folder=args.folder, after=args.after, before=args.before, tags=tuple(args.tag),
                   types=tuple(args.type), album=args.album, favourite=args.favourite, min_rating=args.rating)


def _options(args: argparse.Namespace) -> dict:
    return {"filters": filters_from(args), "top": _top_of(args), "min_score": args.min_score,
            "show_all": args.show_all}


def _top_of(args: argparse.Namespace) -> int:
    return args.top if args.top is not None else (ALL_RESULTS if args.show_all else 50)


def _split_query(args: argparse.Namespace) -> str:
    """The query words; options written after a '--' (search -- '-blue' --top 5) are parsed too."""
    words = list(args.query)
    for i, word in enumerate(words[1:], start=1):
        if word.startswith("--") and len(word) > 2:
            words, options = words[:i], words[i:]
            args.parser.parse_args([*options, "--", *words], namespace=args)
            break
    return " ".join(words)


def _ask_running(args: argparse.Namespace, request: dict[str, Any], query: str | None = None) -> bool:
    """Let the app or `photoclip watch`, when one serves this library, answer: it has the model and the
    vectors loaded already. False when none answers (the command then does the work itself)."""
    # the filters as JSON straight from the arguments: importing the search package costs more than
    # the running instance takes to answer
    filters = {"folder": args.folder, "after": args.after.isoformat() if args.after else None,
               "before": args.before.isoformat() if args.before else None, "tags": list(args.tag),
               "types": list(args.type), "album": args.album, "favourite": args.favourite,
               "min_rating": args.rating}
    request = {**request, "filters": filters, "top": _top_of(args), "min_score": args.min_score,
               "show_all": args.show_all, "sort": getattr(args, "sort", "score")}
    answer = instance.ask(resolve_library_dir(getattr(args, "library", None)), request)
    if answer is None:
        return False
    if not answer.get("ok"):
        raise PhotoClipError(str(answer.get("error") or "the running PhotoClip could not answer"))
    _show_view(answer, args, query)
    return True


def _open_for_search(args: argparse.Namespace) -> Any:
    library = open_library(args)
    library.build_graph = False  # one query, then exit: never start (or wait for) a graph build
    return library


def run_search(args: argparse.Namespace) -> int:
    query = _split_query(args)
    request = {"op": "search", "query": query, "place": args.place, "like": list(args.like),
               "unlike": list(args.unlike), "language": args.language}
    if _ask_running(args, request, query):
        return 0
    with _open_for_search(args) as library:
        where: dict = {"place": args.place} if args.place else {}
        if args.like or args.unlike:
            where.update(like=tuple(args.like), unlike=tuple(args.unlike))
        if args.language:
            where["language"] = args.language
        words_only = not getattr(library, "has_model", True)
        result = library.search(query, **where, **_options(args))
    if words_only:
        print("no CLIP model is installed: matching words only (file names, text in photos, places, tags); "
              "`photoclip models download` adds search by meaning", file=sys.stderr)
    code = _show(result, args, query)
    return 1 if words_only and not result.hits else code


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


def sort_hits(result: SearchResult, sort: str) -> None:
    """Matches by date taken for ``--sort newest|oldest``; the cut-off already chose them."""
    if sort in ("newest", "oldest"):
        result.sort_by_date(newest=sort == "newest")


def _show(result: SearchResult, args: argparse.Namespace, query: str | None = None) -> int:
    sort_hits(result, getattr(args, "sort", "score"))
    _show_view(instance.result_view(result), args, query)
    return 0


def _show_view(view: dict[str, Any], args: argparse.Namespace, query: str | None = None) -> None:
    """Print a result (from this process or from a running instance): rows, then what was left out."""
    rows = list(view.get("rows") or [])
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            why = [w for w in row.get("why") or () if not w.startswith("meaning:")]
            print(f"{row['score']:.2f}  {row['path']}" + (f"  ({'; '.join(why)})" if why else ""))
    if view.get("dates"):
        print(f"only photos {view['dates']}", file=sys.stderr)
    unknown = view.get("unknown") or ()
    if unknown and not rows:
        words = ", ".join(f"'{u}'" for u in unknown)
        print(f"no meaningful match: the model does not know {words}", file=sys.stderr)
    elif not rows:
        what = f" for '{query}'" if query else ""
        print(f"no meaningful match{what}", file=sys.stderr)
    hidden = int(view.get("hidden") or 0)
    if hidden:
        print(f"{hidden} more result(s) hidden as unrelated; --all shows them", file=sys.stderr)
