"""The whole notifier as one construct, for this app's stack or for a stack of your own."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from constructs import Construct

from ami_store_notifier.report import NAMESPACE
from infra.announcements import Announcements
from infra.chat import ChatNotifications
from infra.hints import Hints
from infra.hub_forwarding import HubForwarding
from infra.monitoring import Monitoring
from infra.names import NamePrefix
from infra.poller import Poller
from infra.settings import Settings
from infra.state_table import StateTable

# The id under which the resources keep the logical ids of the one-stack layout: CDK leaves a construct
# named "Default" out of the logical ids of what it contains.
TRANSPARENT_ID = "Default"


class AmiStoreNotifier(Construct):
    """The state table, the announcements (topic, bus, and the chat topic when on), the poller, its hints
    when on, and its monitoring.

    Fixed names (the bus, the alarms, the dashboard) start with ``names``: the stack's name, and the
    construct's id too when it is not this app's own, so that two notifiers never collide (infra/names.py).
    The same prefix is the ``service`` dimension of every metric the poller publishes and the alarms and
    the dashboard read: CloudWatch takes one namespace, name and set of dimensions as one metric, whoever
    publishes it (CloudWatch concepts, "Dimensions"), so two notifiers in an account and Region must differ
    in a dimension, or each would read the other's data.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        self.names = (
            NamePrefix(stack_name, made_from="stackName")
            if construct_id == TRANSPARENT_ID
            else NamePrefix(
                f"{stack_name}-{construct_id}",
                made_from=f"the stack name ({stack_name}) with the construct id ({construct_id})",
            )
        )
        self.metrics_service = self.names.value
        self.settings = settings
        # The configured Regions, or the stack's own (a token until deployment).
        self.polled_regions: tuple[str, ...] = settings.regions or (Aws.REGION,)

        self.state = StateTable(self, "StateTable", removal_policy=settings.removal_policy)
        self.announcements = Announcements(
            self,
            "Announcements",
            settings=settings,
            names=self.names,
        )
        self.chat = (
            ChatNotifications(
                self,
                "Chat",
                settings=settings,
                names=self.names,
                encryption=self.announcements.encryption,
            )
            if settings.chat_notifications
            else None
        )
        # Transparent, so the poller's resources keep their logical ids from the one-stack layout.
        self.poller = Poller(
            self,
            TRANSPARENT_ID,
            settings=settings,
            table=self.state.table,
            announcements=self.announcements,
            chat=self.chat,
            polled_regions=self.polled_regions,
            metrics_service=self.metrics_service,
            removal_policy=settings.removal_policy,
        )
        # The hints (the `hints` setting): rules on the default bus, their queue, and the mapping that runs
        # the poller with its batches (infra/hints.py).
        self.hints = (
            Hints(self, "Hints", settings=settings, function=self.poller.function, role=self.poller.role)
            if settings.hints
            else None
        )
        self.hub_forwarding = (
            HubForwarding(
                self,
                "HubForwarding",
                bus=self.announcements.bus,
                hub_bus_arn=settings.hub_event_bus_arn,
                event_source=settings.event_source,
            )
            if settings.hub_event_bus_arn is not None
            else None
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            settings=settings,
            names=self.names,
            function=self.poller.function,
            log_group=self.poller.log_group,
            hub_dead_letter_queue=self.hub_forwarding.dead_letter_queue if self.hub_forwarding else None,
            hint_dead_letter_queue=self.hints.dead_letter_queue if self.hints else None,
            namespace=NAMESPACE,
            service=self.metrics_service,
            encryption=self.announcements.encryption,
        )
