"""Announcements as chat messages: Amazon Q Developer in chat applications (formerly AWS Chatbot)
"custom notifications", which it renders in Slack, Microsoft Teams and Amazon Chime.

The format is the one its administrator guide documents ("Custom notifications using Amazon Q Developer
in chat applications"): `version` "1.0", `source` "custom", a `content` block (`textType`
"client-markdown", `title`, `description`, `nextSteps`, `keywords`) and `metadata` (`threadId`, which
threads the messages of one task together, and `relatedResources`). A message that does not follow it is
dropped without an error anywhere, so the tests validate every one against a JSON Schema written from
that page (local/custom_notification.schema.json).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from ami_store_notifier.domain.announcements import Announcement, account_text
from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.store_links import (
    AboutAStore,
    ami_console_url,
    bucket_console_url,
    elapsed_text,
    object_console_url,
)

CHAT_FORMAT_VERSION = "1.0"
CHAT_SOURCE = "custom"
CHAT_TEXT_TYPE = "client-markdown"
_EMOJI = {
    TaskState.COMPLETED.value: ":white_check_mark:",
    TaskState.FAILED.value: ":x:",
    TaskState.IN_PROGRESS.value: ":hourglass_flowing_sand:",
}


class ChatContent(TypedDict):
    textType: str
    title: str
    description: str
    nextSteps: list[str]
    keywords: list[str]


class ChatMetadata(TypedDict):
    threadId: str
    relatedResources: list[str]


class ChatNotification(TypedDict):
    """A custom notification, as the chat service reads it."""

    version: str
    source: str
    content: ChatContent
    metadata: ChatMetadata


def chat_notification(announcement: Announcement, account_name: str | None = None) -> ChatNotification:
    """The custom notification of one announcement; `account_name` where the account's name is known."""
    steps = _NEXT_STEPS.get(announcement.state, _look_it_up)
    return {
        "version": CHAT_FORMAT_VERSION,
        "source": CHAT_SOURCE,
        "content": {
            "textType": CHAT_TEXT_TYPE,
            "title": chat_title(announcement),
            "description": _description(announcement, account_name),
            "nextSteps": steps(announcement),
            "keywords": [announcement.state, announcement.region, account_name or announcement.account],
        },
        "metadata": {
            "threadId": thread_id(announcement),
            "relatedResources": [announcement.resource_arn],
        },
    }


def chat_title(announcement: Announcement) -> str:
    emoji = _EMOJI.get(announcement.state, ":grey_question:")
    return f"{emoji} AMI store {announcement.state}: {announcement.ami_id}"


def thread_id(store: AboutAStore) -> str:
    """One thread per store task (a later store of the same AMI starts another), its state changes' and
    its notices' alike."""
    started = "".join(ch for ch in store.task_start_time if ch.isdigit())
    return f"ami-store-{store.region}-{store.ami_id}-{started}"


def _description(announcement: Announcement, account_name: str | None) -> str:
    account = account_text(announcement.account, account_name)
    lines = [
        f"*Object:* `{announcement.s3_uri}`",
        f"*Duration:* {elapsed_text(announcement)} (started {announcement.task_start_time})",
        f"*Account:* {account} in {announcement.region}",
    ]
    if announcement.failure_reason is not None:
        lines.append(f"*Failure reason:* {announcement.failure_reason}")
    return "\n".join(lines)


def restore_command(store: AboutAStore) -> str:
    return (
        f"aws ec2 create-restore-image-task --region {store.region} --bucket {store.bucket} "
        f"--object-key {store.s3_object_key} --name <new AMI name>"
    )


def watch_command(store: AboutAStore) -> str:
    return f"ami-store-notifier watch {store.ami_id} --region {store.region}"


def _restore_it(announcement: Announcement) -> list[str]:
    return [
        f"Restore it as a new AMI: `{restore_command(announcement)}`",
        f"<{object_console_url(announcement)}|Open the object in the S3 console>",
    ]


def _find_out_why(announcement: Announcement) -> list[str]:
    return [
        "Check that the AMI and its snapshots still exist and can be read (deleted or unshared snapshots "
        f"fail a store): <{ami_console_url(announcement)}|open the AMI in the EC2 console>",
        f"Check that the bucket takes the object: <{bucket_console_url(announcement)}|open the bucket>",
        f"Store it again and follow it: `ami-store-notifier store {announcement.ami_id} "
        f"--bucket {announcement.bucket} --region {announcement.region} --watch`",
    ]


def _follow_it(announcement: Announcement) -> list[str]:
    return [f"Follow it: `{watch_command(announcement)}`"]


def _look_it_up(announcement: Announcement) -> list[str]:
    return [f"<{ami_console_url(announcement)}|Open the AMI in the EC2 console>"]


_NEXT_STEPS: dict[str, Callable[[Announcement], list[str]]] = {
    TaskState.COMPLETED.value: _restore_it,
    TaskState.FAILED.value: _find_out_why,
    TaskState.IN_PROGRESS.value: _follow_it,
}
