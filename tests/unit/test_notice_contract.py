"""The notices' contract: each notice's detail matches its detail-type's published JSON Schema, reads back
as the same notice, and the consumers' typed model of it reads exactly what the schema allows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from jsonschema import Draft4Validator, ValidationError
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from ami_store_notifier.contract import (
    AmiStoreArchiveVerification,
    AmiStoreArchiveVerificationDetail,
    AmiStoreIntoUnapprovedBucket,
    AmiStoreIntoUnapprovedBucketDetail,
    AmiStoreNoticeDetail,
    AmiStoreTaskStalled,
    AmiStoreTaskStalledDetail,
    ArchiveTransitionDetail,
)
from ami_store_notifier.domain.model import StoreTask
from ami_store_notifier.domain.notices import (
    NOTICE_DETAIL_TYPES,
    ArchiveTransition,
    Notice,
    NoticeFacts,
    NoticeKind,
    Stall,
    UnapprovedStore,
    notice,
)
from ami_store_notifier.domain.verification import (
    BucketFacts,
    Inspection,
    LifecycleTransition,
    ObjectFacts,
    judge,
    not_readable,
)
from ami_store_notifier.event_schema import (
    NOTICE_SCHEMAS_DIR,
    detail_schema,
    notice_detail_schema,
    notice_event_schema,
)
from tests.world import ACCOUNT, REGION

SOURCE = "ami-store-notifier"
STARTED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
OBSERVED = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
TASK = StoreTask(
    ami_id="ami-0123456789abcdef0",
    bucket="golden-ami-archive",
    s3_object_key="ami-0123456789abcdef0.bin",
    task_start_time=STARTED,
    state_name="Completed",
    progress_percentage=100,
)
MODELS: dict[NoticeKind, tuple[type[AmiStoreNoticeDetail], type[EventBridgeModel]]] = {
    NoticeKind.VERIFICATION: (AmiStoreArchiveVerificationDetail, AmiStoreArchiveVerification),
    NoticeKind.UNAPPROVED_BUCKET: (AmiStoreIntoUnapprovedBucketDetail, AmiStoreIntoUnapprovedBucket),
    NoticeKind.STALLED: (AmiStoreTaskStalledDetail, AmiStoreTaskStalled),
}
VALIDATORS = {kind: Draft4Validator(notice_detail_schema(kind)) for kind in NoticeKind}


def noticed(facts: NoticeFacts) -> Notice:
    return notice(TASK, facts, region=REGION, account=ACCOUNT, observed_at=OBSERVED)


def checked(inspection: Inspection) -> Notice:
    """A verification as the archive check judges it, an hour after the store completed."""
    check = judge(TASK, inspection, completed_seen_at=OBSERVED - timedelta(hours=1), now=OBSERVED)
    assert check is not None
    return noticed(check)


def written(size: int, storage_class: str | None = None, **facts: Any) -> ObjectFacts:
    return ObjectFacts(
        size=size, last_modified=STARTED + timedelta(minutes=40), storage_class=storage_class, **facts
    )


SAMPLES = {
    "an archive verified, with every fact S3 tells of it and its bucket": checked(
        Inspection(
            object=written(
                8 * 1024**3,
                "STANDARD_IA",
                version_id="3HL4kqtJlcpXroDTDmJ",
                etag='"9b2cf535f27731c974343645a3985328-1600"',
                checksum_algorithm="SHA256",
                checksum="vQd3R1jJXyKFcJ6mj3Vy9hU1sDfJdQkMwnuJ9Jk0rAE=-1600",
                object_lock_mode="COMPLIANCE",
                object_lock_retain_until=datetime(2027, 11, 29, tzinfo=UTC),
                legal_hold="OFF",
            ),
            bucket=BucketFacts(
                versioning="Enabled",
                lifecycle=(
                    LifecycleTransition("deep-after-a-month", "DEEP_ARCHIVE", days=30),
                    LifecycleTransition("glacier-on-a-date", "GLACIER", tagged=True),
                ),
            ),
        )
    ),
    "an archive not verified: empty, and in Glacier": checked(
        Inspection(object=written(0, "GLACIER"), bucket=BucketFacts(not_read=("s3:GetBucketVersioning",)))
    ),
    "an archive S3 refused to show": checked(Inspection(denied="s3:GetObject")),
    "an archive in a bucket the deployment may not read": noticed(not_readable(TASK)),
    "a store into an unapproved bucket, its starter known": noticed(
        UnapprovedStore(("golden-ami-archive", "archive-*"), started_by="arn:aws:iam::123456789012:user/ana")
    ),
    "a store into an unapproved bucket, none approved, its starter unknown": noticed(UnapprovedStore(())),
    "a store stalled at 40%": noticed(Stall(40, "2026-11-29T08:30:00.000Z", 120)),
    "a store stalled before EC2 told any progress": noticed(Stall(None, "2026-11-29T08:30:00.000Z", 1)),
}
ONE_OF_EACH = {sample.kind: sample for sample in reversed(SAMPLES.values())}


def on_the_bus(sample: Notice) -> dict[str, Any]:
    """A notice as EventBridge hands it to a rule's target."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": sample.detail_type,
        "source": SOURCE,
        "account": sample.account,
        "region": sample.region,
        "time": sample.observed_at,
        "resources": [sample.resource_arn],
        "detail": sample.detail(),
    }


def aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_each_notices_detail_and_event_schemas_are_valid_draft_4_schemas_of_its_detail_type(
    kind: NoticeKind,
) -> None:
    Draft4Validator.check_schema(notice_detail_schema(kind))
    Draft4Validator.check_schema(notice_event_schema(SOURCE, kind))
    assert notice_event_schema(SOURCE, kind)["properties"]["detail-type"]["enum"] == [
        NOTICE_DETAIL_TYPES[kind]
    ]


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_the_model_and_the_schema_name_the_notices_keys_in_its_order_and_require_every_one(
    kind: NoticeKind,
) -> None:
    schema = notice_detail_schema(kind)
    model = MODELS[kind][0]
    keys = list(ONE_OF_EACH[kind].detail())

    assert aliases(model) == list(schema["properties"]) == keys
    assert [name for name, field in model.model_fields.items() if field.is_required()] == list(
        model.model_fields
    )
    assert schema["required"] == keys


def test_a_lifecycle_transitions_model_and_schema_name_its_keys_and_require_every_one() -> None:
    items = notice_detail_schema(NoticeKind.VERIFICATION)["properties"]["restoreNeededAfter"]["items"]

    assert aliases(ArchiveTransitionDetail) == list(items["properties"]) == items["required"]
    assert items["required"] == list(ArchiveTransition("rule", None, "GLACIER").detail())


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_notice_matches_its_schema_and_model_and_reads_back_as_itself(sample: str) -> None:
    sent = SAMPLES[sample]
    detail = sent.detail()

    VALIDATORS[sent.kind].validate(detail)
    assert MODELS[sent.kind][0].model_validate(detail).event_id == sent.event_id
    assert Notice.from_detail_json(sent.kind, sent.detail_json()) == sent


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_a_consumer_lambda_reads_the_whole_event_typed_as_the_registered_schema_describes_it(
    kind: NoticeKind,
) -> None:
    sent = ONE_OF_EACH[kind]
    event = on_the_bus(sent)

    Draft4Validator(notice_event_schema(SOURCE, kind)).validate(event)
    parsed = parse(event=event, model=MODELS[kind][1])
    assert parsed.detail.task_start_time == STARTED
    assert parsed.detail.model_dump(by_alias=True, mode="json").keys() == sent.detail().keys()


def test_a_verifications_lifecycle_transitions_and_reasons_are_typed_for_consumers() -> None:
    detail = AmiStoreArchiveVerificationDetail.model_validate(
        SAMPLES["an archive verified, with every fact S3 tells of it and its bucket"].detail()
    )

    assert detail.verdict == "Verified"
    assert [(rule.rule_id, rule.days, rule.storage_class) for rule in detail.restore_needed_after] == [
        ("deep-after-a-month", 30, "DEEP_ARCHIVE"),
        ("glacier-on-a-date (filtered by tags: may apply)", None, "GLACIER"),
    ]
    assert detail.object_lock_retain_until == datetime(2027, 11, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "change", "value"),
    [
        (NoticeKind.VERIFICATION, "verdict", "Maybe"),
        (NoticeKind.VERIFICATION, "reasons", "one string, not a list"),
        (NoticeKind.VERIFICATION, "objectSize", -1),
        (
            NoticeKind.VERIFICATION,
            "restoreNeededAfter",
            [{"ruleId": "r", "days": 1, "storageClass": "GLACIER", "x": 1}],
        ),
        (
            NoticeKind.VERIFICATION,
            "restoreNeededAfter",
            [{"ruleId": "r", "days": 30}],
        ),
        (NoticeKind.UNAPPROVED_BUCKET, "startedBy", ""),
        (NoticeKind.UNAPPROVED_BUCKET, "approvedBuckets", "golden-ami-archive"),
        (NoticeKind.UNAPPROVED_BUCKET, "eventId", "not-a-hash"),
        (NoticeKind.STALLED, "progressPercentage", 101),
        (NoticeKind.STALLED, "stallAfterMinutes", None),
        (NoticeKind.STALLED, "surprise", "an extra key"),
    ],
)
def test_a_detail_outside_the_contract_is_refused_by_both(kind: NoticeKind, change: str, value: Any) -> None:
    detail = {**ONE_OF_EACH[kind].detail(), change: value}

    with pytest.raises(ValidationError):
        VALIDATORS[kind].validate(detail)
    with pytest.raises(ModelError):
        MODELS[kind][0].model_validate(detail)


@pytest.mark.parametrize(
    ("kind", "left_out"),
    [(NoticeKind.VERIFICATION, "checksum"), (NoticeKind.UNAPPROVED_BUCKET, "startedBy")],
)
def test_a_key_that_may_be_null_must_still_be_present(kind: NoticeKind, left_out: str) -> None:
    detail = {key: value for key, value in ONE_OF_EACH[kind].detail().items() if key != left_out}

    with pytest.raises(ValidationError):
        VALIDATORS[kind].validate(detail)
    with pytest.raises(ModelError):
        MODELS[kind][0].model_validate(detail)


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_a_notices_detail_matches_no_other_detail_types_schema(kind: NoticeKind) -> None:
    detail = ONE_OF_EACH[kind].detail()

    assert not Draft4Validator(detail_schema()).is_valid(detail)
    assert [other for other in NoticeKind if VALIDATORS[other].is_valid(detail)] == [kind]


def test_the_keys_every_notice_starts_with_are_typed_as_the_state_changes() -> None:
    state_change = detail_schema()["properties"]
    common = json.loads((NOTICE_SCHEMAS_DIR / "common.schema.json").read_text(encoding="utf-8"))["properties"]

    def typed(definition: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in definition.items() if key != "description"}

    assert {key: typed(common[key]) for key in common} == {key: typed(state_change[key]) for key in common}
