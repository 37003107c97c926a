"""The store-task backends of every account and region: reaching one, resetting them all with moto, and
settling them all to the clock each time it moves.

The backends live in a moto `BackendDict`, so moto's own reset (the exit of `mock_aws()`, or a POST to
`/moto-api/reset` in server mode) clears them together with every other moto backend; `reset()` clears
them alone.
"""

from __future__ import annotations

from typing import Any

from moto.core.base_backend import BackendDict, backend_lock

from local.moto_backends import forget_all

from .backend import StoreTaskBackend
from .clock import CLOCK

_BACKENDS: BackendDict[StoreTaskBackend] = BackendDict(StoreTaskBackend, "ec2")


def store_tasks_backend(account_id: str, region: str) -> StoreTaskBackend:
    """The store-task backend of an account and region (created on first use)."""
    return _BACKENDS[account_id][region]


def reset() -> None:
    """Forget every store task, plan, fault and hook, and restart the clock at the real current time."""
    forget_all(_BACKENDS)
    CLOCK.restart()


def hook_moto_reset() -> None:
    """Make moto's own reset (start and exit of `mock_aws()`, POST /moto-api/reset) restart the clock.

    moto already resets the backends themselves, which live in a moto BackendDict. Idempotent.
    """
    current = BackendDict.__dict__["reset"].__func__
    if getattr(current, "_ec2_store_tasks", False):
        return

    def reset_with_clock(cls: type[BackendDict[Any]]) -> None:
        current(cls)
        CLOCK.restart()

    reset_with_clock._ec2_store_tasks = True  # type: ignore[attr-defined]
    BackendDict.reset = classmethod(reset_with_clock)  # type: ignore[assignment,method-assign]


def settle_everywhere() -> None:
    """Settles every backend to the clock: due stores end (their objects and hints sent), delayed hints
    go out. Each clock move does it; a caller of real-time mode does it before it looks."""
    with backend_lock:
        backends = [backend for _, _, backend in _BACKENDS.iter_backends()]
    for backend in backends:
        if isinstance(backend, StoreTaskBackend):
            backend.settle()


CLOCK.add_listener(settle_everywhere)
