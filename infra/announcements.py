"""Where announcements go: the encrypted notification topic and the event bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from constructs import Construct

from ami_store_notifier.domain.announcements import DETAIL_TYPE
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, NoticeKind
from ami_store_notifier.event_schema import event_schema, notice_event_schema
from infra.encrypted_topic import TopicEncryption
from infra.names import BUS, SCHEMA, SCHEMA_REGISTRY, NamePrefix
from infra.regions import SCHEMA_REGISTRY_PART
from infra.settings import Settings


def schema_name(source: str, detail_type: str) -> str:
    """`<source>@<detail-type in CamelCase, without "EC2">`: unique in the registry, since the detail-types
    are, and the same at every synthesis (`ami-store-notifier@AmiStoreTaskStateChange`)."""
    words = detail_type.removeprefix("EC2 ").split()
    return f"{source.replace('/', '.')}@{''.join(word.capitalize() for word in words)}"


# Every detail-type the poller puts on its bus: the state changes, and the notices beside them (archive
# checks, stores into unapproved buckets, stalls: domain/notices.py), which a hub forwards like the rest.
ANNOUNCED_DETAIL_TYPES = (DETAIL_TYPE, *NOTICE_DETAIL_TYPES.values())


def announcement_pattern(
    event_source: str, detail_types: Sequence[str] = ANNOUNCED_DETAIL_TYPES
) -> events.EventPattern:
    """This product's announcements on a bus, whatever their state: of every detail-type unless told."""
    return events.EventPattern(source=[event_source], detail_type=list(detail_types))


class Announcements(Construct):
    """``bus_name`` is what the handler is given, ``bus_arn`` what the role and the outputs name.

    ``encryption`` is the deployment's, for its other topics too (chat, alarms): its customer managed key,
    when there is one, is `NotificationKey`, the notification topic's key of earlier releases, so that an
    upgrade keeps it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        names: NamePrefix,
    ) -> None:
        super().__init__(scope, construct_id)
        self.encryption = TopicEncryption(
            self,
            "NotificationKey",
            customer_managed_key=settings.with_customer_managed_key,
            purpose="AMI store notifier's",
        )
        self.key = self.encryption.key
        self.topic = self.encryption.topic(
            self,
            "Notification",
            display_name="AMI store task notifications",
            email=settings.notification_email,
        )
        self.bus, self.bus_name, self.bus_arn = self._event_bus(settings, names)
        self.schema = self._register_the_event_schema(settings.event_source, names)

    def _register_the_event_schema(self, source: str, names: NamePrefix) -> eventschemas.CfnSchema:
        """The event contract in a schema registry of its own, where consumers find it (and EventBridge's
        code bindings for it): one schema per detail-type, each the whole event around its detail's schema
        (`event_detail.schema.json` for the state change, `notice_schemas/` for each notice). Returns the
        state change's. Left out, by a condition on the Region, where EventBridge has no schema registry."""
        registry = eventschemas.CfnRegistry(
            self,
            "SchemaRegistry",
            registry_name=names.name(SCHEMA_REGISTRY, "events", stack=Stack.of(self)),
            description="AMI Store Notifier: the events it puts on its bus",
        )
        # The state change's construct id is that of earlier releases: another would replace the schema,
        # and CloudFormation cannot create the new one while the old holds its name.
        schema = self._schema(registry, "EventSchema", source, DETAIL_TYPE, event_schema(source))
        notice_schemas = [
            self._schema(
                registry,
                f"{kind.value}EventSchema",
                source,
                NOTICE_DETAIL_TYPES[kind],
                notice_event_schema(source, kind),
            )
            for kind in NoticeKind
        ]
        SCHEMA_REGISTRY_PART.leave_out_where_missing(registry, schema, *notice_schemas)
        return schema

    def _schema(
        self,
        registry: eventschemas.CfnRegistry,
        construct_id: str,
        source: str,
        detail_type: str,
        content: dict[str, Any],
    ) -> eventschemas.CfnSchema:
        return eventschemas.CfnSchema(
            self,
            construct_id,
            registry_name=registry.attr_registry_name,
            schema_name=SCHEMA.check(schema_name(source, detail_type), made_from="eventSource"),
            type="JSONSchemaDraft4",
            content=json.dumps(content),
            description=f"{detail_type}, as announced by AMI Store Notifier",
        )

    def _event_bus(self, settings: Settings, names: NamePrefix) -> tuple[events.IEventBus, str, str]:
        imported = settings.imported_bus
        if imported is not None:
            assert settings.event_bus_arn is not None
            arn = settings.event_bus_arn
            return events.EventBus.from_event_bus_arn(self, "EventBus", arn), imported.name, arn
        bus_name = settings.event_bus_name or names.name(BUS, "events", stack=Stack.of(self))
        new_bus = events.EventBus(self, "EventBus", event_bus_name=bus_name)
        # Fn::GetAtt Name, not Ref: moto's CloudFormation resolves a Ref to a bus to an object, which
        # would break the function's environment in the deploy test. Both are the name on AWS.
        name = cast(events.CfnEventBus, new_bus.node.default_child).attr_name
        return new_bus, name, new_bus.event_bus_arn
