"""The stack registers the event contract the repository keeps, one schema per detail-type, in a schema
registry of its own."""

from __future__ import annotations

import json

from ami_store_notifier.domain.notices import NoticeKind
from ami_store_notifier.event_schema import event_schema, notice_event_schema
from tests.infra.support import Synthesized


def registered(synthesized: Synthesized) -> dict[str, dict[str, object]]:
    """The registered schemas' properties, by logical id."""
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in synthesized.resources("AWS::EventSchemas::Schema").items()
    }


def test_the_stack_registers_the_event_schema_the_repository_keeps(synth: Synthesized) -> None:
    registry = synth.only("AWS::EventSchemas::Registry")[1]["Properties"]
    # The logical id of earlier releases: another would make CloudFormation create the schema anew while
    # the old one holds its name, and fail.
    schema = registered(synth)["AnnouncementsEventSchemaCF8F5BA3"]

    assert registry["RegistryName"] == "AmiStoreNotifier-events"
    assert schema["Type"] == "JSONSchemaDraft4"
    assert schema["SchemaName"] == "ami-store-notifier@AmiStoreTaskStateChange"
    assert json.loads(str(schema["Content"])) == event_schema("ami-store-notifier")


def test_each_notice_has_its_schema_beside_the_state_changes_named_after_its_detail_type(
    synth: Synthesized,
) -> None:
    by_name = {properties["SchemaName"]: properties for properties in registered(synth).values()}

    assert sorted(by_name) == [
        "ami-store-notifier@AmiStoreArchiveVerification",
        "ami-store-notifier@AmiStoreIntoUnapprovedBucket",
        "ami-store-notifier@AmiStoreTaskStalled",
        "ami-store-notifier@AmiStoreTaskStateChange",
    ]
    for kind, name in [
        (NoticeKind.VERIFICATION, "AmiStoreArchiveVerification"),
        (NoticeKind.UNAPPROVED_BUCKET, "AmiStoreIntoUnapprovedBucket"),
        (NoticeKind.STALLED, "AmiStoreTaskStalled"),
    ]:
        schema = by_name[f"ami-store-notifier@{name}"]
        assert schema["Type"] == "JSONSchemaDraft4"
        assert json.loads(str(schema["Content"])) == notice_event_schema("ami-store-notifier", kind)


def test_the_registered_schemas_name_the_configured_event_source(custom: Synthesized) -> None:
    schemas = registered(custom).values()

    assert {json.dumps(json.loads(str(schema["Content"]))["properties"]["source"]) for schema in schemas} == {
        json.dumps({"type": "string", "enum": ["acme.ami-store"]})
    }
    assert all(str(schema["SchemaName"]).startswith("acme.ami-store@") for schema in schemas)
