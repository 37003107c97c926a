"""The event contract as JSON Schemas (draft 4, which the EventBridge schema registry accepts), one per
detail-type.

`event_detail.schema.json` is the one source of the state change's detail; `notice_schemas/` that of the
notices' (domain/notices.py): the keys every notice starts with (`common.schema.json`) and each kind's facts
(`<kind>.schema.json`). The stack registers the whole event built from each, tests and the demo validate
every announcement against them, and `contract.py` is the typed model consumers import. No third-party
import here: the poller does not load it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ami_store_notifier.domain.announcements import DETAIL_TYPE
from ami_store_notifier.domain.json_values import JsonObject, JsonValue
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, NoticeKind

DRAFT_4 = "http://json-schema.org/draft-04/schema#"
DETAIL_SCHEMA_PATH = Path(__file__).with_name("event_detail.schema.json")
NOTICE_SCHEMAS_DIR = Path(__file__).with_name("notice_schemas")


def detail_schema() -> JsonObject:
    return _read(DETAIL_SCHEMA_PATH)


def event_schema(source: str) -> JsonObject:
    """The state change's EventBridge event as the bus carries it, its detail as `detail_schema()` says."""
    return _event(source, DETAIL_TYPE, detail_schema())


def notice_detail_schema(kind: NoticeKind) -> JsonObject:
    """A notice's detail: the keys every notice starts with, then its kind's facts; as `Notice.detail()`
    gives every key (null when unknown), every one is required, and no other is allowed."""
    facts = _read(NOTICE_SCHEMAS_DIR / f"{kind.value}.schema.json")
    properties = {**_properties(_read(NOTICE_SCHEMAS_DIR / "common.schema.json")), **_properties(facts)}
    return {
        "$schema": DRAFT_4,
        "title": f"{NOTICE_DETAIL_TYPES[kind]}: detail",
        "description": facts["description"],
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def notice_event_schema(source: str, kind: NoticeKind) -> JsonObject:
    """A notice's EventBridge event as the bus carries it, its detail as `notice_detail_schema` says."""
    return _event(source, NOTICE_DETAIL_TYPES[kind], notice_detail_schema(kind))


def _read(path: Path) -> JsonObject:
    schema: JsonObject = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _properties(schema: JsonObject) -> Mapping[str, JsonValue]:
    properties = schema["properties"]
    if not isinstance(properties, Mapping):
        raise TypeError(f"a schema's properties are an object, not {properties!r}")
    return properties


def _event(source: str, detail_type: str, detail: JsonObject) -> JsonObject:
    """The envelope EventBridge puts around a detail; the detail's schema nested in it, without `$schema`."""
    return {
        "$schema": DRAFT_4,
        "title": detail_type,
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
            "detail-type": {"type": "string", "enum": [detail_type]},
            "source": {"type": "string", "enum": [source]},
            "account": {"type": "string", "pattern": "^[0-9]{12}$"},
            "time": {"type": "string", "format": "date-time"},
            "region": {"type": "string"},
            "resources": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1},
            "detail": {key: value for key, value in detail.items() if key != "$schema"},
        },
    }
