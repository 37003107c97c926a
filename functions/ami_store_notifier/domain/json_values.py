"""JSON as the notifier writes it (event details, chat messages, log summaries) and as it enters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

JsonValue: TypeAlias = str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]
# A JSON object as it enters, its shape not checked yet: a Lambda event, an SQS message's body, an event
# detail read back. The code that reads one takes what it expects from it, and a message of another
# shape fails there (a KeyError, a TypeError).
IncomingJson: TypeAlias = Mapping[str, Any]
