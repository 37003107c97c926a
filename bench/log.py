"""The benchmark's progress lines, on stderr beside the report it prints on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable

Log = Callable[[str], None]


def log_to_stderr(message: str) -> None:
    """The benchmark's progress lines, apart from the report it prints on stdout."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
