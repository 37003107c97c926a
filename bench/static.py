"""Cold-start figures that need no simulation: the handler's import time and the code asset's size."""

from __future__ import annotations

import fnmatch
import io
import os
import statistics
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.asset import CODE_EXCLUDES, FUNCTION_CODE_DIR, REPO_ROOT

OUR_PACKAGE = "ami_store_notifier"
HANDLER_MODULE = "ami_store_notifier.handler"
# VmHWM (peak resident set of this process image). ru_maxrss would not do: Linux carries the parent's
# peak over fork and exec, so a child of a large benchmark process reports the benchmark's size.
_PROBE = (
    "import {module}\n"
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmHWM:'): print(int(line.split()[1]))"
)


@dataclass(frozen=True)
class ImportTime:
    runs: int
    ours_ms: float
    """Sum of the `self` times of our own modules (ami_store_notifier.*): the cold-start share of our code."""
    handler_cumulative_ms: float
    """`import ami_store_notifier.handler` with everything it pulls in (boto3, Powertools, ...)."""
    total_ms: float
    """Sum of every module's `self` time in the process, interpreter start-up imports included."""
    heaviest: tuple[tuple[str, float], ...]
    """Top-level packages by the summed `self` time of their modules."""
    max_rss_mib: float
    """Peak resident memory of the process after the import (VmHWM)."""


def _parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """Lines of `-X importtime`: (module, self us, cumulative us, depth)."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((name.strip(), int(parts[0]), int(parts[1]), depth))
    return rows


_Sample = tuple[float, float, float, dict[str, int], float]
"""One process's: our modules' ms, the handler's cumulative ms, all imports' ms, ms by package, MiB."""


def _sample(stderr: str, stdout: str) -> _Sample:
    rows = _parse_importtime(stderr)
    top: dict[str, int] = {}
    for name, own, _, _ in rows:
        top[name.split(".")[0]] = top.get(name.split(".")[0], 0) + own
    return (
        sum(own for name, own, _, _ in rows if name.split(".")[0] == OUR_PACKAGE) / 1000,
        next(cumulative for name, _, cumulative, _ in rows if name == HANDLER_MODULE) / 1000,
        sum(own for _, own, _, _ in rows) / 1000,
        top,
        int(stdout.strip().splitlines()[-1]) / 1024,
    )


def _heaviest(samples: list[_Sample]) -> tuple[tuple[str, float], ...]:
    """The five packages of the largest median summed self time."""
    packages = {name for sample in samples for name in sample[3]}
    heaviest = sorted(
        ((name, statistics.median(sample[3].get(name, 0) for sample in samples) / 1000) for name in packages),
        key=lambda pair: -pair[1],
    )[:5]
    return tuple(heaviest)


def measure_import_time(runs: int = 5) -> ImportTime:
    """Runs `python -X importtime -c "import ami_store_notifier.handler"` in fresh processes."""
    env = {**os.environ, "PYTHONPATH": str(FUNCTION_CODE_DIR)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for _ in range(runs + 1):  # the first run may compile .pyc files: dropped
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", _PROBE.format(module=HANDLER_MODULE)],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO_ROOT,
            check=True,
        )
        samples.append(_sample(completed.stderr, completed.stdout))
    samples = samples[1:]
    return ImportTime(
        runs=runs,
        ours_ms=statistics.median(sample[0] for sample in samples),
        handler_cumulative_ms=statistics.median(sample[1] for sample in samples),
        total_ms=statistics.median(sample[2] for sample in samples),
        heaviest=_heaviest(samples),
        max_rss_mib=statistics.median(sample[4] for sample in samples),
    )


@dataclass(frozen=True)
class AssetSize:
    files: int
    uncompressed_bytes: int
    zipped_bytes: int


def _excluded(relative: str) -> bool:
    parts = relative.split("/")
    for pattern in CODE_EXCLUDES:
        tail = pattern.removeprefix("**/")
        if any(fnmatch.fnmatch(part, tail) for part in parts) or fnmatch.fnmatch(relative, tail):
            return True
    return False


def measure_asset(directory: Path = FUNCTION_CODE_DIR) -> AssetSize:
    """Zips the function code the way the CDK asset ships it: the folder's contents, DEFLATE level 9,
    without what infra.asset.CODE_EXCLUDES leaves out (__pycache__, *.pyc, tests, tool caches)."""
    buffer = io.BytesIO()
    files = 0
    raw = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory).as_posix()
            if path.is_dir() or _excluded(relative):
                continue
            info = zipfile.ZipInfo(relative, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            archive.writestr(info, data, compresslevel=9)
            files += 1
            raw += len(data)
    return AssetSize(files, raw, len(buffer.getvalue()))
