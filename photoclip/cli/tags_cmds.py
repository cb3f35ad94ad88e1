"""`photoclip tags`: list, add and remove tags, re-apply auto-tagging, review uncertain tags."""

from __future__ import annotations

import argparse

from photoclip.cli._common import TqdmSink, cancel_on_interrupt, open_library, print_json
from photoclip.errors import PhotoClipError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tags", help="auto-tagging vocabulary and review")
    tags = parser.add_subparsers(dest="tags_command", metavar="ACTION", required=True)

    p = tags.add_parser("list", help="tags with their photo counts and thresholds")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = tags.add_parser("add", help="add a tag of your own")
    p.add_argument("name")
    p.add_argument("--prompt", action="append", metavar="TEXT",
                   help='a description of the tag for the model (repeatable; default "a photo of NAME.")')
    p.add_argument("--threshold", type=float, metavar="S", help="score from 0 to 1 needed to apply it")
    p.set_defaults(handler=cmd_add)

    p = tags.add_parser("edit", help="change a tag's prompts or threshold, or turn it off and on")
    p.add_argument("name")
    p.add_argument("--prompt", action="append", metavar="TEXT",
                   help="replace the tag's descriptions with these (repeatable)")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--threshold", type=float, metavar="S", help="score from 0 to 1 needed to apply it")
    level.add_argument("--default-threshold", action="store_true", help="go back to the default threshold")
    p.add_argument("--preview", action="store_true",
                   help="with --threshold: only say how many photos it would add and remove")
    switch = p.add_mutually_exclusive_group()
    switch.add_argument("--disable", action="store_true", help="stop applying the tag (its auto tags go)")
    switch.add_argument("--enable", action="store_true", help="apply the tag again")
    p.set_defaults(handler=cmd_edit)

    p = tags.add_parser("remove", help="delete a tag and every decision about it")
    p.add_argument("name")
    p.set_defaults(handler=cmd_remove)

    p = tags.add_parser("apply", help="re-tag every photo from stored vectors (after vocabulary changes)")
    p.set_defaults(handler=cmd_apply)

    p = tags.add_parser("review", help="auto tags, the least sure first")
    p.add_argument("--tag", metavar="T", help="only this tag")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_review)


def cmd_list(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        infos = library.tags()
    if args.json:
        print_json(infos)
        return 0
    unknown = sum(1 for t in infos if t.available is False)
    print(f"{'photos':>6}  {'thresh':6}  {'kind':7}  tag")
    for t in infos:
        flags = []
        if not t.enabled:
            flags.append("disabled")
        if t.available is False:
            flags.append("unavailable: the model cannot tell it from nonsense")
        kind = "builtin" if t.builtin else "user"
        mark = "*" if t.learned else " "
        note = f"  ({'; '.join(flags)})" if flags else ""
        print(f"{t.count:6d}  {t.threshold:.2f}{mark}   {kind:7s}  {t.name}{note}")
    if unknown:
        print(f"{unknown} of {len(infos)} tags are unavailable with the active model and are never applied")
    if any(t.learned for t in infos):
        print("* threshold learnt from the tags you accepted and rejected")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        info = library.add_tag(args.name, args.prompt, args.threshold)
    print(f"added tag '{info.name}'; run `photoclip tags apply` to tag existing photos")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    """Each change is its own write; re-tagging is left to `tags apply` so several edits cost one pass."""
    if not (args.prompt or args.threshold is not None or args.default_threshold or args.disable or args.enable):
        raise PhotoClipError("photoclip tags edit: nothing to change; give --prompt, --threshold, "
                             "--default-threshold, --enable or --disable")
    with open_library(args) as library:
        if args.threshold is not None or args.default_threshold:
            added, removed = library.tag_threshold_change(
                args.name, None if args.default_threshold else args.threshold)
            print(f"the new threshold would add '{args.name}' to {added} photos and remove it from {removed}")
            if args.preview:
                return 0
        if args.prompt:
            library.set_tag_prompts(args.name, args.prompt)
        if args.threshold is not None or args.default_threshold:
            library.set_tag_threshold(args.name, None if args.default_threshold else args.threshold)
        if args.disable or args.enable:
            library.set_tag_enabled(args.name, bool(args.enable))
        info = next(t for t in library.tags() if t.name == args.name)
    state = "on" if info.enabled else "off"
    print(f"tag '{info.name}' ({state}, threshold {info.threshold:.2f}): {'; '.join(info.prompts)}")
    if info.enabled and (args.prompt or args.threshold is not None or args.default_threshold or args.enable):
        print("run `photoclip tags apply` to re-tag existing photos")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        library.remove_tag(args.name)
    print(f"removed tag '{args.name}'")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    sink = TqdmSink()
    with open_library(args) as library, cancel_on_interrupt() as token:
        try:
            written = library.retag(progress=sink, cancel=token)
        finally:
            sink.close()
    print(f"{written} auto tags applied")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        items = library.review_queue(args.tag, args.limit)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no automatic tags to review")
    for item in items:
        print(f"{item.score:.2f} (threshold {item.threshold:.2f})  {item.name}  {item.path}")
    return 0
