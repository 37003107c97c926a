"""A notifier's side of the Organization-wide mode: its announcements forwarded to the hub's bus."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.announcements import announcement_pattern
from infra.dead_letter_queue import dead_letter_queue


class HubForwarding(Construct):
    """A rule on the notifier's bus that puts each of its announcements on the hub's bus, unchanged:
    the events keep this account and Region, which hub consumers filter on."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        hub_bus_arn: str,
        event_source: str,
    ) -> None:
        super().__init__(scope, construct_id)
        hub_bus = events.EventBus.from_event_bus_arn(self, "HubBus", hub_bus_arn)
        # A bus in another account is a target only through a role (EventBridge user guide, "Sending and
        # receiving events between AWS accounts"). This one may put events on the hub's bus, nothing
        # else, and only EventBridge acting for this account may assume it (confused deputy).
        self.role = iam.Role(
            self,
            "ForwarderRole",
            description="Puts this notifier's announcements on the Organization's hub bus",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="PutOnHubBus", actions=["events:PutEvents"], resources=[hub_bus_arn])
        )
        self.dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", holds="announcements the hub's bus did not take"
        )
        self.rule = events.Rule(
            self,
            "ForwardToHub",
            description="Forwards AMI store announcements to the Organization's hub bus",
            event_bus=bus,
            event_pattern=announcement_pattern(event_source),
            targets=[targets.EventBus(hub_bus, role=self.role, dead_letter_queue=self.dead_letter_queue)],
        )
