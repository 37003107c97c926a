from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ami_store_notifier.assurance import AssurancePolicy
from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.notices import ArchiveCheck, Notice, NoticeKind, UnapprovedStore, Verdict
from ami_store_notifier.domain.verification import BucketFacts, LifecycleTransition, ObjectFacts

COMPLETED = TaskState.COMPLETED
IN_PROGRESS = TaskState.IN_PROGRESS


def finish(task):
    return replace(task, state_name=COMPLETED.value, progress_percentage=100)


def object_of(task, *, size=1_000, written_after_start=timedelta(minutes=5), storage_class=None):
    return ObjectFacts(
        size=size,
        last_modified=task.task_start_time + written_after_start,
        storage_class=storage_class,
        version_id="v1",
        etag="abc",
        checksum_algorithm="SHA256",
        checksum="c2hh",
    )


def checks(publisher):
    return [
        item for item in publisher.sent if isinstance(item, Notice) and item.kind is NoticeKind.VERIFICATION
    ]


def tracked_then_completed(make_assured_poller, make_task, source, clock, **task_options):
    running = make_task(IN_PROGRESS, started_minutes_ago=30, **task_options)
    source.put(running)
    make_assured_poller().run()
    source.put(finish(running))
    clock.now += timedelta(minutes=1)
    return running


