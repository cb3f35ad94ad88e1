"""`photoclip index`, `status` and `info`: bring the library up to date and report on it."""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from photoclip.cli._common import TqdmSink, cancel_on_interrupt, open_library, print_json
from photoclip.errors import PhotoClipError
from photoclip.paths import CATALOG_NAME, resolve_library_dir
from photoclip.store import catalog_health


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="add folders (if given) and bring the catalog and vectors up to date")
    p.add_argument("folders", nargs="*", metavar="FOLDER", help="folders to add to the library first")
    p.add_argument("--poll", action="store_true", help="watch the added folders by polling (network shares)")
    p.add_argument("--no-embed", action="store_true", help="only scan: update the catalog, embed nothing")
    p.add_argument("--no-words", action="store_true",
                   help="skip reading words inside photos and place names this time (they follow on the next run)")
    p.add_argument("--rebuild", action="store_true",
                   help="start a new catalog (the old one is kept aside) with the same folders, read from the photos")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser("status", help="counts of photos, errors with reasons, missing, offline, embedded")
    p.add_argument("--check", action="store_true", help="check the whole catalog for damage, however large")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("info", help="what PhotoClip reads from one file")
    p.add_argument("path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("folders", help="list, add or remove library folders")
    p.add_argument("action", choices=("list", "add", "remove"), nargs="?", default="list")
    p.add_argument("path", nargs="?")
    p.add_argument("--poll", action="store_true", help="watch by polling (network shares)")
    p.set_defaults(handler=cmd_folders)


def _rebuild(args: argparse.Namespace) -> list[tuple[str, bool]]:
    rebuilt = catalog_health.rebuild(resolve_library_dir(args.library) / CATALOG_NAME)
    if rebuilt.kept_as is not None:
        print(f"the old catalog is kept as {rebuilt.kept_as}; reading the library again from the photos",
              file=sys.stderr)
    return rebuilt.folders


def cmd_index(args: argparse.Namespace) -> int:
    carried = _rebuild(args) if args.rebuild else []
    with open_library(args) as lib:
        for folder, polling in carried:
            try:
                lib.add_folder(folder, polling=polling)
            except PhotoClipError as exc:
                print(f"warning: folder {folder} not carried over: {exc}", file=sys.stderr)
        for folder in args.folders:
            lib.add_folder(folder, polling=args.poll)
        if not lib.folders():
            print("the library has no folders yet: run `photoclip index FOLDER`", file=sys.stderr)
            return 1
        sink = TqdmSink()
        started = time.monotonic()
        with cancel_on_interrupt() as cancel, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if args.no_embed:
                scan = lib.scan(progress=sink, cancel=cancel)
                run = None
            else:
                if not lib.model_name:
                    print("warning: no CLIP model is installed yet, so photos are catalogued but not embedded: "
                          "run `photoclip models download` or `photoclip models import DIR`",
                          file=sys.stderr)
                run = lib.index(progress=sink, cancel=cancel, enrich=not args.no_words)
                scan = run.scan
        sink.close()
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        embed = run.embed if run else None
        result = {
            "added": scan.added, "changed": scan.changed, "moved": scan.moved, "missing": scan.missing,
            "unchanged": scan.unchanged, "offline_folders": scan.offline_folders,
            "embedded": embed.embedded if embed and run and run.model else 0,
            "read": embed.embedded if embed else 0, "failed": embed.failed if embed else 0,
            "seconds": round(time.monotonic() - started, 3),  # every stage: scan, embedding, tags, words
            "photos_per_second": round(embed.rate, 2) if embed else 0.0,
            "cancelled": bool(embed and embed.cancelled) or cancel.cancelled,
            "skipped": [{"path": s.path, "reason": s.reason} for s in scan.skipped + (embed.skipped if embed else [])],
            "not_catalogued": [{"path": s.path, "reason": s.reason} for s in scan.uncatalogued],
            "model": run.model if run else None,
            # Photos the quick detector screened out are among those without text, not beside them.
            "words": ({"with_text": run.enrich.ocr_text, "without_text": run.enrich.ocr_no_text,
                       "screened_out": run.enrich.gated, "places": run.enrich.places,
                       "failed": run.enrich.ocr_failed}
                      if run and run.enrich else None),
        }
        if args.json:
            print_json(result)
        else:
            print(f"scanned: {scan.added} new, {scan.changed} changed, {scan.moved} moved, "
                  f"{scan.missing} missing, {scan.unchanged} unchanged")
            for folder in scan.offline_folders:
                print(f"offline: {folder}")
            if embed:
                verb = "embedded" if run and run.model else "read (no model, not embedded)"
                print(f"{verb} {embed.embedded} photos in {embed.seconds:.1f} s ({embed.rate:.1f}/s), "
                      f"{embed.failed} could not be read")
            w = result["words"]
            if w and (w["with_text"] or w["without_text"] or w["places"] or w["failed"]):
                print(f"words in photos: {w['with_text']} with text, {w['without_text']} without; "
                      f"places: {w['places']}")
            for s in result["skipped"]:
                print(f"skipped: {s['path']}: {s['reason']}")
            for s in result["not_catalogued"]:
                print(f"not catalogued: {s['path']}: {s['reason']}")
            if result["cancelled"]:
                print("cancelled: run `photoclip index` again to finish")
        return 130 if result["cancelled"] else 0


def cmd_status(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        if args.check:
            lib.check_catalog(force=True)
        st = lib.status()
    problems = st.catalog_problems
    if args.json:
        print_json({
            "library": st.library, "photos": st.photos, "ok": st.ok, "pending": st.pending,
            "errors": st.errors, "missing": st.missing, "offline": st.offline,
            "embedded": st.embedded, "active_model": st.active_model, "search_model": st.search_model,
            "error_list": [{"path": p, "reason": r} for p, r in st.error_list],
            "not_catalogued": [{"path": p, "reason": r} for p, r in st.uncatalogued],
            "not_read": [{"path": p, "reason": r} for p, r in st.skipped],
            "catalog": {"checked": problems is not None, "ok": not problems, "problems": problems or []},
            "folders": [{"path": f.folder.path, "state": f.folder.state, "polling": f.folder.polling,
                         "photos": f.total} for f in st.folders],
        })
        return 0 if not problems else 3
    print(f"library: {st.library}")
    if problems:
        print(f"catalog: DAMAGED, {len(problems)} problem(s); run `photoclip index --rebuild` to read the "
              "library again from the photos")
    else:
        print(f"catalog: {'sound' if problems is not None else 'not checked (large: use status --check)'}")
    print(f"photos: {st.photos} (ok {st.ok}, pending {st.pending}, errors {st.errors}, "
          f"missing {st.missing}, offline {st.offline})")
    if st.skipped:
        print(f"not read by the last scan: {len(st.skipped)} (unreadable files or folders, broken links)")
    print(f"model: {st.active_model or 'none installed (search matches words only)'}")
    for name, n in st.embedded.items():
        print(f"embedded with {name}: {n}")
    if st.active_model:
        waiting = max(0, st.ok + st.pending - st.embedded.get(st.active_model, 0))
        if waiting:
            print(f"waiting for {st.active_model}: {waiting} photos (run `photoclip index` to embed them)")
    if st.search_model and st.search_model != st.active_model:
        print(f"searches use {st.search_model} until {st.active_model} has embedded as many photos")
    for f in st.folders:
        print(f"folder: {f.folder.path} ({f.total} photos{', offline' if f.folder.state == 'offline' else ''})")
    for path, reason in st.error_list:
        print(f"error: {path}: {reason}")
    for path, reason in st.uncatalogued:
        print(f"not catalogued: {path}: {reason}")
    for path, reason in st.skipped:
        print(f"not read: {path}: {reason}")
    for problem in problems or []:
        print(f"damage: {problem}")
    return 0 if not problems else 3


def cmd_info(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        info = lib.file_info(args.path)
        tags = lib.photo_tags(info.photo_id, include_rejected=False) if info.photo_id is not None else []
    if args.json:
        print_json(info)
        return 0 if info.error is None else 1
    rows = [("path", info.path), ("size", f"{info.size} bytes"), ("hash", info.content_hash)]
    if info.error:
        rows.append(("error", info.error))
    else:
        rows += [("format", info.format), ("size (oriented)", f"{info.width} x {info.height}"),
                 ("taken", info.taken_text),
                 ("camera", " ".join(x for x in (info.camera_make, info.camera_model) if x) or "-")]
        if info.gps:
            rows.append(("gps", f"{info.gps[0]:.6f}, {info.gps[1]:.6f}"))
        if info.rating is not None:
            rows.append(("rating", str(info.rating)))
        if info.keywords:
            rows.append(("keywords", ", ".join(info.keywords)))
    if info.photo_id is not None:
        rows.append(("catalog", f"photo {info.photo_id}, {info.state}"))
        if info.companion:
            rows.append(("raw file", info.companion))
        detail = [f"{t.name} ({t.origin}{f', {t.score:.2f}' if t.score is not None else ''})" for t in tags]
        rows.append(("tags", ", ".join(detail) or "-"))
    for key, value in rows:
        print(f"{key + ':':<17}{value}")
    return 0 if info.error is None else 1


def cmd_folders(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        if args.action == "add":
            if not args.path:
                raise PhotoClipError("photoclip folders add: a folder path is needed")
            folder = lib.add_folder(args.path, polling=args.poll)
            print(f"added {folder.path}; run `photoclip index` to read its photos")
        elif args.action == "remove":
            if not args.path:
                raise PhotoClipError("photoclip folders remove: a folder path is needed")
            n = lib.remove_folder(args.path)
            print(f"removed {args.path} from the library ({n} photos forgotten; no file was touched)")
        else:
            for f in lib.folders():
                # Photos on disk now; deleted ones (missing) are counted apart, not as photos.
                live = f.counts.get("ok", 0) + f.counts.get("pending", 0)
                gone = [f"{f.counts[s]} {s}" for s in ("missing", "offline", "error") if f.counts.get(s)]
                flags = ", ".join(x for x in (f.folder.state if f.folder.state != "ok" else "",
                                              "polling" if f.folder.polling else "", *gone) if x)
                print(f"{f.folder.path}\t{live} photos{' (' + flags + ')' if flags else ''}")
    return 0
