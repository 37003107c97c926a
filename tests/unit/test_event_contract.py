"""The event contract: every announcement matches the published JSON Schema, and the consumers' typed
model reads exactly what the schema allows."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from jsonschema import Draft4Validator, ValidationError
from pydantic import ValidationError as ModelError

from ami_store_notifier import contract
from ami_store_notifier.contract import AmiStoreTaskDetail, AmiStoreTaskStateChange
from ami_store_notifier.domain.announcements import announce
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.event_schema import detail_schema, event_schema
from tests.world import ACCOUNT, EVENT_DETAIL_KEYS, REGION, bus_event

DETAIL = Draft4Validator(detail_schema())
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


def test_the_model_and_the_schema_name_the_same_fields_and_require_all_of_them() -> None:
    schema = detail_schema()
    aliases = [field.alias or name for name, field in AmiStoreTaskDetail.model_fields.items()]

    assert aliases == EVENT_DETAIL_KEYS == list(schema["properties"]) == schema["required"]


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


def test_the_readme_consumer_example_reads_a_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.split("**A typed consumer.**", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setitem(sys.modules, "contract", contract)  # as a consumer who copied the module
    namespace: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    failed = KINDS["a failure with an endless reason"]
    event = bus_event(failed)

    namespace["lambda_handler"](event, None)

    assert (
        f"{failed.ami_id} failed to store to {failed.s3_uri} in {ACCOUNT}/{REGION}" in capsys.readouterr().out
    )
