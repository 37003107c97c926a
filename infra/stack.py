"""This app's stack: the notifier, its outputs, and warnings about context keys that no setting reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import Annotations, CfnOutput, CfnResource, Environment, IStackSynthesizer, Stack
from constructs import Construct

from infra.context_keys import unknown_keys
from infra.notifier import TRANSPARENT_ID, AmiStoreNotifier
from infra.settings import Settings

# The logical ids of the announcements in the one-stack layout, kept so that upgrading replaces none of
# them: a new topic would drop every subscription, a new topic policy's replacement would reset the
# topic to SNS's default policy, and a bus has a fixed name that a replacement cannot take over.
RELEASED_LOGICAL_IDS = {
    "NotificationKey": "NotificationKey6F64DE1A",
    "NotificationTopic": "NotificationTopicEB7A0DF1",
    "NotificationTopic/Policy": "NotificationTopicPolicyF935982E",
    "EventBus": "EventBus7B8748AA",
}


class AmiStoreNotifierStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        context: Mapping[str, object] | None = None,
        description: str | None = None,
        env: Environment | None = None,
        synthesizer: IStackSynthesizer | None = None,
        analytics_reporting: bool | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=settings.stack_name,
            description=description,
            env=env,
            synthesizer=synthesizer,
            analytics_reporting=analytics_reporting,
        )
        for key in unknown_keys(context or {}):
            Annotations.of(self).add_warning_v2(
                f"ami-store-notifier:unknown-context-{key}",
                f"Context key {key!r} is not a setting of this app (a typo?); see docs/deploying/settings.md",
            )
        self.notifier = AmiStoreNotifier(self, TRANSPARENT_ID, settings=settings)
        self._keep_released_logical_ids()
        self._outputs()

    def _keep_released_logical_ids(self) -> None:
        for path, logical_id in RELEASED_LOGICAL_IDS.items():
            resource = self.notifier.announcements.node.try_find_child(path.split("/")[0])
            for part in path.split("/")[1:]:
                resource = resource.node.try_find_child(part) if resource is not None else None
            created = resource.node.default_child if resource is not None else None
            if created is not None:  # an imported bus creates nothing
                cast(CfnResource, created).override_logical_id(logical_id)

    def _outputs(self) -> None:
        notifier = self.notifier
        announcements, poller = notifier.announcements, notifier.poller
        outputs = {
            "TopicArn": (announcements.topic.topic_arn, "Notification topic"),
            "EventBusName": (announcements.bus_name, "Bus the events are put on"),
            "EventBusArn": (announcements.bus_arn, "Bus the events are put on"),
            "TableName": (notifier.state.table.table_name, "Task state table"),
            "FunctionName": (poller.function.function_name, "Poller function"),
            "LogGroupName": (poller.log_group.log_group_name, "Poller logs"),
            "AlarmTopicArn": (notifier.monitoring.alarm_topic.topic_arn, "Alarms"),
            "DeadLetterQueueUrl": (
                poller.dead_letter_queue.queue_url,
                "Scheduled ticks EventBridge could not hand to the poller",
            ),
        }
        if notifier.chat is not None:
            outputs["ChatTopicArn"] = (notifier.chat.topic.topic_arn, "Chat notification topic")
        if notifier.hub_forwarding is not None:
            outputs["HubForwardingDeadLetterQueueUrl"] = (
                notifier.hub_forwarding.dead_letter_queue.queue_url,
                "Announcements EventBridge could not put on the hub bus",
            )
        if notifier.settings.readable_buckets:
            # For the key policies of readable buckets encrypted with a customer managed key (the role has
            # no KMS permission of its own) and the bucket policies of other accounts' buckets
            # (infra/archive_access.py).
            outputs["PollerRoleArn"] = (poller.role.role_arn, "The role the archive checks read buckets as")
        if notifier.hints is not None:
            outputs["HintQueueUrl"] = (notifier.hints.queue.queue_url, "Hints for the poller (hints setting)")
            outputs["HintDeadLetterQueueUrl"] = (
                notifier.hints.dead_letter_queue.queue_url,
                "Hints EventBridge could not queue, or the poller failed on",
            )
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
