"""`watch`'s S3 probe over a real botocore client answered offline as S3 answers HeadObject: a status and
headers, never a body (HeadObject API reference)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ami_store_notifier.adapters.s3_objects import S3_PROBE_CONFIG, S3ObjectProbe
from ami_store_notifier.cli.sightings import ObjectUnreadableError
from ami_store_notifier.ports import TransientAwsError
from tests.unit.conftest import Wire

BUCKET = "golden-ami-archive"
KEY = "ami-0123456789abcdef0.bin"


@pytest.fixture
def s3(wire: Callable[[str], Wire]) -> Wire:
    return wire("s3")


def probe(s3: Wire) -> S3ObjectProbe:
    return S3ObjectProbe(s3.client(S3_PROBE_CONFIG))


def test_an_object_in_the_bucket_answers_when_it_was_last_written(s3: Wire) -> None:
    s3.head(200, Last_Modified="Sun, 01 Nov 2026 12:10:03 GMT", Content_Length="0")

    assert probe(s3).written_at(BUCKET, KEY) == datetime(2026, 11, 1, 12, 10, 3, tzinfo=UTC)
    assert s3.requests[0].method == "HEAD"
    assert s3.requests[0].url.endswith(f"/{KEY}")


def test_an_object_not_there_yet_answers_none(s3: Wire) -> None:
    s3.head(404)

    assert probe(s3).written_at(BUCKET, KEY) is None


def test_a_refusal_means_s3_will_not_say_and_carries_what_it_said(s3: Wire) -> None:
    s3.head(403)

    with pytest.raises(ObjectUnreadableError) as refused:
        probe(s3).written_at(BUCKET, KEY)

    assert (refused.value.bucket, refused.value.reason) == (BUCKET, "403 Forbidden")


def test_s3_slowing_down_is_a_passing_failure_left_to_the_watchers_back_off(s3: Wire) -> None:
    s3.head(503)

    with pytest.raises(TransientAwsError):
        probe(s3).written_at(BUCKET, KEY)

    assert len(s3.requests) == 1
