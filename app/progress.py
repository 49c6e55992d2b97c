"""Progress for long-running commands: a live line on a terminal, periodic lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Report how far a long job has got, with its rate and an estimate of what remains."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def advance(self, count: int = 1) -> None:
        """Count `count` more items done, redrawing at most a few times a second."""
        self.done += count
        now = time.monotonic()
        if now - self._last >= (0.2 if self._tty else 5.0):
            self._last = now
            self._draw(final=False)

    def finish(self) -> None:
        """Draw the final line."""
        self._draw(final=True)

    def _draw(self, *, final: bool) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            share = min(self.done / self.total, 1.0)
            width = 24
            bar = "#" * int(share * width) + "-" * (width - int(share * width))
            remaining = (self.total - self.done) / rate if rate > 0 else 0.0
            text = (
                f"{self.label}: [{bar}] {self.done:,}/{self.total:,} ({share:.0%}) "
                f"{rate:,.0f}/s, {'took ' + _seconds(elapsed) if final else 'eta ' + _seconds(remaining)}"
            )
        else:
            text = f"{self.label}: {self.done:,} {rate:,.0f}/s, {_seconds(elapsed)}"
        if self._tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 120 else f"{value / 60:.1f}min"
