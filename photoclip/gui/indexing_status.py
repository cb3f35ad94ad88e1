"""The status-bar piece that shows a running job: phase, done/total, rate, time left, Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from photoclip.jobs import Progress

PHASES = {"scan": "Looking for photos", "hash": "Reading new photos", "index": "Indexing", "tag": "Tagging",
          "tagging": "Tagging", "retag": "Re-tagging", "places": "Finding places", "ocr": "Reading text in photos"}

SHORT_PHASES = {"scan": "Looking for photos", "hash": "Reading photos", "ocr": "Reading text",
                "places": "Finding places"}


def describe(label: str, p: Progress, *, short: bool = False) -> str:
    """One line a person can read, e.g. ``Indexing 1,200 / 5,000 · 38/s · about 2 min left``.

    ``short`` leaves out the rate and time (for the narrow sidebar).
    """
    phase = PHASES.get(p.phase, p.phase.capitalize() if p.phase else label)
    if short:  # the sidebar is narrow and shows the percent beside this: a short phase name is enough
        phase = SHORT_PHASES.get(p.phase, phase)
        return phase if p.total else f"{phase} {p.done:,}"
    parts = [f"{phase} {p.done:,}" + (f" / {p.total:,}" if p.total is not None else "")]
    if short:
        return parts[0]
    if p.rate:
        parts.append(f"{p.rate:,.0f}/s" if p.rate >= 10 else f"{p.rate:.1f}/s")
    if p.eta is not None and p.total:
        parts.append(f"about {_duration(p.eta)} left")
    if p.skipped:
        parts.append(f"{p.skipped:,} skipped")
    return " \u00b7 ".join(parts)


def percent(p: Progress) -> int | None:
    """Whole percent done, or None while the total is unknown."""
    if not p.total:
        return None
    return max(0, min(100, int(100 * p.done / p.total)))


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class IndexingStatusWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop after the current batch; what is done is kept")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.set_idle()

    def set_running(self, label: str) -> None:
        self.label.setText(f"{label}\u2026")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.show()

    def set_progress(self, label: str, p: Progress) -> None:
        self.label.setText(describe(label, p))
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
        else:
            self.bar.setRange(0, 0)

    def set_cancelling(self) -> None:
        self.label.setText("Stopping after the current batch\u2026")
        self.cancel_button.setEnabled(False)

    def set_idle(self) -> None:
        self.hide()
