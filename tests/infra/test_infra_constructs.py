"""The constructs by concern, on their own and as one AmiStoreNotifier inside someone else's stack."""

from __future__ import annotations

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk.assertions import Match, Template

from infra.announcements import Announcements
from infra.names import NamePrefix
from infra.notifier import AmiStoreNotifier
from infra.settings import Settings, load_settings
from infra.state_table import StateTable
from tests.infra.support import Synthesized

# The logical ids of the one-stack release for everything an upgrade must not replace: data, keys,
# subscriptions, and resources with a fixed name (a replacement could not take the name over).
RELEASED = {
    "StateTable9728C7E5": "AWS::DynamoDB::Table",
    "NotificationKey6F64DE1A": "AWS::KMS::Key",
    "NotificationTopicEB7A0DF1": "AWS::SNS::Topic",
    "NotificationTopicPolicyF935982E": "AWS::SNS::TopicPolicy",
    "EventBus7B8748AA": "AWS::Events::EventBus",
    "PollerLogsC4401B8A": "AWS::Logs::LogGroup",
    "Poller8D8A3186": "AWS::Lambda::Function",
    "MonitoringAlarmTopicAF62D4F1": "AWS::SNS::Topic",
    "MonitoringAlarmTopicPolicyCB9CCFB0": "AWS::SNS::TopicPolicy",
    "MonitoringErrorsAlarmFDAB8ADD": "AWS::CloudWatch::Alarm",
    "MonitoringHeartbeatAlarm4D57137A": "AWS::CloudWatch::Alarm",
    "MonitoringPublishFailuresAlarm0DA5AC3B": "AWS::CloudWatch::Alarm",
    "MonitoringDashboard0C3675C6": "AWS::CloudWatch::Dashboard",
}
# What the cost review removed on purpose (issue 19): the alarm topic's own key, now the deployment's one
# key (NotificationKey) encrypts it, and the alarms the heartbeat covers (infra/monitoring.py). An upgrade
# deletes the alarms; the key is kept by its DeletionPolicy Retain and bills $1 a month until scheduled for
# deletion (docs/deploying/single-account.md#upgrading).
RETIRED = {
    "MonitoringAlarmKey10E38323": "AWS::KMS::Key",
    "MonitoringThrottlesAlarm0D916595": "AWS::CloudWatch::Alarm",
    "MonitoringDurationAlarmB451D1B7": "AWS::CloudWatch::Alarm",
    "MonitoringDeadLettersAlarm027EF4C0": "AWS::CloudWatch::Alarm",
}


def settings(**context: str) -> Settings:
    return load_settings(context.get)


@pytest.fixture(scope="module")
def host() -> Template:
    """Two notifiers in a stack of someone else's app."""
    stack = Stack(App(), "Platform")
    AmiStoreNotifier(stack, "Archives", settings=settings())
    AmiStoreNotifier(stack, "Backups", settings=settings(regions="eu-west-1"))
    return Template.from_stack(stack)


def test_upgrading_from_the_one_stack_release_replaces_nothing_that_holds_data_or_a_name(
    synth: Synthesized,
) -> None:
    resources = synth.template_json["Resources"]
    assert {
        logical_id: resources[logical_id]["Type"] for logical_id in RELEASED if logical_id in resources
    } == (RELEASED)
    assert not set(RETIRED) & set(resources)


def test_the_notifier_can_live_in_another_apps_stack(host: Template) -> None:
    host.resource_count_is("AWS::DynamoDB::Table", 2)
    host.resource_count_is("AWS::Lambda::Function", 2)
    host.resource_count_is("AWS::Events::EventBus", 2)
    host.has_resource_properties("AWS::Events::EventBus", {"Name": "Platform-Archives-events"})
    host.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "Platform-Backups-PollerErrors"})
    host.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({"REGIONS": "eu-west-1"})}}
    )


def test_two_notifiers_in_one_stack_share_no_fixed_name(host: Template) -> None:
    names = [
        str(props.get("Name") or props.get("AlarmName") or props.get("DashboardName"))
        for kind in ("AWS::Events::EventBus", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard")
        for props in (resource["Properties"] for resource in host.find_resources(kind).values())
    ]
    assert len(names) == len(set(names)) == 2 * (1 + 5 + 1)  # a bus, five alarms, a dashboard


def test_the_state_table_construct_stands_alone() -> None:
    stack = Stack(App(), "Tables")
    StateTable(stack, "State", removal_policy=RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like({"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
            "DeletionPolicy": "Delete",
        },
    )


def test_the_announcements_construct_stands_alone_and_uses_an_existing_bus_by_name() -> None:
    stack = Stack(App(), "Topics")
    bus_arn = "arn:aws:events:eu-west-1:123456789012:event-bus/central"
    announcements = Announcements(
        stack,
        "Announcements",
        settings=settings(eventBusArn=bus_arn),
        names=NamePrefix("Topics", made_from="stackName"),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::Events::EventBus", 0)
    assert (announcements.bus_name, announcements.bus_arn) == ("central", bus_arn)
