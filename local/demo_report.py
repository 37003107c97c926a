"""What the demo prints of what arrived: each message as a subscriber received it, the emails and the chat
card a person would read, and the closing summary that says whether every part was shown."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import timedelta
from typing import Any

from ami_store_notifier.domain.announcements import DETAIL_TYPE, Announcement, email_text
from ami_store_notifier.domain.notice_texts import notice_email_text
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, Notice, NoticeKind
from local.deployment import RULE_QUEUE, TOPIC_QUEUE, VERIFIED_QUEUE, Received

# What the demo prints of each detail: a state change's, and each notice's own facts.
_SHOWN_FIELDS = {
    # The last three only a hint knows (who started the store, the object S3 reported): absent otherwise.
    None: [
        *("amiId", "state", "previousState", "s3Uri", "failureReason", "eventId"),
        *("startedBy", "objectSize", "objectEtag"),
    ],
    NoticeKind.VERIFICATION: [
        *("amiId", "verdict", "reasons", "s3Uri", "objectSize", "storageClass"),
        *("versionId", "checksum", "bucketVersioning", "restoreNeededAfter"),
    ],
    NoticeKind.UNAPPROVED_BUCKET: ["amiId", "bucket", "approvedBuckets", "startedBy"],
    NoticeKind.STALLED: ["amiId", "progressPercentage", "unchangedSince", "stallAfterMinutes"],
}


def show(item: Received) -> None:
    detail = item.detail
    if item.subject is not None:
        print(f'    SNS -> {item.queue}: "{item.subject}"  attributes {item.attributes}')
    else:
        detail_type = NOTICE_DETAIL_TYPES[item.notice] if item.notice else DETAIL_TYPE
        print(f"    EventBridge -> {item.queue}: {detail_type}")
    # A stall at 0% is a fact too: only what the detail leaves empty is left out.
    lines = [
        f"{name}: {detail[name]}" for name in _SHOWN_FIELDS[item.notice] if detail.get(name) not in (None, [])
    ]
    print(textwrap.indent("\n".join(lines), "        "))


def chat_card(message: dict[str, Any]) -> str:
    """The custom notification as the chat client lays it out: title, description, next steps."""
    content = message["content"]
    steps = "\n".join(f"  - {step}" for step in content["nextSteps"])
    keywords = ", ".join(content["keywords"])
    return f"{content['title']}\n{content['description']}\nNext steps:\n{steps}\n[{keywords}]"


def _what(item: Received) -> str:
    """What a message announced: a state, or a notice's kind (with a check's verdict)."""
    if item.notice is None:
        return str(item.detail["state"])
    verdict = item.detail.get("verdict")
    return f"{item.notice.value} {verdict}" if verdict else item.notice.value


# What the subscribers must have received for the demo to have shown every part (queue, what).
NEEDED = {
    *((queue, state) for queue in (TOPIC_QUEUE, RULE_QUEUE) for state in ("Completed", "Failed")),
    (TOPIC_QUEUE, "Verification Verified"),
    (TOPIC_QUEUE, "Verification NotVerified"),
    (VERIFIED_QUEUE, "Verification Verified"),
    (TOPIC_QUEUE, "UnapprovedBucket"),
    (TOPIC_QUEUE, "Stalled"),
}


def summarize(
    received: list[Received], chat: list[dict[str, Any]], hinted: list[timedelta], watched: int
) -> int:
    """What each subscriber received, the emails and the chat card it shows, and whether the demo showed
    every part (0) or not (1)."""
    got = sorted({(item.queue, _what(item)) for item in received})
    print("\nWhat each subscriber received:", ", ".join(f"{queue}: {what}" for queue, what in got))
    _show_emails(received)
    _show_failed_chat(chat)
    delays = sorted(delay.total_seconds() for delay in hinted)
    shortfall = _shortfall(set(got), received, chat, delays, watched)
    if shortfall is not None:
        print("\nDemo FAILED: missing", *shortfall, file=sys.stderr)
        return 1
    print(
        f"\nHints announced {len(delays)} completions {', '.join(f'{s:.0f}' for s in delays)} s after their "
        "objects appeared; the failure, which writes no object, was found by the scheduled run."
    )
    print(
        "\nDemo finished: watch followed the stores to their end; Completed and Failed notifications, the "
        "archive checks (Verified, and NotVerified with the reason), the unapproved bucket and the stall "
        "arrived once each through SNS, EventBridge and the chat topic, and only the verified archive "
        "reached the cleanup rule."
    )
    return 0


def _shortfall(
    got: set[tuple[str, str]],
    received: list[Received],
    chat: list[dict[str, Any]],
    delays: list[float],
    watched: int,
) -> tuple[object, ...] | None:
    """What the demo failed to show, or None when it showed every part."""
    told = [item for item in received if item.queue == TOPIC_QUEUE]
    once = len({item.detail["eventId"] for item in told}) == len(told)
    if got >= NEEDED and watched == 1 and len(chat) == len(told) and delays and once:
        return None
    return (
        sorted(NEEDED - got),
        f"watch exit {watched}, chat {len(chat)} of {len(told)}, each once {once}, "
        f"completions announced by hints {len(delays)}",
    )


def _show_failed_chat(chat: list[dict[str, Any]]) -> None:
    failed_chat = next((message for message in chat if message["content"]["keywords"][0] == "Failed"), None)
    if failed_chat is not None:
        print("\nA Slack or Teams channel would have shown this card for the failure:\n")
        print(textwrap.indent(chat_card(failed_chat), "    "))


def _show_emails(received: list[Received]) -> None:
    by_what = {_what(item): item for item in received if item.queue == TOPIC_QUEUE}
    for what, title in (
        ("Failed", "the failure"),
        ("Verification NotVerified", "an archive not verified"),
        ("UnapprovedBucket", "the store into an unapproved bucket"),
    ):
        item = by_what.get(what)
        if item is not None:
            print(f"\nAn email subscriber would have read this for {title}:\n")
            print(textwrap.indent(_email(item), "    "))


def _email(item: Received) -> str:
    """The email the topic sends beside the JSON (its `email` message), from the same detail."""
    if item.notice is None:
        return email_text(Announcement.from_detail(item.detail))
    return notice_email_text(Notice.from_detail_json(item.notice, json.dumps(item.detail)))
