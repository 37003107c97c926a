"""The report's "How it was measured" section: the data, the timeline, and how each figure is counted."""

from __future__ import annotations

from bench.figures import SizeFigures
from bench.plan import Plan
from bench.seeding import FAILED_EVERY, IN_PROGRESS_AMONG_NEWEST, IN_PROGRESS_TASKS


def method_section(plan: Plan, sizes: dict[int, SizeFigures]) -> list[str]:
    ks = ", ".join(f"{k:,}" for k in plan.transitions)
    return [
        "## How it was measured",
        "",
        "- **Data.** N tasks spread evenly over the 31-day listing window (the oldest 4 h inside it, so N "
        f"stays N all run long), listed newest first. {IN_PROGRESS_TASKS} are in progress, every other one "
        f"among the newest {IN_PROGRESS_AMONG_NEWEST}; of the rest about 1 in {FAILED_EVERY} failed and the "
        'others completed. (The brief\'s "about half Completed, a few percent Failed" cannot hold with '
        "three states and a few tens in progress; the mix changes no figure: neither poller filters by "
        "state.)",
        f"- **Timeline.** Baseline poll; then {plan.steady_polls} polls one simulated minute apart with "
        "nothing changing (the emulator clock advances 60 s before each; the default safety net every 60 "
        "minutes falls inside the hour and counts in its mean); then one new task appears and completes "
        f"(the per-task cost of the monthly figures; N ≤ {plan.single_task_max_n:,}); then for k = {ks}: k "
        "tracked in-progress tasks finish between two polls (about 3 % fail). For k larger than the tasks in "
        "progress, k new tasks start within 10 minutes and one poll records them first (its own row), and "
        f"one more poll follows the transitions with nothing new. Last, {plan.long_running} long-running "
        "stores: they start, 210 newer tasks arrive over 21 minutes, and 3 polls are measured (handler "
        "only).",
        "- **API calls** are counted with a botocore `before-call` hook on each poller's clients, the same "
        "for both; for the handler they are checked against its own `wiring().api_calls` every poll. EC2 "
        "cells split listing pages from re-checks by ImageIds when there are any. Abbreviations: Get = "
        "GetItem, BatchGet = BatchGetItem, TxWrite = TransactWriteItems, Update = UpdateItem, Put = PutItem; "
        "EC2 calls are DescribeStoreImageTasks, EventBridge calls PutEvents.",
        "- **RRU/WRU** are DynamoDB on-demand request units, **computed from item sizes**. moto does return "
        "`ConsumedCapacity` when asked (a `provide-client-params` hook adds `ReturnConsumedCapacity=TOTAL` "
        "to every call), but with placeholders: GetItem and UpdateItem always 0.5, BatchGetItem one per key, "
        "TransactWriteItems nothing. The bench reads each touched item from moto's table before and after "
        "the call and applies DynamoDB's rules: a strongly consistent read costs 1 RRU per 4 KB (eventually "
        "consistent half that, transactional twice, at least one unit even for a missing item); a write "
        "1 WRU per 1 KB of the larger of the old and new item (transactional twice).",
        "- **Wall ms**: one invocation (`lambda_handler` for ours, `run()` for the naive poller) under "
        "in-process moto, less the time in the bench's own capacity hooks (the bench freezes its own heap "
        "with `gc.freeze()` before each invocation, so the collector does not walk moto's and the data's "
        "objects, as it would not in Lambda). **Client ms**: the same less "
        "the time moto spent answering the calls, i.e. the poller's own work (SDK serialisation and parsing "
        "included). In AWS a call takes milliseconds of network and service time that moto replaces by its "
        "own, different, costs (see the findings): compare pollers on the same row, not rows with AWS.",
        "- **Peak KiB**: tracemalloc peak of the memory allocated during the invocation and held by the "
        "poller: tracing starts right before the invocation, the peak is read "
        "each time a call enters moto and reset when it returns, and what moto keeps (items it stores, its "
        "copies of requests) is subtracted, so moto's own work is left out. tracemalloc slows Python "
        "several times, so memory comes from a second pass of the same deterministic timeline (call counts "
        "are checked to match). For k bursts that pass runs at the smallest N only (that memory depends on "
        "k, not N) and for the handler only. ru_maxrss was not used: it never goes down within a process.",
        "- **Cursor KiB**: size of the handler's cursor item (one per region) after the poll, as DynamoDB "
        "counts it (item limit 400 KB).",
        "- **moto adjustments** (bench only, product untouched): the subscriber queues are unsubscribed and "
        "the rule's targets removed (moto fans out synchronously and each SQS delivery scans the whole "
        "queue, "
        "quadratic in messages; AWS fans out after the publish returns); moto's TransactWriteItems backup "
        "of the whole table once per item of the transaction is skipped (no transaction fails here; one "
        "that did would stop the bench).",
        "- Every row is one poll unless it says mean/max/median; the naive poller has one kind of poll, so "
        "its head/safety net rows show its mean poll. Ratios are naive ÷ ours (∞: ours made none; n/m: not "
        "measured).",
    ]
