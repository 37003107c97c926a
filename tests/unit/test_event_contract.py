"""The event contract: every announcement matches the published JSON Schema, and the consumers' typed
model reads exactly what the schema allows."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from jsonschema import Draft4Validator, ValidationError
from pydantic import ValidationError as ModelError

from ami_store_notifier import contract
from ami_store_notifier.contract import AmiStoreTaskDetail, AmiStoreTaskStateChange
from ami_store_notifier.domain.announcements import DETAIL_TYPE, Announcement, announce
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES
from ami_store_notifier.event_schema import detail_schema, event_schema
from tests.world import ACCOUNT, EVENT_DETAIL_KEYS, HINT_FACT_KEYS, REGION, bus_event

CONTRACT_VERSIONS = Path(__file__).parent / "contract_versions"
DETAIL = Draft4Validator(detail_schema())
BEFORE_HINTS = Draft4Validator(
    json.loads((CONTRACT_VERSIONS / "event_detail.before_hints.schema.json").read_text())
)
BEFORE_NOTICES_SCHEMA = json.loads(
    (CONTRACT_VERSIONS / "event_detail.before_notices.schema.json").read_text()
)
STARTED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def announced(
    state: TaskState, previous: TaskState | None, *, reason: str | None = None, progress: int | None = 40
):
    task = StoreTask(
        ami_id="ami-0123456789abcdef0",
        bucket="golden-ami-archive",
        s3_object_key="ami-0123456789abcdef0.bin",
        task_start_time=STARTED,
        state_name=state.value,
        progress_percentage=progress,
        failure_reason=reason,
    )
    announcement = announce(
        task,
        state,
        previous,
        region=REGION,
        account=ACCOUNT,
        observed_at=datetime(2026, 11, 29, 11, tzinfo=UTC),
    )
    assert announcement is not None
    return announcement


KINDS = {
    "a store seen starting": announced(TaskState.IN_PROGRESS, None, progress=0),
    "a store that completed": announced(TaskState.COMPLETED, TaskState.IN_PROGRESS, progress=100),
    "a store first seen failed, without progress": announced(
        TaskState.FAILED, None, reason="gone", progress=None
    ),
    "a failure with an endless reason": announced(
        TaskState.FAILED, TaskState.IN_PROGRESS, reason="x" * 50_000
    ),
}


def test_the_published_schemas_are_valid_draft_4_schemas() -> None:
    Draft4Validator.check_schema(detail_schema())
    Draft4Validator.check_schema(event_schema("ami-store-notifier"))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_announcement_matches_the_schema_and_the_consumers_model(kind: str) -> None:
    detail = KINDS[kind].detail()

    DETAIL.validate(detail)
    assert AmiStoreTaskDetail.model_validate(detail).event_id == detail["eventId"]


def test_the_model_and_the_schema_name_the_same_fields_and_require_all_but_the_hints_facts() -> None:
    schema = detail_schema()
    aliases = [field.alias or name for name, field in AmiStoreTaskDetail.model_fields.items()]
    required = [
        alias
        for alias, field in zip(aliases, AmiStoreTaskDetail.model_fields.values(), strict=True)
        if field.is_required()
    ]

    assert aliases == [*EVENT_DETAIL_KEYS, *HINT_FACT_KEYS] == list(schema["properties"])
    assert required == EVENT_DETAIL_KEYS == schema["required"]


def with_hint_facts(announcement: Announcement) -> Announcement:
    return replace(
        announcement, started_by="arn:aws:iam::123456789012:user/ana", object_size=0, object_etag="e"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_events_of_a_deployment_without_hints_still_match_the_schema_before_hints(kind: str) -> None:
    BEFORE_HINTS.validate(KINDS[kind].detail())


@pytest.mark.parametrize("kind", KINDS)
def test_the_hints_facts_match_the_new_schema_and_model_and_only_they_are_new(kind: str) -> None:
    detail = with_hint_facts(KINDS[kind]).detail()

    DETAIL.validate(detail)
    assert AmiStoreTaskDetail.model_validate(detail).started_by == "arn:aws:iam::123456789012:user/ana"
    # The schema before hints forbade any other key, so a strict consumer must take the new version before
    # the deployment turns hints on (docs/hints.md); what it refuses is exactly the three new keys.
    assert [error.validator for error in BEFORE_HINTS.iter_errors(detail)] == ["additionalProperties"]
    BEFORE_HINTS.validate({key: value for key, value in detail.items() if key not in HINT_FACT_KEYS})


def test_the_notices_leave_the_state_change_detail_type_and_its_schema_as_they_were() -> None:
    assert DETAIL_TYPE not in NOTICE_DETAIL_TYPES.values()
    assert detail_schema() == BEFORE_NOTICES_SCHEMA


@pytest.mark.parametrize("hints", [False, True], ids=["without hints", "with hints"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_state_change_still_matches_the_schema_before_the_notices(kind: str, hints: bool) -> None:
    announcement = with_hint_facts(KINDS[kind]) if hints else KINDS[kind]

    Draft4Validator(BEFORE_NOTICES_SCHEMA).validate(announcement.detail())


@pytest.mark.parametrize(
    ("change", "value"),
    [("state", "Cancelled"), ("account", "12345"), ("eventId", "not-a-hash"), ("surprise", "extra key")],
)
def test_a_detail_outside_the_contract_is_refused_by_both(change: str, value: str) -> None:
    detail = {**KINDS["a store that completed"].detail(), change: value}

    with pytest.raises(ValidationError):
        DETAIL.validate(detail)
    with pytest.raises(ModelError):
        AmiStoreTaskDetail.model_validate(detail)


def test_a_consumer_lambda_reads_the_whole_event_typed() -> None:
    announcement = KINDS["a store that completed"]
    event = bus_event(announcement)

    Draft4Validator(event_schema("ami-store-notifier")).validate(event)
    parsed = parse(event=event, model=AmiStoreTaskStateChange)
    assert (parsed.detail.state, parsed.detail.previous_state) == ("Completed", "InProgress")
    assert parsed.detail.task_start_time == STARTED


def test_the_documented_consumer_example_reads_a_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "event-contract.md").read_text()
    example = page.split("**A typed consumer.**", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setitem(sys.modules, "contract", contract)  # as a consumer who copied the module
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/event-contract.md", "exec"), namespace)
    failed = KINDS["a failure with an endless reason"]
    event = bus_event(failed)

    namespace["lambda_handler"](event, None)

    assert (
        f"{failed.ami_id} failed to store to {failed.s3_uri} in {ACCOUNT}/{REGION}" in capsys.readouterr().out
    )