def test_a_completed_store_whose_object_is_whole_is_announced_completed_then_verified_once(
    make_assured_poller, make_task, source, clock, archives, sns, events
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    archives.objects[("archive-bucket", running.s3_object_key)] = object_of(running)

    make_assured_poller().run()
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()

    assert [getattr(item, "state", None) or item.kind.value for item in sns.sent] == [
        "Completed",
        "Verification",
    ]
    [verified] = checks(events)
    assert isinstance(verified.facts, ArchiveCheck)
    assert verified.facts.verdict is Verdict.VERIFIED
    assert (verified.facts.object_size, verified.facts.version_id, verified.facts.checksum) == (
        1_000,
        "v1",
        "c2hh",
    )
    assert archives.looks == [("archive-bucket", running.s3_object_key)]


def test_an_object_written_before_the_store_started_or_empty_is_not_verified_with_both_reasons(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    stale = object_of(running, size=0, written_after_start=-timedelta(days=1))
    archives.objects[("archive-bucket", running.s3_object_key)] = stale

    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.verdict is Verdict.NOT_VERIFIED
    assert check.facts.reasons[0] == "empty: the object holds 0 bytes"
    assert check.facts.reasons[1].startswith("older than the task")


def test_an_object_in_glacier_needs_a_restore_and_a_lifecycle_rule_to_deep_archive_is_named(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    archives.objects[("archive-bucket", running.s3_object_key)] = object_of(running, storage_class="GLACIER")
    archives.facts["archive-bucket"] = BucketFacts(
        versioning="Enabled", lifecycle=(LifecycleTransition("to-deep", "DEEP_ARCHIVE", days=30),)
    )

    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.reasons == (
        "needs a restore: the object is in GLACIER, which must be restored before CreateRestoreImageTask "
        "can read it",
    )
    assert [(rule.rule_id, rule.days, rule.storage_class) for rule in check.facts.restore_needed_after] == [
        ("to-deep", 30, "DEEP_ARCHIVE")
    ]


def test_access_denied_names_the_permission_the_role_needs(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    archives.denied.add("archive-bucket")

    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.reasons == (
        f"access denied: the role needs s3:GetObject on s3://archive-bucket/{running.s3_object_key} (and "
        "kms:Decrypt on the object's KMS key, if the bucket encrypts with a customer managed key)",
    )


def test_a_bucket_the_deployment_may_not_read_is_not_verified_without_asking_s3(
    make_assured_poller, make_task, source, clock, archives, sns
):
    tracked_then_completed(make_assured_poller, make_task, source, clock, bucket="archive-elsewhere")

    make_assured_poller().run()

    [check] = checks(sns)
    assert check.facts.reasons == (
        "s3://archive-elsewhere is not among the buckets this deployment may read (readableBuckets)",
    )
    assert archives.looks == []


def test_an_object_missing_at_first_is_verified_once_it_appears_and_announced_once(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    make_assured_poller().run()
    clock.now += timedelta(minutes=3)
    make_assured_poller().run()
    archives.objects[("archive-bucket", running.s3_object_key)] = object_of(running)
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()

    assert [check.facts.verdict for check in checks(sns)] == [Verdict.VERIFIED]
    assert len(archives.looks) == 3


def test_an_object_still_missing_after_the_grace_is_announced_missing(
    make_assured_poller, make_task, source, clock, archives, sns
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    for _ in range(13):
        make_assured_poller().run()
        clock.now += timedelta(minutes=1)

    [check] = checks(sns)
    assert check.facts.reasons == (
        f"missing: there is no object at s3://archive-bucket/{running.s3_object_key}",
    )


def test_a_check_s3_throttles_waits_for_the_next_run_and_nothing_is_lost_or_doubled(
    make_assured_poller, make_task, source, clock, archives, sns, store
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    archives.objects[("archive-bucket", running.s3_object_key)] = object_of(running)
    archives.throttled_looks = 1

    first = make_assured_poller().run()
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()

    assert first.archive_checks_waiting == 1
    assert [item.kind for item in sns.sent if isinstance(item, Notice)] == [NoticeKind.VERIFICATION]
    assert store.cursor.watches == {}


def test_the_step_claiming_a_completion_writes_that_its_archive_is_still_to_check(
    make_assured_poller, make_task, source, clock, archives, store
):
    running = tracked_then_completed(make_assured_poller, make_task, source, clock)
    archives.throttled_looks = 1
    original_commit = store.commit
    written = []

    def commit(version, step):
        written.append(step.cursor.watches)
        return original_commit(version, step)

    store.commit = commit
    make_assured_poller().run()

    assert written[-1] is not None
    assert written[-1][running.key].awaits_check


def test_a_store_into_an_unapproved_bucket_is_announced_the_first_time_it_is_seen_only(
    make_assured_poller, make_task, source, clock, sns
):
    make_assured_poller().run()
    outsider = make_task(IN_PROGRESS, bucket="exfil-bucket")
    insider = make_task(IN_PROGRESS, bucket="archive-2026")
    source.put(outsider, insider)
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        make_assured_poller().run()

    [alert] = [item for item in sns.sent if isinstance(item, Notice)]
    assert alert.kind is NoticeKind.UNAPPROVED_BUCKET
    assert (alert.ami_id, alert.bucket) == (outsider.ami_id, "exfil-bucket")
    assert alert.facts == UnapprovedStore(("archive-*",), None)


def test_without_approved_buckets_no_store_is_called_unapproved(
    make_assured_poller, make_task, source, clock, sns
):
    make_assured_poller().run()
    source.put(make_task(IN_PROGRESS, bucket="anywhere"))
    clock.now += timedelta(minutes=1)
    make_assured_poller(assurance=AssurancePolicy()).run()

    assert sns.sent == []


def stalled_notices(publisher):
    return [item for item in publisher.sent if isinstance(item, Notice) and item.kind is NoticeKind.STALLED]


def test_a_store_whose_progress_stays_put_for_two_watched_hours_is_announced_stalled_once(
    make_assured_poller, make_task, source, clock, sns
):
    make_assured_poller().run()
    stuck = make_task(IN_PROGRESS, progress=42)
    source.put(stuck)
    for _ in range(5 * 60 // 5):
        clock.now += timedelta(minutes=5)
        make_assured_poller().run()

    [stall] = stalled_notices(sns)
    assert (stall.ami_id, stall.facts.progress_percentage, stall.facts.stall_after_minutes) == (
        stuck.ami_id,
        42,
        120,
    )


def test_a_paused_notifier_does_not_call_a_store_stalled(make_assured_poller, make_task, source, clock, sns):
    make_assured_poller().run()
    source.put(make_task(IN_PROGRESS, progress=42))
    clock.now += timedelta(minutes=1)
    make_assured_poller().run()
    clock.now += timedelta(hours=3)
    make_assured_poller().run()
    clock.now += timedelta(minutes=30)
    make_assured_poller().run()

    assert stalled_notices(sns) == []


def test_a_store_that_keeps_moving_is_never_stalled(make_assured_poller, make_task, source, clock, sns):
    make_assured_poller().run()
    moving = make_task(IN_PROGRESS, progress=0)
    for minute in range(1, 200):
        source.put(replace(moving, progress_percentage=minute // 3))
        clock.now += timedelta(minutes=1)
        make_assured_poller().run()

    assert stalled_notices(sns) == []


def test_the_quota_counts_the_snapshot_data_of_the_stores_in_progress_asking_ec2_once_per_store(
    make_assured_poller, make_task, source, clock, image_sizes
):
    make_assured_poller().run()
    first, second = make_task(IN_PROGRESS), make_task(IN_PROGRESS)
    image_sizes.sizes |= {first.ami_id: 500, second.ami_id: 300}
    source.put(first, second)
    reports = []
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        reports.append(make_assured_poller().run())
    source.put(finish(first))
    clock.now += timedelta(minutes=1)
    reports.append(make_assured_poller().run())

    assert [report.store_quota_gigabytes for report in reports] == [800, 800, 800, 300]
    assert image_sizes.asked == [tuple(sorted((first.ami_id, second.ami_id)))]
