"""The stack registers the event contract the repository keeps, in a schema registry of its own."""

from __future__ import annotations

import json

from ami_store_notifier.event_schema import event_schema
from tests.infra.support import Synthesized


def test_the_stack_registers_the_event_schema_the_repository_keeps(synth: Synthesized) -> None:
    registry = synth.only("AWS::EventSchemas::Registry")[1]["Properties"]
    schema = synth.only("AWS::EventSchemas::Schema")[1]["Properties"]

    assert registry["RegistryName"] == "AmiStoreNotifier-events"
    assert schema["Type"] == "JSONSchemaDraft4"
    assert schema["SchemaName"] == "ami-store-notifier@AmiStoreTaskStateChange"
    assert json.loads(schema["Content"]) == event_schema("ami-store-notifier")


def test_the_registered_schema_names_the_configured_event_source(custom: Synthesized) -> None:
    schema = custom.only("AWS::EventSchemas::Schema")[1]["Properties"]

    assert json.loads(schema["Content"])["properties"]["source"]["enum"] == ["acme.ami-store"]
    assert schema["SchemaName"] == "acme.ami-store@AmiStoreTaskStateChange"
