"""`photoclip watch`: keep the catalog and vectors current while folders change, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from photoclip.cli._common import cancel_on_interrupt, open_library
from photoclip.errors import NotFoundError

if TYPE_CHECKING:
    from photoclip.ingest.livesync import SyncReport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="watch the library folders and apply changes as they happen (Ctrl-C stops)")
    p.add_argument("--no-embed", action="store_true", help="only keep the catalog current: embed nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object per change batch")
    p.set_defaults(handler=cmd_watch)


def format_report(report: SyncReport) -> str:
    """One line per batch: what changed, in the order a person reads it."""
    parts = [f"{n} {label}" for n, label in (
        (report.added, "added"), (report.changed, "changed"), (report.moved, "moved"),
        (report.missing, "missing"), (report.revived, "back"), (report.embedded, "embedded"),
        (report.failed, "failed")) if n]
    parts += [f"offline: {path}" for path in report.offline]
    parts += [f"online: {path}" for path in report.online]
    if report.embedding_skipped and (report.added or report.changed):
        parts.append("not embedded (no model installed)")
    what = ", ".join(parts) or "up to date"
    prefix = "start-up scan: " if report.initial else ""
    return f"{time.strftime('%H:%M:%S')} {prefix}{what}"


def cmd_watch(args: argparse.Namespace) -> int:
    from photoclip.ingest.livesync import LiveSync
    from photoclip.instance import InstanceServer

    with open_library(args) as lib:
        folders = lib.folders()
        if not folders:
            raise NotFoundError("the library has no folders yet: add one with `photoclip folders add FOLDER`")

        def show(report: SyncReport) -> None:
            if args.json:
                data = {k: v for k, v in vars(report).items() if k != "ids"}
                print(json.dumps(data, ensure_ascii=False), flush=True)
            else:
                print(format_report(report), flush=True)

        sync = LiveSync(lib, embed=not args.no_embed, on_report=show)
        server = InstanceServer(lib)  # `photoclip search` asks this process while it runs
        with cancel_on_interrupt() as cancel, server:
            sync.start()
            print(f"watching {len(folders)} folder(s); press Ctrl-C to stop", file=sys.stderr, flush=True)
            try:
                while not cancel.wait(0.5):
                    if not sync.running:
                        print("error: the folder watcher stopped unexpectedly (run with --debug for details)",
                              file=sys.stderr)
                        return 2
            finally:
                sync.stop()
    return 0
