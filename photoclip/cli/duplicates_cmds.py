"""`photoclip duplicates`: groups of copies and of similar shots, each with the photo to keep and why.

Only lists: no command deletes or moves anything. Removing copies is done in the app, through the
platform's trash, after a confirmation and with undo.
"""

from __future__ import annotations

import argparse
import sys

from photoclip.cli._common import TqdmSink, cancel_on_interrupt, open_library, print_json
from photoclip.organize.duplicates import KINDS

LABELS = {"identical": "identical files", "same": "same picture", "similar": "similar shots"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("duplicates", help="copies of one photo and similar shots, with the one to keep")
    p.add_argument("--kind", choices=KINDS, help="only groups of this kind")
    p.add_argument("--folder", metavar="F", help="only groups with a photo inside this folder")
    p.add_argument("--json", action="store_true", help="print JSON: a list of {kind, keep, photos}")
    p.add_argument("--full", action="store_true", help="compare the whole library afresh")
    p.set_defaults(handler=cmd_duplicates)


def cmd_duplicates(args: argparse.Namespace) -> int:
    sink = TqdmSink()
    with open_library(args) as library, cancel_on_interrupt() as token:
        try:
            skipped = library.update_duplicates(progress=sink, cancel=token, full=args.full)
        finally:
            sink.close()
        groups = library.duplicate_groups(args.kind, args.folder)
    for s in skipped:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    if token.cancelled:
        print("stopped early: the groups below may be incomplete", file=sys.stderr)
    if args.json:
        print_json([g.as_json() for g in groups])
        return 0
    if not groups:
        print("no duplicates found")
        return 0
    for g in groups:
        print(f"{LABELS[g.kind]} ({len(g.members)} photos)")
        for m in g.members:
            mark = "keep" if m.id == g.keep.id else "    "
            print(f"  {mark}  {m.path}  [{m.reason}]")
    counts = {k: sum(1 for g in groups if g.kind == k) for k in KINDS}
    print(", ".join(f"{n} {LABELS[k]}" for k, n in counts.items() if n), file=sys.stderr)
    return 0
