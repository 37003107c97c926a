"""What the poller's code asset is made of. No CDK import here: the benchmark reads it too."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_CODE_DIR = REPO_ROOT / "functions"
HANDLER = "ami_store_notifier.handler.lambda_handler"
# The one pin of the Powertools version the Lambda runs: requirements-dev.in pins the same for the tests
# (a test keeps them equal), and the layer is AWS's own build of it for the function's runtime and
# architecture, named by AWS's public parameter (Powertools docs, "Lambda Layer", SSM Parameter Store:
# /aws/service/powertools/python/{arch}/python{X.Y}/{version}).
POWERTOOLS_VERSION = "3.37.0"
LAMBDA_PYTHON = "3.13"
LAMBDA_ARCHITECTURE = "arm64"
POWERTOOLS_LAYER_PARAMETER = (
    f"/aws/service/powertools/python/{LAMBDA_ARCHITECTURE}/python{LAMBDA_PYTHON}/{POWERTOOLS_VERSION}"
)
# Shipped as the folder is, without what tests and tools leave next to the code.
CODE_EXCLUDES = [
    # The operator's command line: it runs on the operator's machine, with click and rich.
    "ami_store_notifier/cli",
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
