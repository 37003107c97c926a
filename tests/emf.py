"""The metrics a run printed in CloudWatch's embedded metric format (EMF), read as CloudWatch reads them."""

from __future__ import annotations

import json
from typing import Any

SERVICE_ONLY = ("service",)


def metric_documents(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def published(output: str) -> dict[tuple[str, tuple[str, ...]], list[float]]:
    """Each metric printed, by name and dimension names (one custom metric each), with its values."""
    found: dict[tuple[str, tuple[str, ...]], list[float]] = {}
    for document in metric_documents(output):
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    values = document[metric["Name"]]  # one value, or a list of them
                    found.setdefault((metric["Name"], tuple(dimensions)), []).extend(
                        values if isinstance(values, list) else [values]
                    )
    return found
