"""Pieces every command shares: opening the library, JSON output, a tqdm progress bar, Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from photoclip.jobs import CancelToken, Progress

if TYPE_CHECKING:
    from photoclip.library import Library


def open_library(args: argparse.Namespace) -> Library:
    from photoclip.library import Library  # imported when a command runs: --version and --help stay quick

    return Library.open(getattr(args, "library", None))


def _default(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_default)
    sys.stdout.write("\n")


class TqdmSink:
    """Feeds a tqdm bar (on stderr) from job progress; one bar per phase."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = (enabled and sys.stderr.isatty()) or enabled == "always"
        self._bar: Any = None
        self._phase: str | None = None

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if p.phase != self._phase:
            self.close()
            self._phase = p.phase
            self._bar = tqdm(total=p.total, desc=p.phase, unit="photo", file=sys.stderr, leave=False,
                             dynamic_ncols=True)
        bar = self._bar
        if p.total is not None and bar.total != p.total:
            bar.total = p.total
        bar.n = p.done
        if p.skipped:
            bar.set_postfix_str(f"{p.skipped} skipped", refresh=False)
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def cancel_on_interrupt() -> Iterator[CancelToken]:
    """A cancel token set by the first Ctrl-C; a second Ctrl-C interrupts at once."""
    token = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if token.cancelled:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        token.cancel()
        print("\nstopping after the current batch (Ctrl-C again to abort)...", file=sys.stderr)

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not in the main thread
        pass
    try:
        yield token
    finally:
        try:
            signal.signal(signal.SIGINT, previous)
        except ValueError:
            pass
