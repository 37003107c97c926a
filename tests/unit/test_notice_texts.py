"""The notices as people read them: an email subject and text that say at a glance what needs doing, and
chat messages in the documented custom-notification format, in the thread of the task's state changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ami_store_notifier.domain.announcements import announce
from ami_store_notifier.domain.chat import chat_notification
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.notice_texts import (
    notice_chat_notification,
    notice_email_text,
    notice_subject,
)
from ami_store_notifier.domain.notices import (
    ArchiveCheck,
    ArchiveTransition,
    Notice,
    NoticeFacts,
    Stall,
    UnapprovedStore,
    Verdict,
    notice,
)
from ami_store_notifier.domain.verification import NEVER_ENABLED
from local.deployment import CHAT_VALIDATOR

AMI = "ami-0123456789abcdef0"
STARTED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
OBSERVED = datetime(2026, 11, 29, 10, 45, tzinfo=UTC)
VERIFIED = ArchiveCheck(
    Verdict.VERIFIED,
    object_size=8 * 1024**3,
    object_last_modified="2026-11-29T08:40:00.000Z",
    storage_class="STANDARD_IA",
    version_id="3HL4kqtJlcpXroDTDmJ",
    object_etag='"9b2cf535f27731c974343645a3985328-1600"',
    checksum_algorithm="SHA256",
    checksum="vQd3R1jJXyKFcJ6mj3Vy9hU1sDfJdQkMwnuJ9Jk0rAE=-1600",
    bucket_versioning="Enabled",
    object_lock_mode="COMPLIANCE",
    object_lock_retain_until="2027-11-29T00:00:00.000Z",
    object_legal_hold="OFF",
)
AT_RISK = ArchiveCheck(
    Verdict.NOT_VERIFIED,
    (
        "empty: the object holds 0 bytes",
        "needs a restore: the object is in GLACIER, which must be restored before CreateRestoreImageTask "
        "can read it",
    ),
    object_size=0,
    object_last_modified="2026-11-29T08:40:00.000Z",
    storage_class="GLACIER",
    object_etag='"d41d8cd98f00b204e9800998ecf8427e"',
    restore_needed_after=(
        ArchiveTransition("deep-after-a-month", 30, "DEEP_ARCHIVE"),
        ArchiveTransition("glacier-on-a-date", None, "GLACIER"),
    ),
    facts_not_read=("s3:GetLifecycleConfiguration",),
)
UNREAD = ArchiveCheck(
    Verdict.NOT_VERIFIED, ("access denied: the role needs s3:GetObject on s3://archive/ami.bin",)
)
UNAPPROVED = UnapprovedStore(("golden-ami-archive", "archive-*"), "arn:aws:iam::123456789012:user/ana")
STALLED = Stall(40, "2026-11-29T08:30:00.000Z", 120)
EVERY_KIND = {
    "a verified archive": VERIFIED,
    "an archive at risk": AT_RISK,
    "an archive not read": UNREAD,
    "a store into an unapproved bucket": UNAPPROVED,
    "a store into an unapproved bucket, nothing approved, its starter unknown": UnapprovedStore(()),
    "a stalled store": STALLED,
    "a store stalled before EC2 told its progress": Stall(None, "2026-11-29T08:30:00.000Z", 120),
}


def store_task(bucket: str = "archive") -> StoreTask:
    return StoreTask(AMI, bucket, f"{AMI}.bin", STARTED, "InProgress", 40)


def noticed(facts: NoticeFacts, *, bucket: str = "archive", region: str = "eu-west-1") -> Notice:
    return notice(store_task(bucket), facts, region=region, account="123456789012", observed_at=OBSERVED)


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_subject_is_ascii_and_at_most_100_characters_even_for_a_63_character_bucket(kind: str) -> None:
    text = notice_subject(noticed(EVERY_KIND[kind], bucket="b" * 62 + "ü"))

    assert len(text) <= 100
    assert text.isascii()
    assert text.isprintable()


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (VERIFIED, f"AMI archive Verified: {AMI} in archive"),
        (AT_RISK, f"AMI archive NOT VERIFIED: {AMI} in archive"),
        (UNAPPROVED, f"ALERT: AMI {AMI} stored to unapproved bucket archive"),
        (STALLED, f"AMI store Stalled at 40%: {AMI} to archive"),
    ],
)
def test_the_subject_says_what_the_notice_is_about(facts: NoticeFacts, expected: str) -> None:
    assert notice_subject(noticed(facts)) == expected


def test_an_archive_at_risk_shows_the_verdict_each_reason_on_its_own_line_and_the_warnings() -> None:
    lines = notice_email_text(noticed(AT_RISK)).splitlines()

    assert lines[0] == f"AMI {AMI} archive NOT VERIFIED at s3://archive/{AMI}.bin."
    assert lines[2:6] == [
        "Verdict:       NotVerified",
        "Why:",
        "  - empty: the object holds 0 bytes",
        "  - needs a restore: the object is in GLACIER, which must be restored before CreateRestoreImageTask "
        "can read it",
    ]
    assert "Size:          0 bytes" in lines
    assert "Storage class: GLACIER" in lines
    assert "Version:       none (the bucket keeps no versions)" in lines
    assert "Checksum:      none (the object has no additional checksum)" in lines
    warnings = lines[lines.index("Warnings:") + 1 :]
    assert warnings[:5] == [
        "  - not checked: S3 refused s3:GetLifecycleConfiguration",
        "  - versioning is off: an overwrite or a delete of the object cannot be undone",
        "  - no Object Lock: whoever may delete the object can delete it",
        '  - lifecycle rule "deep-after-a-month" moves the object to DEEP_ARCHIVE after 30 days: it must '
        "then be restored before CreateRestoreImageTask can read it",
        '  - lifecycle rule "glacier-on-a-date" moves the object to GLACIER on its date: it must then be '
        "restored before CreateRestoreImageTask can read it",
    ]


def test_a_verified_archive_shows_its_size_class_version_checksum_and_protection_without_warnings() -> None:
    text = notice_email_text(noticed(VERIFIED), account_name="payments-prod")

    assert text.startswith(
        f"AMI {AMI} archive Verified at s3://archive/{AMI}.bin.\n\nVerdict:       Verified\n"
    )
    for line in [
        "Size:          8,589,934,592 bytes (8.0 GiB)",
        "Storage class: STANDARD_IA",
        "Written:       2026-11-29T08:40:00.000Z",
        "Version:       3HL4kqtJlcpXroDTDmJ",
        "Checksum:      SHA256 vQd3R1jJXyKFcJ6mj3Vy9hU1sDfJdQkMwnuJ9Jk0rAE=-1600",
        "Versioning:    Enabled",
        "Object Lock:   COMPLIANCE until 2027-11-29T00:00:00.000Z, legal hold OFF",
        "Account:       123456789012 (payments-prod) in eu-west-1",
    ]:
        assert line in text.splitlines()
    assert "Why:" not in text
    assert "Warnings:" not in text


def test_an_archive_not_read_says_so_and_claims_nothing_of_the_bucket() -> None:
    lines = notice_email_text(noticed(UNREAD)).splitlines()

    assert "  - access denied: the role needs s3:GetObject on s3://archive/ami.bin" in lines
    assert "Object:        not read (see why above)" in lines
    assert "Warnings:" not in lines


def test_a_store_into_an_unapproved_bucket_is_an_alert_naming_who_started_it_and_the_approved_buckets() -> (
    None
):
    lines = notice_email_text(noticed(UNAPPROVED)).splitlines()

    assert lines[0] == f"ALERT: AMI {AMI} stored to unapproved bucket archive."
    assert lines[2:8] == [
        f"The store writes s3://archive/{AMI}.bin, outside the approved buckets.",
        "",
        "Started by:    arn:aws:iam::123456789012:user/ana",
        "Approved buckets:",
        "  - golden-ami-archive",
        "  - archive-*",
    ]


def test_an_unapproved_store_of_an_unknown_starter_with_nothing_approved_says_both() -> None:
    text = notice_email_text(noticed(UnapprovedStore(())))

    assert "Started by:    not known (start hints tell it when they are on)" in text
    assert "Approved buckets:\n  (none)\n" in text


def test_a_stalled_store_shows_its_progress_since_when_and_how_to_follow_it() -> None:
    lines = notice_email_text(noticed(STALLED)).splitlines()

    assert lines[0] == f"AMI {AMI} store STALLED at 40% since 2026-11-29T08:30:00.000Z."
    assert lines[2:4] == [
        "Progress:      40%, unchanged since 2026-11-29T08:30:00.000Z (about 2 h 15 min; the stall threshold "
        "is 120 min)",
        f"Follow it:     ami-store-notifier watch {AMI} --region eu-west-1",
    ]
    assert "Observed:      2026-11-29T10:45:00.000Z (about 2 h 45 min after the start)" in lines


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_every_notice_gives_a_chat_message_in_the_documented_format_in_its_tasks_thread(kind: str) -> None:
    sent = noticed(EVERY_KIND[kind])
    message = notice_chat_notification(sent, account_name="prod")
    state_change = announce(
        store_task(),
        TaskState.IN_PROGRESS,
        None,
        region="eu-west-1",
        account="123456789012",
        observed_at=STARTED,
    )

    CHAT_VALIDATOR.validate(message)
    assert message["metadata"] == {
        "threadId": chat_notification(state_change)["metadata"]["threadId"],
        "relatedResources": [f"arn:aws:ec2:eu-west-1::image/{AMI}"],
    }
    assert message["content"]["keywords"][1:] == ["eu-west-1", "prod"]


def test_a_verification_in_chat_lists_each_reason_and_warning_and_how_to_restore_a_verified_archive() -> None:
    at_risk = notice_chat_notification(noticed(AT_RISK))["content"]
    verified = notice_chat_notification(noticed(VERIFIED))["content"]

    assert at_risk["title"] == f":warning: AMI archive NOT VERIFIED: {AMI} in archive"
    assert at_risk["keywords"][0] == "NotVerified"
    assert at_risk["description"].splitlines()[:3] == [
        "*Verdict:* NotVerified",
        "• empty: the object holds 0 bytes",
        "• needs a restore: the object is in GLACIER, which must be restored before CreateRestoreImageTask "
        "can read it",
    ]
    assert "*Warning:* no Object Lock: whoever may delete the object can delete it" in at_risk["description"]
    assert at_risk["nextSteps"][0].startswith("<https://s3.console.aws.amazon.com/s3/object/archive?")
    assert verified["title"] == f":white_check_mark: AMI archive Verified: {AMI} in archive"
    assert (
        f"*Object:* `s3://archive/{AMI}.bin`: 8,589,934,592 bytes (8.0 GiB), STANDARD_IA, "
        "version `3HL4kqtJlcpXroDTDmJ`" in verified["description"]
    )
    assert verified["nextSteps"][0] == (
        "Restore it as a new AMI: `aws ec2 create-restore-image-task --region eu-west-1 --bucket archive "
        f"--object-key {AMI}.bin --name <new AMI name>`"
    )


def test_an_unapproved_store_in_chat_is_an_alert_with_its_starter_and_a_link_to_the_bucket() -> None:
    content = notice_chat_notification(noticed(UNAPPROVED))["content"]

    assert content["title"] == f":rotating_light: ALERT: AMI {AMI} stored to unapproved bucket archive"
    assert content["keywords"][0] == "UnapprovedBucket"
    assert "*Started by:* arn:aws:iam::123456789012:user/ana" in content["description"]
    assert "*Approved buckets:* `golden-ami-archive`, `archive-*`" in content["description"]
    assert content["nextSteps"][0].startswith("<https://s3.console.aws.amazon.com/s3/buckets/archive?")


def test_a_stalled_store_in_chat_shows_its_progress_and_the_command_that_follows_it() -> None:
    content = notice_chat_notification(noticed(STALLED), account_name="payments-prod")["content"]

    assert content["title"] == f":turtle: AMI store Stalled at 40%: {AMI} to archive"
    assert content["keywords"] == ["Stalled", "eu-west-1", "payments-prod"]
    assert content["description"].splitlines()[0].startswith("*Progress:* 40%, unchanged since ")
    assert content["description"].endswith("*Account:* 123456789012 (payments-prod) in eu-west-1")
    assert content["nextSteps"][0] == f"Follow it: `ami-store-notifier watch {AMI} --region eu-west-1`"


def test_outside_the_commercial_partition_a_notices_links_and_resource_are_the_regions_own() -> None:
    message = notice_chat_notification(noticed(UNAPPROVED, region="cn-north-1"))

    CHAT_VALIDATOR.validate(message)
    assert message["metadata"]["relatedResources"] == [f"arn:aws-cn:ec2:cn-north-1::image/{AMI}"]
    assert message["content"]["nextSteps"][0].startswith(
        "<https://console.amazonaws.cn/s3/buckets/archive?region=cn-north-1|"
    )


@pytest.mark.parametrize("versioning", [NEVER_ENABLED, "Suspended"])
def test_a_bucket_whose_versioning_s3_reports_off_is_warned_about(versioning: str) -> None:
    check = replace(AT_RISK, bucket_versioning=versioning, facts_not_read=())

    lines = notice_email_text(noticed(check)).splitlines()

    assert f"Versioning:    {versioning}" in lines
    assert "  - versioning is off: an overwrite or a delete of the object cannot be undone" in lines
