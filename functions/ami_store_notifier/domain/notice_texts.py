"""The notices (domain/notices.py) as people read them: an email subject and text, and a chat custom
notification in the format domain/chat.py follows, threaded with the task's state changes.

A notice is read at a glance, so each leads with what needs doing: a verification's verdict with each
reason on its own line and the bucket's risks to the archive; an unapproved bucket as an alert naming who
started the store; a stall with the command that follows the store.
"""

from __future__ import annotations

from ami_store_notifier.domain.announcements import account_text, sns_subject
from ami_store_notifier.domain.chat import (
    CHAT_FORMAT_VERSION,
    CHAT_SOURCE,
    CHAT_TEXT_TYPE,
    ChatNotification,
    restore_command,
    thread_id,
    watch_command,
)
from ami_store_notifier.domain.notices import (
    ArchiveCheck,
    Notice,
    NoticeKind,
    Stall,
    UnapprovedStore,
    Verdict,
)
from ami_store_notifier.domain.store_links import (
    ami_console_url,
    bucket_console_url,
    duration_text,
    elapsed_text,
    object_console_url,
)
from ami_store_notifier.domain.verification import NEVER_ENABLED

_LABEL_WIDTH = 15
_GIB = 1024**3
# The check names a bucket fact S3 refused by the IAM action that reads it.
_VERSIONING_PERMISSION = "s3:GetBucketVersioning"
_EMOJI = {
    Verdict.VERIFIED.value: ":white_check_mark:",
    Verdict.NOT_VERIFIED.value: ":warning:",
    NoticeKind.UNAPPROVED_BUCKET.value: ":rotating_light:",
    NoticeKind.STALLED.value: ":turtle:",
}


def notice_subject(notice: Notice) -> str:
    """The SNS subject, under the same rules as a state change's (`sns_subject`)."""
    return sns_subject(_title(notice))


def notice_email_text(notice: Notice, account_name: str | None = None) -> str:
    """What a person reads in a mail client (with the account's name where the hub could read it)."""
    account = account_text(notice.account, account_name)
    lines = [
        _headline(notice),
        "",
        *_email_facts(notice),
        "",
        _labelled("AMI:", notice.ami_id),
        _labelled("S3 object:", notice.s3_uri),
        _labelled("Started:", notice.task_start_time),
        _labelled("Observed:", f"{notice.observed_at} ({elapsed_text(notice)} after the start)"),
        _labelled("Account:", f"{account} in {notice.region}"),
        "",
        f"AMI in the console: {ami_console_url(notice)}",
        f"Bucket in the console: {bucket_console_url(notice)}",
        "",
        f"Event id (the same on a redelivery): {notice.event_id}",
    ]
    return "\n".join(lines)


def notice_chat_notification(notice: Notice, account_name: str | None = None) -> ChatNotification:
    """The custom notification of one notice, in the thread of its task's state changes."""
    account = account_text(notice.account, account_name)
    facts = notice.facts
    keyword = facts.verdict.value if isinstance(facts, ArchiveCheck) else notice.kind.value
    return {
        "version": CHAT_FORMAT_VERSION,
        "source": CHAT_SOURCE,
        "content": {
            "textType": CHAT_TEXT_TYPE,
            "title": f"{_EMOJI[keyword]} {_title(notice)}",
            "description": "\n".join([*_chat_facts(notice), f"*Account:* {account} in {notice.region}"]),
            "nextSteps": _next_steps(notice),
            "keywords": [keyword, notice.region, account_name or notice.account],
        },
        "metadata": {"threadId": thread_id(notice), "relatedResources": [notice.resource_arn]},
    }


def _title(notice: Notice) -> str:
    match notice.facts:
        case ArchiveCheck() as check:
            return f"AMI archive {_verdict(check)}: {notice.ami_id} in {notice.bucket}"
        case UnapprovedStore():
            return f"ALERT: AMI {notice.ami_id} stored to unapproved bucket {notice.bucket}"
        case Stall() as stall:
            return f"AMI store Stalled at {_progress(stall)}: {notice.ami_id} to {notice.bucket}"


