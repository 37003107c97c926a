"""The EC2 side: DescribeStoreImageTasks pages, parsed into typed tasks."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, error_message, transient_errors
from ami_store_notifier.domain.model import ListingAnomaly, StoreTask
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
from ami_store_notifier.ports import CallBudget, ListingPage, ListingTokenRefusedError, UnknownAmisError

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import (
        DescribeStoreImageTasksRequestTypeDef,
        DescribeStoreImageTasksResultTypeDef,
        FilterTypeDef,
    )

_MAX_LOGGED_ENTRY_CHARS = 500
# The documented filter of DescribeStoreImageTasks that lists only the tasks in progress.
IN_PROGRESS_FILTER: FilterTypeDef = {"Name": "task-state", "Values": ["InProgress"]}
# A listing entry as EC2 sent it, before it is checked: the parser trusts no field's type.
Entry = Mapping[str, object]
# How EC2 answers a NextToken it no longer accepts: its API reference's error codes
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html) list
# InvalidPaginationToken ("not valid or is expired") for every action and InvalidNextToken for some; the
# emulator answers the first. Some EC2 actions answer a bad token with InvalidParameterValue naming the
# token: that counts as a refusal too.
TOKEN_REFUSED_CODES = frozenset({"InvalidPaginationToken", "InvalidNextToken"})
# How EC2 refuses an AMI id it does not know, by the same page's codes: not found (deregistered, or of
# another account or Region), no longer available, malformed. DescribeStoreImageTasks' reference
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeStoreImageTasks.html) documents no
# answer for an unknown id among `ImageIds`. DescribeImages' reference
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html) documents both of
# EC2's answers for a deregistered AMI: left out of the results for a while, then an error that the id
# cannot be found. A left-out AMI is what a re-check already handles (its task departs once the re-check
# finished); a refusal refuses the whole request, and the poller asks again without that AMI (rechecks.py).
AMI_UNKNOWN_CODES = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed"})
# The AMI ids a refusal names. No AWS page documents the messages; as EC2 sends them to other actions:
# "The image id '[ami-0123456789abcdef0]' does not exist" (boto/botocore#2194, DescribeImages), a list
# "'[ami-1, ami-2]'" for several (cloud-custodian/cloud-custodian#3630 parses it so), "The image ID
# 'ami-1' is no longer available" (ansible/ansible#24945), 'Invalid id: "ami-1"'. Every id found in the
# message counts, whatever its quoting; a message that names none is split in halves instead.
_AMI_ID = re.compile(r"\bami-[0-9a-z]+")


class Ec2TaskSource:
    def __init__(self, ec2_client: EC2Client) -> None:
        self._ec2 = ec2_client

    def pages(
        self,
        page_size: int,
        budget: CallBudget,
        *,
        in_progress_only: bool = False,
        start_token: str | None = None,
    ) -> Iterator[ListingPage]:
        token = start_token
        while True:
            request: DescribeStoreImageTasksRequestTypeDef = {"MaxResults": page_size}
            if in_progress_only:
                request["Filters"] = [IN_PROGRESS_FILTER]
            if token:
                request["NextToken"] = token
            response = self._describe(request, budget)
            token = response.get("NextToken") or None
            yield parse_page(response.get("StoreImageTaskResults", []), next_token=token)
            if token is None:
                return

    def _describe(
        self, request: DescribeStoreImageTasksRequestTypeDef, budget: CallBudget
    ) -> DescribeStoreImageTasksResultTypeDef:
        budget.spend()
        try:
            with transient_errors("ec2:DescribeStoreImageTasks"):
                return self._ec2.describe_store_image_tasks(**request)
        except ClientError as error:
            if "NextToken" in request and token_refused(error):
                raise ListingTokenRefusedError(f"ec2:DescribeStoreImageTasks: {error}") from error
            raise

    def by_ami(self, ami_ids: Sequence[str], budget: CallBudget) -> ListingPage:
        if len(ami_ids) > MAX_IMAGE_IDS_PER_CALL:
            raise ValueError(f"at most {MAX_IMAGE_IDS_PER_CALL} AMI ids per call, got {len(ami_ids)}")
        results: list[Entry] = []
        request: DescribeStoreImageTasksRequestTypeDef = {"ImageIds": list(ami_ids)}
        while True:
            try:
                response = self._describe(request, budget)
            except ClientError as error:
                if error_code(error) not in AMI_UNKNOWN_CODES:
                    raise
                message = error_message(error)
                raise UnknownAmisError(
                    f"ec2:DescribeStoreImageTasks: {error}", _AMI_ID.findall(message)
                ) from error
            results += response.get("StoreImageTaskResults", [])
            # EC2 documents no paging by ImageIds (MaxResults may not be given with them), but a NextToken
            # it sends is followed: a task left unread would count as gone.
            token = response.get("NextToken")
            if not token:
                return parse_page(results, next_token=None)
            request["NextToken"] = token


def token_refused(error: ClientError) -> bool:
    code = error_code(error)
    message = error_message(error).lower()
    return code in TOKEN_REFUSED_CODES or (code == "InvalidParameterValue" and "token" in message)


def parse_page(entries: Sequence[Entry], *, next_token: str | None) -> ListingPage:
    tasks: list[StoreTask] = []
    anomalies: list[ListingAnomaly] = []
    for entry in entries:
        task, problems, skipped = parse_task(entry)
        shown = repr(dict(entry))[:_MAX_LOGGED_ENTRY_CHARS]
        anomalies += [ListingAnomaly(problem, shown, skipped) for problem in problems]
        if task is not None:
            tasks.append(task)
    return ListingPage(tuple(tasks), tuple(anomalies), next_token)


def parse_task(entry: Entry) -> tuple[StoreTask | None, list[str], bool]:
    """A task and what had to be repaired in it; no task when the entry cannot identify one."""
    problems: list[str] = []
    start = _start_time(entry.get("TaskStartTime"), problems)
    ami_id = _required_text(entry, "AmiId", problems)
    state_name = _required_text(entry, "StoreTaskState", problems)
    if start is None or ami_id is None or state_name is None:
        return None, problems or ["unusable entry"], True
    reason = entry.get("StoreTaskFailureReason")
    task = StoreTask(
        ami_id=ami_id,
        bucket=_bucket(entry, problems),
        s3_object_key=_object_key(entry, ami_id, problems),
        task_start_time=start,
        state_name=state_name,
        progress_percentage=_progress(entry.get("ProgressPercentage"), problems),
        failure_reason=reason if isinstance(reason, str) else None,
    )
    return task, problems, False


def _required_text(entry: Entry, name: str, problems: list[str]) -> str | None:
    value = entry.get(name)
    if isinstance(value, str) and value:
        return value
    problems.append(f"no {name}")
    return None


def _bucket(entry: Entry, problems: list[str]) -> str:
    bucket = entry.get("Bucket")
    if isinstance(bucket, str):
        return bucket
    problems.append("no Bucket")
    return ""


def _object_key(entry: Entry, ami_id: str, problems: list[str]) -> str:
    object_key = entry.get("S3objectKey")
    if isinstance(object_key, str) and object_key:
        return object_key
    problems.append("no S3objectKey; assumed <amiId>.bin")
    return f"{ami_id}.bin"


def _start_time(value: object, problems: list[str]) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"TaskStartTime {value!r} is not a timestamp")
            return None
    if not isinstance(value, datetime):
        problems.append("no TaskStartTime")
        return None
    if value.tzinfo is None:
        problems.append("TaskStartTime has no time zone; read as UTC, as EC2 reports all times")
        value = value.replace(tzinfo=UTC)
    moment: datetime = value.astimezone(UTC)
    return moment


def _progress(value: object, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"ProgressPercentage {value!r} is not a whole number")
        return None
    if not 0 <= value <= 100:
        problems.append(f"ProgressPercentage {value} is outside 0..100; clamped")
        return min(max(value, 0), 100)
    return value
