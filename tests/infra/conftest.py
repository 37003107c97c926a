"""Infrastructure tests: the shared helpers live in tests/infra/support.py (importable as a module)."""

from __future__ import annotations

import os

# Before anything imports aws_cdk: jsii prints a large end-of-life banner on Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
