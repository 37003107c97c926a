"""The archive checks where S3 or EC2 answer what a check does not expect: the run's announcements go on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.notices import Notice, NoticeKind, Verdict
from ami_store_notifier.domain.verification import BucketFacts, LifecycleTransition, ObjectFacts
from ami_store_notifier.report import METRICS, RunReport

COMPLETED = TaskState.COMPLETED
IN_PROGRESS = TaskState.IN_PROGRESS
EXPIRATION = "EXPIRATION"


def finish(task):
    return replace(task, state_name=COMPLETED.value, progress_percentage=100)


def whole_object(task, *, written_after_start=timedelta(minutes=5)):
    return ObjectFacts(size=10, last_modified=task.task_start_time + written_after_start)


def checks(publisher):
    return [
        item for item in publisher.sent if isinstance(item, Notice) and item.kind is NoticeKind.VERIFICATION
    ]


def completed_after_tracking(make_assured_poller, make_task, source, clock):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    source.put(running)
    make_assured_poller().run()
    source.put(finish(running))
    clock.now += timedelta(minutes=1)
    return running


def test_an_unexpected_s3_answer_is_not_verified_with_its_code_and_the_completion_is_still_announced(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = completed_after_tracking(make_assured_poller, make_task, source, clock)
    archives.refused["archive-bucket"] = "InvalidObjectState"

    make_assured_poller().run()

    assert [getattr(item, "state", None) for item in sns.sent if not isinstance(item, Notice)] == [
        "Completed"
    ]
    [check] = checks(sns)
    assert check.facts.reasons == (
        f"S3 answered InvalidObjectState for s3://archive-bucket/{running.s3_object_key}",
    )


def test_a_lifecycle_rule_that_deletes_the_object_keeps_it_from_being_verified(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = completed_after_tracking(make_assured_poller, make_task, source, clock)
    archives.objects[("archive-bucket", running.s3_object_key)] = whole_object(running)
    archives.facts["archive-bucket"] = BucketFacts(
        lifecycle=(LifecycleTransition("tidy-up", EXPIRATION, days=90),)
    )

    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.verdict is Verdict.NOT_VERIFIED
    assert check.facts.reasons == (
        "deleted by a lifecycle rule: tidy-up expires it 90 days after it was written",
    )
    assert check.facts.restore_needed_after == ()


def test_an_object_written_a_little_before_the_start_by_the_clocks_is_still_the_stores(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = completed_after_tracking(make_assured_poller, make_task, source, clock)
    archives.objects[("archive-bucket", running.s3_object_key)] = whole_object(
        running, written_after_start=-timedelta(minutes=1)
    )

    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.verdict is Verdict.VERIFIED


def test_a_check_s3_does_not_answer_for_a_day_is_concluded_not_kept_for_ever(
    make_assured_poller, make_task, source, clock, archives, sns, store
):
    running = completed_after_tracking(make_assured_poller, make_task, source, clock)
    archives.throttled_looks = 10_000
    make_assured_poller().run()
    clock.now += timedelta(hours=25)
    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.reasons[0].startswith(
        f"not checked: S3 did not answer for s3://archive-bucket/{running.s3_object_key}"
    )
    assert store.cursor.watches == {}


def test_ec2_refusing_to_describe_images_leaves_sizes_unknown_and_announcements_go_on(
    make_assured_poller, make_task, source, clock, image_sizes, sns
):
    make_assured_poller().run()
    running = make_task(IN_PROGRESS)
    source.put(running)
    clock.now += timedelta(minutes=1)
    first = make_assured_poller().run()
    source.put(finish(running))
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()

    assert (first.store_quota_gigabytes, first.stores_without_size) == (0, 1)
    assert [item.state for item in sns.sent if not isinstance(item, Notice)] == ["Completed"]


def test_a_short_store_into_an_unapproved_bucket_first_seen_finished_is_still_called_unapproved(
    make_assured_poller, make_task, source, clock, sns, policy
):
    make_assured_poller().run()
    source.put(make_task(COMPLETED, bucket="exfil-bucket"))
    clock.now += timedelta(minutes=1)
    quiet_about_completions = replace(policy, announce_states=frozenset({TaskState.FAILED}))
    make_assured_poller(policy_override=quiet_about_completions).run()

    assert [item.kind for item in sns.sent if isinstance(item, Notice)] == [NoticeKind.UNAPPROVED_BUCKET]


def test_the_store_quota_metric_is_published_from_half_the_quota_and_the_log_line_has_every_figure():
    quota = METRICS["store_quota_gigabytes"]
    below, at_half = RunReport(region="us-east-1"), RunReport(region="us-east-1")
    below.store_quota_gigabytes, at_half.store_quota_gigabytes = 599, 600

    assert quota not in dict(below.metric_values())
    assert dict(at_half.metric_values())[quota] == 600
    assert below.summary()["storeQuotaGigabytes"] == 599


def test_past_the_most_checks_that_may_wait_the_oldest_are_concluded_unanswered(
    make_assured_poller, make_task, source, clock, archives, sns, store, monkeypatch
):
    monkeypatch.setattr("ami_store_notifier.assurance.MAX_ARCHIVES_WAITING", 1)
    make_assured_poller().run()
    older, newer = make_task(IN_PROGRESS), make_task(IN_PROGRESS)
    source.put(older, newer)
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()
    archives.throttled_looks = 10_000
    source.put(finish(older))
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()
    source.put(finish(newer))
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()

    [check] = checks(sns)
    assert check.ami_id == older.ami_id
    assert check.facts.reasons[0].startswith("not checked: S3 did not answer")
    assert [key for key, watch in store.cursor.watches.items() if watch.awaits_check] == [newer.key]
