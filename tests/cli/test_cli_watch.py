"""`ami-store-notifier watch` against the emulator over HTTP: what a log and a terminal show, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from local.ec2_store_tasks import CLOCK, StoreTaskBackend
from local.ec2_store_tasks.api import DESCRIBE_STORE
from tests.cli.conftest import CliRun

REASON = "The AMI's EBS snapshot snap-0f3c9 could not be read"


def test_without_a_terminal_watch_prints_a_line_per_change_and_exits_1_with_the_failure_reason(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str]
) -> None:
    completes = start_store(minutes=12)
    fails = start_store(minutes=5, fail_reason=REASON)

    run = run_cli(["watch", completes, fails])

    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert "\x1b" not in run.stdout
    assert any(
        line.endswith(f"{fails} us-east-1 InProgress 0% elapsed 0:00:00 rate - eta -") for line in lines
    )
    assert any(f"{fails} us-east-1 Failed" in line and line.endswith(REASON) for line in lines)
    assert any(
        f"{completes} us-east-1 Completed 100% s3://ami-archive/{completes}.bin" in line for line in lines
    )
    assert lines[-1] == "Summary: 1 completed, 1 did not complete."
    progress_lines = [line for line in lines if f"{completes} us-east-1 InProgress" in line]
    assert len(progress_lines) == len(set(progress_lines)) >= 5
    assert "eta 0:" in progress_lines[-1]


def test_watch_exits_0_when_every_store_completed(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str]
) -> None:
    first, second = start_store(minutes=3), start_store(minutes=4)

    run = run_cli(["watch", first, second])

    assert run.exit_code == 0
    assert run.stdout.splitlines()[-1] == "Summary: 2 completed, 0 did not complete."


def test_watch_without_names_follows_every_store_in_progress(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str]
) -> None:
    stores = {start_store(minutes=2), start_store(minutes=6)}

    run = run_cli(["watch"])

    assert run.exit_code == 0
    assert {line.split()[0] for line in run.stdout.splitlines()[-3:-1]} == stores


def test_on_a_terminal_watch_redraws_one_table_that_ends_with_every_task_and_its_outcome(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str]
) -> None:
    completes = start_store(minutes=8)
    fails = start_store(minutes=3, fail_reason=REASON)

    run = run_cli(["watch", completes, fails], terminal=True)

    assert run.exit_code == 1
    assert "\x1b[" in run.stdout
    final = run.screen[run.screen.rindex("AMI store tasks in us-east-1 at") :]
    assert ", done" in final.splitlines()[0]
    for heading in ("AMI", "State", "Progress", "Elapsed", "Rate", "ETA"):
        assert heading in final
    completed_row = next(line for line in final.splitlines() if completes in line)
    assert "Completed" in completed_row
    assert "100%" in completed_row
    assert "━" in completed_row
    failed_row = next(line for line in final.splitlines() if fails in line)
    assert "Failed" in failed_row
    assert f"{completes} completed: s3://ami-archive/{completes}.bin" in final
    assert f"{fails} did not complete: {REASON}" in final
    running = run.screen.split("AMI store tasks in us-east-1 at")[2]
    assert "next check in" in running.splitlines()[0]
    assert "InProgress" in running


def test_watch_keeps_within_the_shared_request_budget_and_leaves_the_bucket_nearly_full(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str], store_tasks: StoreTaskBackend
) -> None:
    started = CLOCK.now()
    stores = [start_store(minutes=minutes) for minutes in (30, 45, 60)]

    run = run_cli(["watch", *stores])

    minutes = (CLOCK.now() - started) / timedelta(minutes=1)
    calls = store_tasks.calls[DESCRIBE_STORE]
    bucket = store_tasks.throttle.bucket(DESCRIBE_STORE, CLOCK.now())
    assert run.exit_code == 0
    assert calls / minutes <= 6
    assert bucket.refused == 0
    assert bucket.lowest >= 45


def test_when_ec2_throttles_watch_backs_off_says_so_and_still_follows_the_store_to_its_end(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str], store_tasks: StoreTaskBackend
) -> None:
    ami_id = start_store(minutes=5)
    store_tasks.faults.inject(DESCRIBE_STORE, "RequestLimitExceeded", times=4)

    run = run_cli(["watch", ami_id])

    assert run.exit_code == 0
    notes = [line for line in run.stdout.splitlines() if "EC2 did not answer" in line]
    assert len(notes) == 2
    assert "RequestLimitExceeded" in notes[0]
    assert notes[0].endswith("next check in 0:00:30")
    assert notes[1].endswith("next check in 0:00:40")


# Hours the emulator clock is ahead of the wall clock when the store starts, as in the demo: the object's
# Last-Modified is the emulator's moment of completion, not moto's wall clock.
@pytest.mark.parametrize("hours_ahead", [0, 3])
def test_a_store_ending_long_before_its_progress_says_is_reported_seconds_after_its_object_lands(
    run_cli: Callable[..., CliRun],
    start_store: Callable[..., str],
    ending_at: Callable[[str, datetime], Callable[[float], None]],
    store_tasks: StoreTaskBackend,
    hours_ahead: int,
) -> None:
    CLOCK.advance(hours_ahead * 3600)
    started = CLOCK.now()
    ami_id = start_store(minutes=60)
    landed = started + timedelta(minutes=8, seconds=7)

    run = run_cli(["watch", ami_id], sleep=ending_at(ami_id, landed))

    assert run.exit_code == 0
    assert "cannot read" not in run.stdout
    completed = next(line for line in run.stdout.splitlines() if f"{ami_id} us-east-1 Completed" in line)
    stamp = datetime.strptime(completed.split()[0], "%H:%M:%SZ").time()
    reported = datetime.combine(landed.date(), stamp, landed.tzinfo)
    # The line's stamp is a time of day, to the second.
    assert (reported - landed.replace(microsecond=0)) % timedelta(days=1) <= timedelta(seconds=15)
    minutes = (CLOCK.now() - started) / timedelta(minutes=1)
    assert store_tasks.calls[DESCRIBE_STORE] / minutes <= 6


def test_watching_an_ami_without_a_store_task_fails_with_one_line_and_exit_2(
    run_cli: Callable[..., CliRun], new_ami: Callable[[], str]
) -> None:
    ami_id = new_ami()

    run = run_cli(["watch", ami_id])

    assert run.exit_code == 2
    assert run.stderr.strip().splitlines() == [
        f"error: no store task of {ami_id} in us-east-1 (EC2 lists the tasks of the last 31 days)"
    ]


def test_watch_with_nothing_in_progress_says_so_and_exits_0(
    run_cli: Callable[..., CliRun], bucket: str
) -> None:
    run = run_cli(["watch", "--region", "us-east-1"])

    assert run.exit_code == 0
    assert run.stdout.strip() == "No store tasks in progress in us-east-1."


def test_ctrl_c_stops_watching_with_exit_130_and_says_how_to_follow_the_stores_again(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str], served: str
) -> None:
    ami_id = start_store(minutes=30)

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    run = run_cli(["watch", ami_id], sleep=interrupted)

    assert run.exit_code == 130
    assert run.stderr.strip() == (
        "Stopped watching; the stores go on in EC2. Follow them again: "
        f"ami-store-notifier watch {ami_id} --region us-east-1"
    )


def test_an_aws_profile_that_does_not_exist_is_a_usage_error_naming_it(
    run_cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")

    run = run_cli(["watch"])

    assert run.exit_code == 2
    assert "no-such-profile" in run.stderr