def _headline(notice: Notice) -> str:
    match notice.facts:
        case ArchiveCheck() as check:
            return f"AMI {notice.ami_id} archive {_verdict(check)} at {notice.s3_uri}."
        case UnapprovedStore():
            return f"ALERT: AMI {notice.ami_id} stored to unapproved bucket {notice.bucket}."
        case Stall() as stall:
            return f"AMI {notice.ami_id} store STALLED at {_progress(stall)} since {stall.unchanged_since}."


def _email_facts(notice: Notice) -> list[str]:
    match notice.facts:
        case ArchiveCheck() as check:
            return _verification_email(check)
        case UnapprovedStore() as store:
            return _unapproved_email(notice, store)
        case Stall() as stall:
            return _stalled_email(notice, stall)


def _chat_facts(notice: Notice) -> list[str]:
    match notice.facts:
        case ArchiveCheck() as check:
            return _verification_chat(notice, check)
        case UnapprovedStore() as store:
            return _unapproved_chat(notice, store)
        case Stall() as stall:
            return _stalled_chat(notice, stall)


def _next_steps(notice: Notice) -> list[str]:
    match notice.facts:
        case ArchiveCheck() as check:
            return _verification_steps(notice, check)
        case UnapprovedStore():
            return [
                f"<{bucket_console_url(notice)}|Open the unapproved bucket in the S3 console>",
                f"<{ami_console_url(notice)}|Open the AMI in the EC2 console>",
            ]
        case Stall():
            return [
                f"Follow it: `{watch_command(notice)}`",
                f"<{ami_console_url(notice)}|Open the AMI in the EC2 console>",
            ]


def _labelled(label: str, value: str) -> str:
    return f"{label:<{_LABEL_WIDTH}}{value}"


# -- Verification -------------------------------------------------------------------------------------


def _verdict(check: ArchiveCheck) -> str:
    return "Verified" if check.verdict is Verdict.VERIFIED else "NOT VERIFIED"


def _verification_email(check: ArchiveCheck) -> list[str]:
    lines = [_labelled("Verdict:", check.verdict.value)]
    if check.reasons:
        lines += ["Why:", *(f"  - {reason}" for reason in check.reasons)]
    lines.append("")
    if check.object_size is None:
        lines.append(_labelled("Object:", "not read (see why above)"))
    else:
        lines += [
            _labelled("Size:", _size(check.object_size)),
            _labelled("Storage class:", check.storage_class or "not told"),
            _labelled("Written:", check.object_last_modified or "not told"),
            _labelled("Version:", check.version_id or "none (the bucket keeps no versions)"),
            _labelled("ETag:", check.object_etag or "not told"),
            _labelled("Checksum:", _checksum(check)),
            _labelled("Versioning:", _versioning(check)),
            _labelled("Object Lock:", _lock(check)),
        ]
    warnings = _warnings(check)
    if warnings:
        lines += ["", "Warnings:", *(f"  - {warning}" for warning in warnings)]
    return lines


def _verification_chat(notice: Notice, check: ArchiveCheck) -> list[str]:
    lines = [f"*Verdict:* {check.verdict.value}", *(f"• {reason}" for reason in check.reasons)]
    if check.object_size is None:
        lines.append(f"*Object:* `{notice.s3_uri}` (not read)")
    else:
        storage_class = check.storage_class or "class not told"
        lines += [
            f"*Object:* `{notice.s3_uri}`: {_size(check.object_size)}, {storage_class}, "
            f"version `{check.version_id or 'none'}`",
            f"*Checksum:* {_checksum(check)}",
        ]
    return lines + [f"*Warning:* {warning}" for warning in _warnings(check)]


