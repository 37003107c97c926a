"""One account and region's store tasks as EC2 answers for them: CreateStoreImageTask,
DescribeStoreImageTasks and CreateRestoreImageTask, each counted, throttled or faulted as asked, on the
task state of state.py. Reach a backend with `store_tasks_backend(account_id, region)` (registry.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from moto.core.base_backend import BaseBackend

from ami_store_notifier.ec2_limits import STORE_QUOTA_GB

from .api import (
    CREATE_RESTORE,
    CREATE_STORE,
    DESCRIBE_STORE,
    StoreTaskError,
    dry_run_refusal,
    missing,
    not_found,
    quota_exceeded,
)
from .describe import (
    DEFAULT_PAGE_SIZE,
    DescribeCall,
    DescribeHook,
    DescribePage,
    StoreTaskResult,
    UnknownImageIds,
    checked_request,
    encode_token,
)
from .faults import FaultInjector
from .lifecycle import DEFAULT_IMAGE_SIZE_GB, IN_PROGRESS, StoreTask, TaskPlan, object_key_of
from .moto_world import amis, check_bucket, restore_image, s3_backend
from .state import StoreTaskState
from .throttling import THROTTLED_CODE, THROTTLED_MESSAGE, THROTTLED_STATUS, RequestThrottle


class StoreTaskBackend(StoreTaskState, BaseBackend):
    """Store tasks of one account and region. Reach it with `store_tasks_backend(account_id, region)`."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.faults = FaultInjector()
        self.throttle = RequestThrottle()
        """EC2's request token buckets of this account and Region (on by default; `.enabled = False`)."""
        self.on_describe: DescribeHook | None = None
        self.calls: Counter[str] = Counter()
        """Calls per operation name that reached the emulator (faulted calls included)."""
        self.default_page_size: int = DEFAULT_PAGE_SIZE
        self.token_lifetime: timedelta | None = None
        """How long a NextToken is accepted (None: for ever). EC2 does not document it."""
        self.store_quota_gb: float = STORE_QUOTA_GB
        self.reject_existing_object = False
        """When True, a store into a bucket that already holds `<amiId>.bin` is refused (InvalidRequest),
        as one public project reports EC2 does. Off by default: not verified."""
        self.unknown_image_ids = UnknownImageIds.REFUSE_NAMING_THEM
        """The answer to `ImageIds` naming an AMI that is neither in moto EC2 nor has a store task."""

    # ----- the three EC2 operations ---------------------------------------------------------------

    def create_store_image_task(
        self,
        ami_id: str | None,
        bucket: str | None,
        *,
        object_tags: Sequence[tuple[str, str]] = (),
        dry_run: bool = False,
        access_key_id: str | None = None,
    ) -> str:
        """CreateStoreImageTask: returns the object key `<amiId>.bin`.

        Errors: InvalidAMIID.Malformed / InvalidAMIID.NotFound for an unknown AMI; InvalidParameterValue
        for a bucket missing from moto S3 or in another region; InvalidRequest while a store of the AMI
        is in progress.
        """
        self._enter(CREATE_STORE)
        ami_id, bucket = self._required(ImageId=ami_id, Bucket=bucket, dry_run=dry_run)
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            image = self._check_store(ami_id, bucket)
            size_gb = self._image_sizes_gb.get(ami_id, DEFAULT_IMAGE_SIZE_GB)
            in_progress_gb = self._listing.in_progress_gb()
            if in_progress_gb + size_gb > self.store_quota_gb:
                raise quota_exceeded(size_gb, self.store_quota_gb, in_progress_gb)
            object_key = object_key_of(ami_id)
            s3 = s3_backend(self.account_id, self.region_name)
            if self.reject_existing_object and s3.get_object(bucket, object_key) is not None:
                raise StoreTaskError(
                    "InvalidRequest", f"The object {object_key} already exists in the bucket {bucket}."
                )
            plans = self._plans.get(ami_id)
            plan = plans.popleft() if plans else TaskPlan(self.default_duration_seconds, fail_reason=None)
            task = StoreTask(
                ami_id=ami_id,
                bucket=bucket,
                object_key=object_key,
                start_time=now,
                seq=next(self._seq),
                duration_seconds=plan.duration_seconds,
                planned_failure=plan.fail_reason,
                object_tags=tuple(object_tags),
                image_name=image.name,
                size_gb=size_gb,
            )
            self._insert(task)
            self.hint_events.store_started(task, self.account_id, self.region_name, access_key_id)
            return object_key

    def describe_store_image_tasks(
        self,
        image_ids: Sequence[str] | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
        dry_run: bool = False,
    ) -> DescribePage:
        """DescribeStoreImageTasks: newest first, tasks started within 31 days, offset-based NextToken."""
        number = self._enter(DESCRIBE_STORE, fault=False)
        hook = self.on_describe
        if hook is not None:
            hook(self, DescribeCall(number, tuple(image_ids or ()), next_token, max_results))
        self._raise_fault(DESCRIBE_STORE)
        request = checked_request(
            image_ids,
            filters,
            next_token,
            max_results,
            now=self.clock.now(),
            token_lifetime=self.token_lifetime,
        )
        self._required(dry_run=dry_run)
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            if request.image_ids:
                self._refuse_unknown(request.image_ids)
                found = self._listing.of_images(request.image_ids, now, self._listed(now))
                return DescribePage([StoreTaskResult.of(t, now) for t in found], None)
            hiding = self.hint_events.hiding(now)  # a task kept out of the listing: check each one
            kept = request.kept(self._listed(now) if hiding else None)
            size = max_results if max_results is not None else self.default_page_size
            page, more = self._listing.page(now, kept, request.offset, size)
            token = encode_token(request.offset + size, now) if more else None
            return DescribePage([StoreTaskResult.of(t, now) for t in page], token)

    def create_restore_image_task(
        self,
        bucket: str | None,
        object_key: str | None,
        name: str | None = None,
        *,
        image_tags: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> str:
        """CreateRestoreImageTask: registers a new AMI in moto EC2 and returns its id.

        The AMI is available at once (real EC2 shows it pending for a while). Without `name` it takes the
        stored AMI's name; errors: InvalidParameterValue for a missing bucket or object,
        InvalidAMIName.Duplicate when the account already owns an AMI of that name in the region.
        """
        self._enter(CREATE_RESTORE)
        bucket, object_key = self._required(Bucket=bucket, ObjectKey=object_key, dry_run=dry_run)
        with self._lock:
            self._settle(self.clock.now())
            return restore_image(self.account_id, self.region_name, bucket, object_key, name, image_tags)

    # ----- internals -------------------------------------------------------------------------------

    def _enter(self, operation: str, *, fault: bool = True) -> int:
        """Counts the call, lets its latency pass, and answers it as throttled or faulted when it is."""
        with self._lock:
            self.calls[operation] += 1
            number = self.calls[operation]
        if self.throttle.latency_seconds:
            self.clock.advance(self.throttle.latency_seconds)
        if not self.throttle.admit(operation, self.clock.now()):
            raise StoreTaskError(THROTTLED_CODE, THROTTLED_MESSAGE, THROTTLED_STATUS)
        if fault:
            self._raise_fault(operation)
        return number

    def _raise_fault(self, operation: str) -> None:
        injected = self.faults.take(operation)
        if injected is not None:
            raise StoreTaskError(injected.code, injected.message, injected.status)

    @staticmethod
    def _required(*, dry_run: bool, **parameters: str | None) -> list[str]:
        """The parameters, each refused when missing (in order); then DryRun's answer, when it is set."""
        given = []
        for name, value in parameters.items():
            if not value:
                raise missing(name)
            given.append(value)
        if dry_run:
            raise dry_run_refusal()
        return given

    def _check_store(self, ami_id: str, bucket: str) -> Any:
        """Refuses a store of an AMI moto EC2 does not have, into a bucket it cannot use, or of an AMI
        already being stored; the AMI."""
        if not ami_id.startswith("ami-"):
            raise StoreTaskError("InvalidAMIID.Malformed", f'Invalid id: "{ami_id}"')
        image = amis(self.account_id, self.region_name).get(ami_id)
        if image is None:
            raise not_found([ami_id])
        check_bucket(self.account_id, self.region_name, bucket)
        current = self._listing.get(ami_id)
        if current is not None and current.state == IN_PROGRESS:
            raise StoreTaskError("InvalidRequest", f"A store task for {ami_id} is already in progress.")
        return image

    def _refuse_unknown(self, ids: Sequence[str]) -> None:
        """Refuses `ImageIds` naming an AMI known neither to moto EC2 nor by a store task, unless the
        answer chosen leaves such ids out."""
        if self.unknown_image_ids is UnknownImageIds.OMIT:
            return
        known = amis(self.account_id, self.region_name)
        unknown = [i for i in ids if i not in self._listing and i not in known]
        if not unknown:
            return
        if self.unknown_image_ids is UnknownImageIds.REFUSE:
            raise StoreTaskError("InvalidAMIID.NotFound", "The image ids of the request do not all exist")
        raise not_found(unknown)
