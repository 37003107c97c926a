"""The per-size tables of the report: a row per scenario and poller, and the ratio naive ÷ ours."""

from __future__ import annotations

from collections.abc import Sequence

from bench.figures import Figures, SizeFigures, scenarios
from bench.plan import Plan

SERVICES = ("EC2", "DynamoDB", "SNS", "EventBridge")
SHORT_NAMES = {
    "DescribeStoreImageTasks": "Describe",
    "GetItem": "Get",
    "BatchGetItem": "BatchGet",
    "TransactWriteItems": "TxWrite",
    "UpdateItem": "Update",
    "PutItem": "Put",
    "PublishBatch": "PublishBatch",
    "Publish": "Publish",
    "PutEvents": "PutEvents",
}
COLUMNS = (
    "Scenario",
    "Who",
    "Polls",
    "EC2 calls",
    "DynamoDB calls",
    "SNS calls",
    "EventBridge calls",
    "RRU",
    "WRU",
    "Wall ms",
    "Client ms",
    "Peak KiB",
    "Cursor KiB",
)
OURS, NAIVE, RATIO = "ours", "naive", "naive ÷ ours"
TIMES = "\N{MULTIPLICATION SIGN}"


def number(value: float | None, *, decimals: int = 2) -> str:
    if value is None:
        return "n/m"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}"


def ratio(naive: float | None, ours: float | None) -> str:
    if naive is None or ours is None:
        return "—"
    if ours == 0:
        return "—" if naive == 0 else "∞"
    times = naive / ours
    return f"{TIMES}{times:,.1f}" if times < 100 else f"{TIMES}{times:,.0f}"


def _ec2_cell(data: Figures) -> str:
    total = data.service("EC2")
    by_id = data.describe_kinds.get("by-id", 0)
    if by_id:
        pages = number(data.describe_kinds.get("listing", 0))
        return f"{number(total)} = {pages} pages + {number(by_id)} by id"
    return number(total)


def _service_cell(data: Figures, service: str) -> str:
    if service == "EC2":
        return _ec2_cell(data)
    total = data.service(service)
    ops = sorted((op, count) for (name, op), count in data.calls.items() if name == service and count)
    if not ops or (service == "EventBridge" and [op for op, _ in ops] == ["PutEvents"]):
        return number(total)
    return _operations_cell(total, ops)


def _operations_cell(total: float, ops: list[tuple[str, float]]) -> str:
    """The total, and each operation's count when there are several (its short name when one)."""
    parts = " + ".join(f"{SHORT_NAMES.get(op, op)} {number(count)}" for op, count in ops)
    return (
        f"{number(total)} = {parts}"
        if len(ops) > 1
        else f"{number(total)} {SHORT_NAMES.get(ops[0][0], ops[0][0])}"
    )


def wall(value: float) -> str:
    return number(value, decimals=1) if value < 100 else number(round(value))


def figure_cells(data: Figures) -> dict[str, str]:
    return {
        "Polls": str(data.polls),
        "EC2 calls": _service_cell(data, "EC2"),
        "DynamoDB calls": _service_cell(data, "DynamoDB"),
        "SNS calls": _service_cell(data, "SNS"),
        "EventBridge calls": _service_cell(data, "EventBridge"),
        "RRU": number(data.read_units),
        "WRU": number(data.write_units),
        "Wall ms": wall(data.wall_ms),
        "Client ms": wall(data.client_ms),
        "Peak KiB": number(data.peak_kib, decimals=0) if data.peak_kib is not None else "n/m",
        "Cursor KiB": number(data.cursor_kib, decimals=1) if data.cursor_kib is not None else "—",
    }


def ratio_cells(naive: Figures, ours: Figures) -> dict[str, str]:
    cells = {"Polls": ""}
    for service in SERVICES:
        cells[f"{service} calls"] = ratio(naive.service(service), ours.service(service))
    cells["RRU"] = ratio(naive.read_units, ours.read_units)
    cells["WRU"] = ratio(naive.write_units, ours.write_units)
    cells["Wall ms"] = ratio(naive.wall_ms, ours.wall_ms)
    cells["Client ms"] = ratio(naive.client_ms, ours.client_ms)
    cells["Peak KiB"] = ratio(naive.peak_kib, ours.peak_kib)
    cells["Cursor KiB"] = "—"
    return cells


def size_rows(plan: Plan, data: SizeFigures) -> list[dict[str, str]]:
    rows = []
    for scenario in scenarios(plan):
        ours = data.ours.get(scenario.key)
        if ours is None:
            continue
        naive = data.naive.get(scenario.key)
        rows.append({"Scenario": scenario.title, "Who": OURS, **figure_cells(ours)})
        if naive is not None:
            rows.append({"Scenario": "", "Who": NAIVE, **figure_cells(naive)})
            rows.append({"Scenario": "", "Who": RATIO, **ratio_cells(naive, ours)})
    return rows


def markdown_table(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row.get(column, "") for column in columns) + " |" for row in rows]
    return "\n".join(lines)
