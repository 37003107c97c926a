"""What measured runs of the real handler cost, per kind of run (bench/bill/runs.py measures them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

IDLE, BUSY, START, FINISH, FAIL, COLD = "idle", "busy", "start", "finish", "fail", "cold"
"""Kinds of run: nothing in progress; a store in progress; the run that first lists a store; the run that
sees it complete; the run that sees it fail; an idle run on a cold start (a fresh execution environment)."""
KINDS = (IDLE, BUSY, START, FINISH, FAIL, COLD)
HINT_START, HINT_OBJECT = "hint-start", "hint-object"
"""Kinds of hint run (an invocation by the hint queue's event source mapping, with one batch): the batch
holding a store's CloudTrail start; the batch holding its object's S3 Object Created. Measured only for a
deployment with hints."""
HINT_KINDS = (HINT_START, HINT_OBJECT)


@dataclass
class RunFigures:
    """Sums over the measured runs of one kind; `mean` reads them per run."""

    runs: int = 0
    metrics: Counter[str] = field(default_factory=Counter)
    """Custom metric -> how many of the runs published it."""
    log_bytes: int = 0
    own_seconds: float = 0.0
    """Wall time less moto's: the handler's own work, SDK included."""
    calls: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    sns_requests: int = 0
    """Billed SNS requests: 64 KB chunks of each Publish or PublishBatch."""
    sns_messages: Counter[str] = field(default_factory=Counter)
    """Messages by the environment variable naming their topic (TOPIC_ARN, CHAT_TOPIC_ARN)."""
    events: int = 0
    """Billed EventBridge events: 64 KB chunks of each PutEvents entry."""
    event_bytes: int = 0

    def mean(self, figure: str) -> float:
        value: float = getattr(self, figure)
        return value / self.runs if self.runs else 0.0

    def share(self, metric: str) -> float:
        """The fraction of the runs that published `metric`."""
        return self.metrics[metric] / self.runs if self.runs else 0.0

    def messages(self, variable: str) -> float:
        return self.sns_messages[variable] / self.runs if self.runs else 0.0


@dataclass
class Profile:
    """One handler environment's runs, by kind, and the state table they leave."""

    kinds: dict[str, RunFigures]
    table_bytes: float
    """The table's items (sizes as DynamoDB bills storage: 100 bytes of overhead each) with no store."""
    table_bytes_per_store: float
    relay: RunFigures | None = None
    """One invocation of the hub's relay, when measured."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kinds": {kind: _plain(figures) for kind, figures in self.kinds.items()},
            "table_bytes": self.table_bytes,
            "table_bytes_per_store": self.table_bytes_per_store,
            "relay": _plain(self.relay) if self.relay else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        def figures(raw: dict[str, Any]) -> RunFigures:
            return RunFigures(
                **{**raw, "metrics": Counter(raw["metrics"]), "sns_messages": Counter(raw["sns_messages"])}
            )

        relay = data.get("relay")
        return cls(
            kinds={kind: figures(raw) for kind, raw in data["kinds"].items()},
            table_bytes=data["table_bytes"],
            table_bytes_per_store=data["table_bytes_per_store"],
            relay=figures(relay) if relay else None,
        )


def _plain(figures: RunFigures) -> dict[str, Any]:
    # Not dataclasses.asdict: it rebuilds each Counter from its (key, count) pairs, counting the pairs.
    return {item.name: getattr(figures, item.name) for item in fields(figures)} | {
        "metrics": dict(figures.metrics),
        "sns_messages": dict(figures.sns_messages),
    }
