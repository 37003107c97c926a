"""What the poller's code asset is made of. No CDK import here: the benchmark reads it too."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_CODE_DIR = REPO_ROOT / "functions"
HANDLER = "ami_store_notifier.handler.lambda_handler"
# Shipped as the folder is, without what tests and tools leave next to the code.
CODE_EXCLUDES = [
    "**/__pycache__",
    "**/*.pyc",
    "**/tests",
    "**/test_*.py",
    "**/conftest.py",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/*.egg-info",
    "**/.DS_Store",
]
