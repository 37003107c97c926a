"""The controllable clock that times every emulated store task."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def as_utc(when: datetime) -> datetime:
    """Return `when` as an aware UTC datetime (a naive value is taken to be UTC already)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


class Clock:
    """A clock that stands still until told to move.

    It starts at the real current UTC time, so that tasks look recent to code that compares them with
    the wall clock. `advance` and `set` move it; with `real_time = True` it also follows the wall clock
    (useful for a long-running demo server). Listeners run after every move: the emulator uses that to
    settle the tasks whose duration has elapsed.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._base = as_utc(start) if start is not None else datetime.now(UTC)
        self._wall_origin: float | None = None
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` (negative values move it back) and settle due tasks."""
        with self._lock:
            self._base += timedelta(seconds=seconds)
            now = self._now_locked()
        self._notify()
        return now

    def set(self, when: datetime) -> None:
        """Jump to `when` (aware, or naive UTC) and settle due tasks."""
        with self._lock:
            self._base = as_utc(when)
            if self._wall_origin is not None:
                self._wall_origin = time.monotonic()
        self._notify()

    @property
    def real_time(self) -> bool:
        """Whether the clock also moves with the wall clock (False by default)."""
        return self._wall_origin is not None

    @real_time.setter
    def real_time(self, enabled: bool) -> None:
        with self._lock:
            self._base = self._now_locked()
            self._wall_origin = time.monotonic() if enabled else None

    def restart(self, start: datetime | None = None) -> None:
        """Stand still again at `start` (default: the real current time). Used on reset."""
        with self._lock:
            self._base = as_utc(start) if start is not None else datetime.now(UTC)
            self._wall_origin = None

    def add_listener(self, listener: Callable[[], None]) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def _now_locked(self) -> datetime:
        if self._wall_origin is None:
            return self._base
        return self._base + timedelta(seconds=time.monotonic() - self._wall_origin)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


CLOCK = Clock()
"""The emulator clock, shared by every account and region; restarted at real time after each reset."""
