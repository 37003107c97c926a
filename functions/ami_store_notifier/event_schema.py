"""The event contract as a JSON Schema (draft 4, which the EventBridge schema registry accepts).

`event_detail.schema.json` is the one source: the stack registers the whole event built from it, tests
and the demo validate every announcement against it, and `contract.py` is the typed model consumers
import. No third-party import here: the poller does not load it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ami_store_notifier.domain.announcements import DETAIL_TYPE

DETAIL_SCHEMA_PATH = Path(__file__).with_name("event_detail.schema.json")


def detail_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(DETAIL_SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def event_schema(source: str) -> dict[str, Any]:
    """The EventBridge event as the bus carries it, its detail as `detail_schema()` says."""
    detail = {key: value for key, value in detail_schema().items() if key != "$schema"}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": DETAIL_TYPE,
        "type": "object",
        "required": [
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        ],
        "properties": {
            "version": {"type": "string"},
            "id": {"type": "string"},
            "detail-type": {"type": "string", "enum": [DETAIL_TYPE]},
            "source": {"type": "string", "enum": [source]},
            "account": {"type": "string", "pattern": "^[0-9]{12}$"},
            "time": {"type": "string", "format": "date-time"},
            "region": {"type": "string"},
            "resources": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1},
            "detail": detail,
        },
    }
