"""What the local AWS's own moto backends share: forgetting all they hold, as moto's reset does."""

from __future__ import annotations

from typing import Any

from moto.core.base_backend import BackendDict, backend_lock


def forget_all(backends: BackendDict[Any]) -> None:
    """Reset every account's and Region's backend of ``backends`` and drop them."""
    with backend_lock:
        for account in list(backends.values()):
            account.reset()
        backends.clear()
