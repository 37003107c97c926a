"""What one invocation writes and sends that AWS bills by size or by count.

- Its output: Powertools writes the metrics blob (embedded metric format, EMF) to stdout and its log
  lines through its logger; Lambda sends both to CloudWatch Logs, which bills the bytes, and CloudWatch
  makes each distinct metric of the EMF blobs a custom metric.
- Its publishes: SNS bills each 64 KB chunk of a Publish or PublishBatch request's messages as one
  request ("Amazon SNS message batching": a batch can cost up to 10 times less), EventBridge each 64 KB
  chunk of each PutEvents entry as one event; SNS asks KMS for each message to an encrypted topic.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

CHUNK_BYTES = 64 * 1024


def metrics_in(output: str) -> set[str]:
    """The custom metrics the EMF blobs of `output` publish: namespace, name and dimension values, which
    together are one metric to CloudWatch."""
    found: set[str] = set()
    for line in output.splitlines():
        blob = _json(line)
        if blob is None or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                where = ",".join(f"{name}={blob[name]}" for name in dimensions)
                found.update(f"{directive['Namespace']}/{m['Name']}[{where}]" for m in directive["Metrics"])
    return found


def _json(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@contextlib.contextmanager
def output_of(*loggers: Any) -> Iterator[io.StringIO]:
    """Everything written to stdout and through these Powertools loggers' handlers, whose streams are
    the stdout they found at import, not the one `redirect_stdout` swaps in."""
    sink = io.StringIO()
    handlers = [logger.registered_handler for logger in loggers]
    saved = [handler.setStream(sink) for handler in handlers]
    try:
        with contextlib.redirect_stdout(sink):
            yield sink
    finally:
        for handler, stream in zip(handlers, saved, strict=True):
            if stream is not None:
                handler.setStream(stream)


def _size(*texts: Any) -> int:
    return sum(len(str(text).encode()) for text in texts if text is not None)


def _message_bytes(entry: Mapping[str, Any]) -> int:
    attributes = entry.get("MessageAttributes", {})
    return _size(entry.get("Message"), entry.get("Subject")) + sum(
        _size(name, value.get("DataType"), value.get("StringValue")) for name, value in attributes.items()
    )


def _entry_bytes(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge counts it ("Calculating PutEvents event entry size")."""
    time = 14 if entry.get("Time") is not None else 0
    resources = sum(_size(resource) for resource in entry.get("Resources", ()))
    return time + resources + _size(entry.get("Source"), entry.get("DetailType"), entry.get("Detail"))


class Publishes:
    """SNS and EventBridge billing units of the calls made through the attached clients."""

    def __init__(self, topics: Mapping[str, str]) -> None:
        self._topics = topics
        """Topic ARN -> the environment variable that names it (TOPIC_ARN, CHAT_TOPIC_ARN)."""
        self.sns_requests = 0
        self.sns_messages: Counter[str] = Counter()
        self.events = 0
        self.event_bytes = 0
        self.last_detail: str | None = None

    def attach(self, client: Any) -> Any:
        client.meta.events.register("provide-client-params.sns.Publish", self._published)
        client.meta.events.register("provide-client-params.sns.PublishBatch", self._published)
        client.meta.events.register("provide-client-params.events.PutEvents", self._put)
        return client

    def reset(self) -> None:
        self.sns_requests = self.events = self.event_bytes = 0
        self.sns_messages.clear()

    def _published(self, params: Mapping[str, Any], **_: Any) -> None:
        entries = params.get("PublishBatchRequestEntries", [params])
        self.sns_requests += max(1, math.ceil(sum(map(_message_bytes, entries)) / CHUNK_BYTES))
        self.sns_messages[self._topics.get(params["TopicArn"], params["TopicArn"])] += len(entries)

    def _put(self, params: Mapping[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            size = _entry_bytes(entry)
            self.events += max(1, math.ceil(size / CHUNK_BYTES))
            self.event_bytes += size
            self.last_detail = entry.get("Detail")
