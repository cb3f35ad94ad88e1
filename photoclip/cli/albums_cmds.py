"""`photoclip albums`: list, create (manual or smart), show, export and delete albums."""

from __future__ import annotations

import argparse
import sys

from photoclip.cli._common import TqdmSink, cancel_on_interrupt, open_library, print_json
from photoclip.errors import PhotoClipError
from photoclip.organize import albumexport, albums


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("albums", help="manual and smart albums, and exporting them")
    act = parser.add_subparsers(dest="albums_command", metavar="ACTION", required=True)

    p = act.add_parser("list", help="albums with their photo counts")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = act.add_parser("create", help="a smart album with --query/--tag, else a manual one")
    p.add_argument("name")
    p.add_argument("--query", metavar="Q", help="text query photos must match")
    p.add_argument("--tag", action="append", default=[], metavar="T", help="required tag (repeatable)")
    p.add_argument("--threshold", type=float, metavar="S",
                   help=f"minimum search score 0-1 (default {albums.DEFAULT_THRESHOLD})")
    p.set_defaults(handler=cmd_create)

    p = act.add_parser("edit", help="change a smart album's rule (pinned and excluded photos stay)")
    p.add_argument("name")
    p.add_argument("--query", metavar="Q", help="text query photos must match (replaces the old one)")
    p.add_argument("--tag", action="append", default=None, metavar="T", help="required tag (repeatable)")
    p.add_argument("--threshold", type=float, metavar="S", help="minimum search score 0-1")
    p.add_argument("--preview", action="store_true",
                   help="only say how many photos the new rule would hold")
    p.set_defaults(handler=cmd_edit)

    p = act.add_parser("show", help="the photos of an album")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)

    p = act.add_parser("export", help="copy or link an album's photos into a folder")
    p.add_argument("name")
    p.add_argument("dest")
    p.add_argument("--mode", choices=albumexport.MODES, default="copy")
    p.add_argument("--xmp", action="store_true", help="write photo.jpg.xmp sidecars with tags and album")
    p.add_argument("--flat", action="store_true", help="put files in DEST itself, not DEST/ALBUM")
    p.set_defaults(handler=cmd_export)

    p = act.add_parser("delete", help="forget an album (photos are not touched)")
    p.add_argument("name")
    p.set_defaults(handler=cmd_delete)


def cmd_list(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        found = library.albums()
    if args.json:
        print_json(found)
        return 0
    if not found:
        print("no albums yet: `photoclip albums create NAME [--query Q]` makes one")
    for album in found:
        rule = ""
        if album.rule is not None:
            parts = [f'"{album.rule.query}"'] if album.rule.query else []
            parts += [f"#{t}" for t in album.rule.tags]
            rule = "  (smart: " + " ".join(parts) + ")"
        print(f"{album.count:6d}  {album.name}{rule}")
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        album = library.create_album(args.name, query=args.query, tags=tuple(args.tag), threshold=args.threshold)
    print(f"created {album.kind} album '{album.name}' with {album.count} photos")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    """Missing parts of the rule are kept from the old one."""
    with open_library(args) as library:
        album = next((a for a in library.albums() if a.name == " ".join(args.name.split())), None)
        if album is None:
            raise PhotoClipError(f"there is no album named '{args.name}'")
        old = album.rule or albums.Rule()
        query = args.query if args.query is not None else old.query
        tags = tuple(args.tag) if args.tag is not None else old.tags
        threshold = args.threshold if args.threshold is not None else old.threshold
        if args.preview:
            if not query:
                raise PhotoClipError("a preview needs a query")
            scores = library.album_rule_scores(query, albums.Rule(filters=old.filters).search_filters())
            keep = sum(1 for _, s in scores if s >= threshold)
            print(f"the rule would hold {keep} photos at threshold {threshold:.2f} "
                  f"(now {album.count}, pinned and excluded photos aside)")
            return 0
        changed = library.set_album_rule(album.name, query=query, tags=tags, filters=dict(old.filters),
                                         threshold=threshold)
    print(f"album '{changed.name}' now holds {changed.count} photos")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        entries = library.album_entries(args.name)
    if args.json:
        print_json([{"id": e.photo.id, "path": e.photo.path, "source": e.source, "score": e.score,
                     "taken_at": e.photo.taken_at} for e in entries])
        return 0
    for e in entries:
        score = f"{e.score:.3f}" if e.score is not None else e.source
        print(f"{score:>7s}  {e.photo.path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    sink = TqdmSink()
    with open_library(args) as library, cancel_on_interrupt() as token:
        try:
            report = library.export_album(args.name, args.dest, mode=args.mode, xmp=args.xmp,
                                          subfolder=not args.flat, progress=sink, cancel=token)
        finally:
            sink.close()
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"exported {len(report.exported)} photos to {report.destination}"
          + (f", {len(report.skipped)} skipped" if report.skipped else ""))
    return 1 if report.skipped and not report.exported else 0


def cmd_delete(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        library.delete_album(args.name)
    print(f"deleted album '{args.name}'")
    return 0
