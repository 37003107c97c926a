"""How `watch` and `status` show store tasks: a live table on a terminal, one line per change elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ami_store_notifier.cli.progress import FULL, FollowedTask
from ami_store_notifier.cli.status import NotifierView, RegionStatus
from ami_store_notifier.cli.store_quota import quota_line
from ami_store_notifier.cli.watching import WatchResult
from ami_store_notifier.domain.model import StoreTask, format_timestamp

UNKNOWN = "-"
_STATE_STYLES = {"InProgress": "cyan", "Completed": "green", "Failed": "bold red", "NotListed": "yellow"}
_BAR_WIDTH = 10


def duration(span: timedelta | None) -> str:
    if span is None:
        return UNKNOWN
    seconds = round(span.total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def pace(task: FollowedTask) -> str:
    per_second = task.percent_per_second()
    if per_second is None or not task.is_running:
        return UNKNOWN
    per_minute = per_second * 60
    return f"{per_minute:.1f}%/min" if per_minute >= 1 else f"{per_minute:.2f}%/min"


def object_uri(task: FollowedTask) -> str:
    return f"s3://{task.task.bucket}/{task.task.s3_object_key}"


def task_line(task: FollowedTask, now: datetime) -> str:
    head = f"{task.task.ami_id} {task.region} {task.state} {task.percent}%"
    if task.is_running:
        eta = duration(task.remaining(now))
        return f"{head} elapsed {duration(task.elapsed(now))} rate {pace(task)} eta {eta}"
    elapsed = task.elapsed(now)
    took = "before the first check" if elapsed is None else f"after {duration(elapsed)}"
    if task.succeeded:
        return f"{head} {object_uri(task)} {took}"
    return f"{head} {took}: {task.failure}"


def stamped(text: str, now: datetime) -> str:
    return f"{now:%H:%M:%S}Z {text}"


def watch_table(tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> RenderableType:
    """The tasks as a table, and below it how each that ended did: where its object is, or why it failed.
    Narrow enough for an 80-column terminal: the Region is a column only when several are watched."""
    regions = sorted({task.region for task in tasks})
    several = len(regions) > 1
    table = _watch_frame(now, next_check, "" if several else f" in {', '.join(regions)}")
    for column in _WATCH_COLUMNS:
        if several or column != _REGION_COLUMN:
            table.add_column(column, no_wrap=True, justify="right" if column == "" else "left")
    for task in tasks:
        table.add_row(*_watch_cells(task, now, with_region=several))
    return Group(table, *(_outcome(task) for task in tasks if not task.is_running))


_REGION_COLUMN = "Region"
_WATCH_COLUMNS = ("AMI", _REGION_COLUMN, "State", "Progress", "", "Elapsed", "Rate", "ETA")


def _watch_frame(now: datetime, next_check: timedelta | None, where: str) -> Table:
    due = f"next check in {duration(next_check)}" if next_check is not None else "done"
    return Table(
        title=f"AMI store tasks{where} at {now:%H:%M:%S} UTC, {due}",
        title_justify="left",
        box=None,
        pad_edge=False,
        show_header=True,
        header_style="bold underline",
    )


def _watch_cells(task: FollowedTask, now: datetime, *, with_region: bool) -> tuple[RenderableType, ...]:
    return (
        task.task.ami_id,
        *((task.region,) if with_region else ()),
        Text(task.state, style=_STATE_STYLES.get(task.state, "")),
        ProgressBar(total=FULL, completed=task.percent, width=_BAR_WIDTH),
        f"{task.percent}%",
        duration(task.elapsed(now)),
        pace(task),
        duration(task.remaining(now)),
    )


def _outcome(task: FollowedTask) -> Text:
    if task.failure is None:
        return Text(f"  {task.task.ami_id} completed: {object_uri(task)}", style="green")
    return Text(f"  {task.task.ami_id} did not complete: {task.failure}", style="red")


def summary(result: WatchResult, now: datetime) -> list[str]:
    lines = [task_line(task, now) for task in result.tasks]
    failed = len(result.failures)
    lines.append(f"Summary: {len(result.tasks) - failed} completed, {failed} did not complete.")
    return lines


class LineView:
    """Without a terminal: a line when a task's state or progress changes, never a redraw."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._shown: dict[str, tuple[str, int]] = {}

    def show(self, tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> None:
        for task in tasks:
            seen = (task.state, task.percent)
            if self._shown.get(task.label) != seen:
                self._shown[task.label] = seen
                self._console.print(stamped(task_line(task, now), now), highlight=False, soft_wrap=True)

    def note(self, text: str, now: datetime) -> None:
        self._console.print(stamped(text, now), highlight=False, soft_wrap=True)


class LiveView:
    """On a terminal: one table redrawn in place, ticking between checks."""

    def __init__(self, console: Console, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._tasks: Sequence[FollowedTask] = ()
        self._next_check_at: datetime | None = None
        self._live = Live(console=console, get_renderable=self._render, refresh_per_second=2)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._live.stop()

    def show(self, tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> None:
        self._tasks = tasks
        self._next_check_at = None if next_check is None else now + next_check
        self._live.refresh()

    def note(self, text: str, now: datetime) -> None:
        self._live.console.print(stamped(text, now), highlight=False)

    def _render(self) -> RenderableType:
        now = self._clock()
        due = None if self._next_check_at is None else max(self._next_check_at - now, timedelta(0))
        return watch_table(self._tasks, now, due)


def status_lines(statuses: Sequence[RegionStatus], now: datetime) -> list[Text]:
    """Each Region's header (and, with the notifier's table, the store quota's use), then one block per
    task: its whole AMI id, state and progress on a line, then one indented `key: value` line per fact.
    No column is cut to fit a width: print each line with soft_wrap, so that an AMI id or an object URI,
    which the next command takes, stays whole on its line on any screen and in a pipe."""
    lines: list[Text] = []
    for status in statuses:
        if lines:
            lines.append(Text())
        ended = f"{len(status.ended)} ended in the last day"
        lines.append(Text(f"{status.region}: {len(status.in_progress)} in progress, {ended}"))
        if status.incomplete:
            lines.append(Text("Older tasks not read (the call limit)."))
        if status.quota is not None:
            lines.append(Text(quota_line(status.quota)))
        for task in status.tasks:
            lines += [Text(), *_task_block(task, now, status.notifier.get(task.key))]
    return lines


def _task_block(task: StoreTask, now: datetime, seen: NotifierView | None) -> list[Text]:
    state = Text(task.state_name, style=_STATE_STYLES.get(task.state_name, ""))
    head = Text.assemble(task.ami_id, "  ", state, f"  {task.progress_percentage or 0}%")
    facts = [("object", f"s3://{task.bucket}/{task.s3_object_key}")]
    if task.failure_reason:
        facts.append(("reason", task.failure_reason))
    started = format_timestamp(task.task_start_time)
    facts.append(("started", f"{duration(now - task.task_start_time)} ago ({started})"))
    if seen is not None:
        facts.append(("notifier", _notifier_fact(seen)))
    return [head, *(Text(f"{_INDENT}{key + ':':<{_KEY_WIDTH}}{value}") for key, value in facts)]


_INDENT = "    "
_KEY_WIDTH = len("notifier: ")


def _notifier_fact(seen: NotifierView) -> str:
    owed = ", delivery pending" if seen.delivery_pending else ""
    return (
        f"recorded {seen.recorded or 'nothing yet'}, announced {', '.join(seen.announced) or 'nothing'}{owed}"
    )
