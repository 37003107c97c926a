"""A typed model of the announcements, for consumers (a Lambda behind a rule, an SQS subscriber).

Built on Powertools' parser (pydantic): `event_parser(model=AmiStoreTaskStateChange)` gives a handler the
event with its detail typed. It mirrors `event_detail.schema.json`; a test keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

State = Literal["InProgress", "Completed", "Failed"]


class AmiStoreTaskDetail(BaseModel):
    """The detail of one announcement (the SNS message's default text is the same JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(alias="eventId", pattern=r"^[0-9a-f]{64}$")
    ami_id: str = Field(alias="amiId", pattern=r"^ami-[0-9a-f]{8,17}$")
    bucket: str
    s3_object_key: str = Field(alias="s3ObjectKey", min_length=1)
    s3_uri: str = Field(alias="s3Uri", pattern=r"^s3://")
    task_start_time: datetime = Field(alias="taskStartTime")
    state: State
    previous_state: State | None = Field(alias="previousState")
    progress_percentage: int | None = Field(alias="progressPercentage", ge=0, le=100)
    failure_reason: str | None = Field(alias="failureReason", max_length=2000)
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    account: str = Field(pattern=r"^[0-9]{12}$")
    observed_at: datetime = Field(alias="observedAt")
    # Present only with hints on, when a hint told them (the schema does not require them).
    started_by: str | None = Field(default=None, alias="startedBy", min_length=1)
    object_size: int | None = Field(default=None, alias="objectSize", ge=0)
    object_etag: str | None = Field(default=None, alias="objectEtag")


class AmiStoreTaskStateChange(EventBridgeModel):
    """The whole EventBridge event, as a rule hands it to a target."""

    detail: AmiStoreTaskDetail