def _verification_steps(notice: Notice, check: ArchiveCheck) -> list[str]:
    open_it = f"<{object_console_url(notice)}|Open the object in the S3 console>"
    if check.verdict is Verdict.VERIFIED:
        return [f"Restore it as a new AMI: `{restore_command(notice)}`", open_it]
    return [open_it, f"<{bucket_console_url(notice)}|Open the bucket in the S3 console>"]


def _size(size: int) -> str:
    return f"{size:,} bytes" + (f" ({size / _GIB:.1f} GiB)" if size >= _GIB else "")


def _checksum(check: ArchiveCheck) -> str:
    if check.checksum is None:
        return "none (the object has no additional checksum)"
    return f"{check.checksum_algorithm} {check.checksum}"


def _versioning(check: ArchiveCheck) -> str:
    if _VERSIONING_PERMISSION in check.facts_not_read:
        return "not read"
    return check.bucket_versioning or NEVER_ENABLED


def _lock(check: ArchiveCheck) -> str:
    retention = (
        f"{check.object_lock_mode} until {check.object_lock_retain_until}"
        if check.object_lock_mode
        else "no retention"
    )
    return f"{retention}, legal hold {check.object_legal_hold or 'OFF'}"


def _warnings(check: ArchiveCheck) -> list[str]:
    """What may yet cost the archive, from what the check read of the object and its bucket (nothing when
    it could not read the object: then it read nothing of the bucket either)."""
    if check.object_size is None:
        return []
    warnings = [f"not checked: S3 refused {permission}" for permission in check.facts_not_read]
    if _versioning(check) in (NEVER_ENABLED, "Suspended"):
        warnings.append("versioning is off: an overwrite or a delete of the object cannot be undone")
    if check.object_lock_mode is None and check.object_legal_hold != "ON":
        warnings.append("no Object Lock: whoever may delete the object can delete it")
    return warnings + [
        f'lifecycle rule "{rule.rule_id}" moves the object to {rule.storage_class} '
        f"{'on its date' if rule.days is None else f'after {rule.days} days'}: "
        "it must then be restored before CreateRestoreImageTask can read it"
        for rule in check.restore_needed_after
    ]


# -- Unapproved bucket ---------------------------------------------------------------------------------


def _started_by(store: UnapprovedStore) -> str:
    return store.started_by or "not known (start hints tell it when they are on)"


def _unapproved_email(notice: Notice, store: UnapprovedStore) -> list[str]:
    return [
        f"The store writes {notice.s3_uri}, outside the approved buckets.",
        "",
        _labelled("Started by:", _started_by(store)),
        "Approved buckets:",
        *([f"  - {bucket}" for bucket in store.approved_buckets] or ["  (none)"]),
    ]


def _unapproved_chat(notice: Notice, store: UnapprovedStore) -> list[str]:
    approved = ", ".join(f"`{bucket}`" for bucket in store.approved_buckets) or "none"
    return [
        f"*Object:* `{notice.s3_uri}`",
        f"*Started by:* {_started_by(store)}",
        f"*Approved buckets:* {approved}",
    ]


# -- Stalled -------------------------------------------------------------------------------------------


def _progress(stall: Stall) -> str:
    return "an unknown percentage" if stall.progress_percentage is None else f"{stall.progress_percentage}%"


def _unchanged(notice: Notice, stall: Stall) -> str:
    return (
        f"{_progress(stall)}, unchanged since {stall.unchanged_since} "
        f"({duration_text(stall.unchanged_since, notice.observed_at)}; "
        f"the stall threshold is {stall.stall_after_minutes} min)"
    )


def _stalled_email(notice: Notice, stall: Stall) -> list[str]:
    return [
        _labelled("Progress:", _unchanged(notice, stall)),
        _labelled("Follow it:", watch_command(notice)),
    ]


def _stalled_chat(notice: Notice, stall: Stall) -> list[str]:
    return [
        f"*Progress:* {_unchanged(notice, stall)}",
        f"*Object:* `{notice.s3_uri}`",
        f"*Duration:* {elapsed_text(notice)} (started {notice.task_start_time})",
    ]
