from __future__ import annotations

import pytest

from ami_store_notifier.config import ConfigError, load_settings
from ami_store_notifier.domain.model import TaskState

REQUIRED = {
    "TABLE_NAME": "state",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events",
    "EVENT_BUS_NAME": "bus",
    "AWS_REGION": "us-east-1",
}


def test_defaults_announce_completed_and_failed_in_the_functions_own_region():
    settings = load_settings(REQUIRED)

    assert settings.regions == ("us-east-1",)
    assert settings.announce_states == {TaskState.COMPLETED, TaskState.FAILED}
    assert settings.announce_existing_on_first_run is False
    assert settings.event_source == "ami-store-notifier"
    assert settings.page_size == 200


def test_every_setting_is_read_from_its_variable():
    settings = load_settings(
        REQUIRED
        | {
            "REGIONS": "eu-west-1, us-east-1,eu-west-1",
            "ANNOUNCE_STATES": "inprogress,Failed",
            "ANNOUNCE_EXISTING_ON_FIRST_RUN": "yes",
            "EVENT_SOURCE": "acme.ami-archive",
            "PAGE_SIZE": "50",
            "LISTING_OVERLAP_MINUTES": "5",
            "FULL_SCAN_INTERVAL_MINUTES": "120",
            "CLAIM_LEASE_SECONDS": "180",
            "DELIVERY_RESERVE_SECONDS": "10",
            "STATE_TTL_DAYS": "60",
        }
    )

    assert settings.regions == ("eu-west-1", "us-east-1")
    assert settings.announce_states == {TaskState.IN_PROGRESS, TaskState.FAILED}
    assert settings.announce_existing_on_first_run is True
    assert settings.event_source == "acme.ami-archive"
    assert (settings.page_size, settings.listing_overlap_minutes, settings.full_scan_interval_minutes) == (
        50,
        5,
        120,
    )
    assert (settings.claim_lease_seconds, settings.delivery_reserve_seconds, settings.state_ttl_days) == (
        180,
        10,
        60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TABLE_NAME", "", "TABLE_NAME is required"),
        ("TOPIC_ARN", "my-topic", "TOPIC_ARN must be an SNS topic ARN"),
        ("EVENT_BUS_NAME", " ", "EVENT_BUS_NAME is required"),
        ("REGIONS", "us-east-1,mars", "REGIONS must list region names such as us-east-1, got mars"),
        ("ANNOUNCE_STATES", "Completed,Done", "ANNOUNCE_STATES may list only"),
        ("ANNOUNCE_EXISTING_ON_FIRST_RUN", "maybe", "ANNOUNCE_EXISTING_ON_FIRST_RUN must be true or false"),
        ("EVENT_SOURCE", "aws.ec2", "EVENT_SOURCE must not start with 'aws.'"),
        ("PAGE_SIZE", "201", "PAGE_SIZE must be between 1 and 200"),
        ("PAGE_SIZE", "ten", "PAGE_SIZE must be a whole number"),
        ("LISTING_OVERLAP_MINUTES", "0", "LISTING_OVERLAP_MINUTES must be between"),
        ("FULL_SCAN_INTERVAL_MINUTES", "-5", "FULL_SCAN_INTERVAL_MINUTES must be between"),
        ("CLAIM_LEASE_SECONDS", "5", "CLAIM_LEASE_SECONDS must be between"),
        ("DELIVERY_RESERVE_SECONDS", "9999", "DELIVERY_RESERVE_SECONDS must be between"),
        ("STATE_TTL_DAYS", "7", "STATE_TTL_DAYS must be between 32"),
    ],
)
def test_a_missing_or_malformed_setting_fails_with_a_message_naming_the_variable(variable, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(REQUIRED | {variable: value})


def test_without_regions_or_a_lambda_region_the_message_says_what_to_set():
    environment = {name: value for name, value in REQUIRED.items() if name != "AWS_REGION"}

    with pytest.raises(ConfigError, match="REGIONS is not set and neither is AWS_REGION"):
        load_settings(environment)
