"""Context settings: defaults, accepted spellings, refused values, and their effect on the stack."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest

from ami_store_notifier.config import Settings as HandlerSettings
from ami_store_notifier.setting_parsers import to_environment
from ami_store_notifier.settings_spec import CONTEXT_SETTINGS, HANDLER_SETTINGS, SETTINGS
from infra.app import build_app
from infra.docs import PAGES, deployment_settings_table, handler_settings_table, with_tables
from infra.settings import Settings, SettingsError, load_settings
from tests.infra.support import REPO_ROOT, ROLLOUT, Synthesized


def parse(**context: Any) -> Settings:
    return load_settings(context.get)


# --- defaults and accepted values -----------------------------------------------------------------------


def test_no_context_gives_the_documented_defaults() -> None:
    settings = parse()
    assert settings.stack_name == "AmiStoreNotifier"
    assert settings.schedule_minutes == 1
    assert settings.regions == ()
    assert settings.announce_states == ("Completed", "Failed")
    assert settings.announce_existing_on_first_run is False
    assert settings.claim_lease_seconds == settings.function_timeout_seconds + 60


def test_command_line_strings_and_cdk_json_values_mean_the_same() -> None:
    from_cli = parse(
        scheduleMinutes="5",
        regions="us-east-1, eu-west-1",
        announceStates="completed,FAILED,InProgress",
        announceExistingOnFirstRun="yes",
        pageSize="50",
    )
    from_json = parse(
        scheduleMinutes=5,
        regions=["us-east-1", "eu-west-1"],
        announceStates=["Completed", "Failed", "InProgress"],
        announceExistingOnFirstRun=True,
        pageSize=50,
    )
    assert from_cli == from_json
    assert from_cli.regions == ("us-east-1", "eu-west-1")
    assert from_cli.announce_states == ("Completed", "Failed", "InProgress")


def test_blank_values_fall_back_to_the_defaults() -> None:
    assert parse(scheduleMinutes="", regions=" ", eventSource="", notificationEmail="") == parse()


def test_repeated_regions_and_states_are_listed_once() -> None:
    settings = parse(regions="us-east-1,us-east-1", announceStates="Failed,failed")
    assert settings.regions == ("us-east-1",)
    assert settings.announce_states == ("Failed",)


def test_the_default_bus_may_be_given_by_arn() -> None:
    settings = parse(eventBusArn="arn:aws:events:eu-west-1:123456789012:event-bus/default")
    assert settings.imported_bus is not None
    assert settings.imported_bus.name == "default"


def test_the_cost_settings_default_to_every_alarm_no_tracing_and_the_modes_dashboard_and_key() -> None:
    defaults = parse()
    assert (defaults.alarms, defaults.tracing) == ("all", False)
    # Unset: the mode decides (on for a single account, off in spokes: test_infra_cost_modes.py).
    assert (defaults.dashboard, defaults.customer_managed_key) == (None, None)
    assert (defaults.with_dashboard, defaults.with_customer_managed_key) == (True, True)
    lean = parse(alarms="heartbeat", dashboard="false", customerManagedKey="no", tracing=True)
    assert (lean.heartbeat_alarm_only, lean.with_dashboard, lean.with_customer_managed_key) == (
        True,
        False,
        False,
    )
    assert lean.tracing is True


def test_a_disposable_deployment_and_a_reservation_are_opt_in() -> None:
    defaults = parse()
    assert (defaults.retain_on_delete, defaults.reserved_concurrency) == (True, None)
    chosen = parse(retainOnDelete="false", reservedConcurrency="1")
    assert (chosen.retain_on_delete, chosen.reserved_concurrency) == (False, 1)


# --- refused values -------------------------------------------------------------------------------------

BAD_VALUES = [
    ("stackName", "1-starts-with-a-digit"),
    ("stackName", "has_underscore"),
    ("scheduleMinutes", "0"),
    ("scheduleMinutes", "481"),
    ("scheduleMinutes", "five"),
    ("scheduleMinutes", True),
    ("scheduleMinutes", 1.5),
    ("regions", "us-east-1,Mars"),
    ("regions", ","),
    ("regions", {"us-east-1": True}),
    ("eventSource", "aws.ec2"),
    ("eventSource", "has space"),
    ("announceStates", "Completed,Done"),
    ("announceExistingOnFirstRun", "maybe"),
    ("pageSize", "0"),
    ("pageSize", "201"),
    ("listingOverlapMinutes", "0"),
    ("listingOverlapMinutes", "241"),
    ("fullScanIntervalMinutes", "10081"),
    ("deliveryReserveSeconds", "0"),
    ("deliveryReserveSeconds", "601"),
    ("stateTtlDays", "31"),
    ("stateTtlDays", "3651"),
    ("functionTimeoutSeconds", "9"),
    ("functionTimeoutSeconds", "901"),
    ("functionMemoryMb", "64"),
    ("logRetentionDays", "10"),
    ("notificationEmail", "not-an-address"),
    ("alarmEmail", "a@b"),
    ("docsUrl", "http://docs.example.com/"),
    ("docsUrl", "https://docs.example.com/" + "a" * 184),
    ("eventBusArn", "arn:aws:sns:us-east-1:123456789012:topic"),
    ("eventBusArn", "my-bus"),
    ("eventBusName", "default"),
    ("eventBusName", "has space"),
    ("powertoolsLayerArn", "AWSLambdaPowertoolsPythonV3-python313-arm64:38"),
    ("powertoolsLayerArn", "arn:aws:lambda:us-east-1:017000801446:layer:Powertools"),
    ("reservedConcurrency", "0"),
    ("reservedConcurrency", "1001"),
    ("reservedConcurrency", "one"),
    ("retainOnDelete", "sometimes"),
    ("alarms", "none"),
    ("alarms", "Heartbeat"),
    ("alarms", True),
    ("dashboard", "maybe"),
    ("customerManagedKey", "aws"),
    ("tracing", "sampled"),
    ("regions", "us-east-1,cn-north-1"),
    ("powertoolsLayerVersion", "38"),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_a_bad_value_is_refused_with_a_message_naming_its_key(key: str, value: object) -> None:
    with pytest.raises(SettingsError, match=rf"^{key}\b"):
        parse(**{key: value})


@pytest.mark.parametrize(
    ("key", "value"), [("scheduleMinutes", "0"), ("regions", "nowhere"), ("pageSize", "x")]
)
def test_synthesis_stops_on_a_bad_value_before_any_resource_is_defined(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{key}\b"):
        build_app({key: value}, nag=False)


def test_the_delivery_reserve_must_leave_time_for_the_poll_itself() -> None:
    with pytest.raises(SettingsError, match=r"^deliveryReserveSeconds .*functionTimeoutSeconds"):
        parse(functionTimeoutSeconds="30", deliveryReserveSeconds="30")


def test_a_new_bus_name_and_an_existing_bus_arn_are_not_both_allowed() -> None:
    with pytest.raises(SettingsError, match=r"eventBusName.*eventBusArn"):
        parse(eventBusName="mine", eventBusArn="arn:aws:events:us-east-1:123456789012:event-bus/theirs")


def test_a_setting_that_is_no_longer_read_is_refused_with_what_replaces_it() -> None:
    with pytest.raises(SettingsError, match=r"^powertoolsLayerVersion is no longer read.*powertoolsLayerArn"):
        parse(powertoolsLayerVersion=38)


BUS_IN_IRELAND = "arn:aws:events:eu-west-1:123456789012:event-bus/central"


@pytest.mark.parametrize(
    ("account", "region", "refusal"),
    [
        (
            "999999999999",
            "eu-west-1",
            r"^eventBusArn is a bus of account 123456789012, .* account 999999999999",
        ),
        (
            "123456789012",
            "us-east-1",
            r"^eventBusArn is a bus in eu-west-1, but the stack deploys to us-east-1",
        ),
    ],
)
def test_an_existing_bus_elsewhere_than_the_deployment_is_refused_at_synth(
    account: str, region: str, refusal: str
) -> None:
    target = {"CDK_DEFAULT_ACCOUNT": account, "CDK_DEFAULT_REGION": region}
    with pytest.raises(SettingsError, match=refusal):
        build_app({"eventBusArn": BUS_IN_IRELAND}, nag=False, environ=target)


def test_an_existing_bus_pins_the_stack_to_its_account_and_region() -> None:
    target = {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"}
    _, stack = build_app({"eventBusArn": BUS_IN_IRELAND}, nag=False, environ=target)
    assert (stack.account, stack.region) == ("123456789012", "eu-west-1")
    _, offline = build_app({"eventBusArn": BUS_IN_IRELAND}, nag=False, environ={})
    assert (offline.account, offline.region) == ("123456789012", "eu-west-1")


def test_regions_of_another_partition_than_the_deployment_are_refused_at_synth() -> None:
    with pytest.raises(SettingsError, match=r"^regions \(cn-north-1\) are in partition aws-cn.*us-east-1"):
        build_app({"regions": "cn-north-1"}, nag=False, environ={"CDK_DEFAULT_REGION": "us-east-1"})


def test_the_app_entry_point_reports_a_bad_value_and_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    import app as entry_point

    monkeypatch.setattr(entry_point, "build_app", lambda: build_app({"pageSize": "500"}, nag=False))
    with pytest.raises(SystemExit, match=r"Invalid context setting: pageSize must be between 1 and 200"):
        entry_point.main()


# --- documentation --------------------------------------------------------------------------------------


def test_the_documentation_tables_are_the_ones_the_settings_spec_writes() -> None:
    assert {page.relative_to(REPO_ROOT).as_posix() for page in PAGES} == {
        "docs/deploying/settings.md",
        "docs/deploying/regions.md",
        "docs/settings-and-metrics.md",
    }
    for page, tables in PAGES.items():
        text = page.read_text()
        assert text == with_tables(text, tables), f"run `make docs` to write the tables of {page.name}"


def test_the_settings_tables_list_every_context_key_and_handler_variable() -> None:
    deployment, handler_variables = deployment_settings_table(), handler_settings_table()
    for setting in SETTINGS:
        if setting.key is not None:
            assert f"| `{setting.key}` |" in deployment
        if setting.variable is not None:
            assert f"| `{setting.variable}` |" in handler_variables


def test_each_side_has_one_typed_attribute_per_setting_it_reads() -> None:
    assert [f.name for f in fields(Settings)] == [s.field for s in CONTEXT_SETTINGS]
    assert sorted(f.name for f in fields(HandlerSettings)) == sorted(s.field for s in HANDLER_SETTINGS)


def test_every_default_is_accepted_by_its_own_parser() -> None:
    for setting in SETTINGS:
        if setting.default not in (None, ()):
            name = setting.key or setting.variable or ""
            assert setting.parse(to_environment(setting.default), name) == setting.default, name


# --- the effect on the stack ----------------------------------------------------------------------------


def environment(synth: Synthesized) -> dict[str, Any]:
    variables: dict[str, Any] = synth.only("AWS::Lambda::Function")[1]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def test_every_setting_reaches_the_pollers_environment(custom: Synthesized) -> None:
    variables = environment(custom)
    assert {name: variables[name] for name in variables if isinstance(variables[name], str)} == {
        "REGIONS": "us-east-1,eu-west-1",
        "EVENT_SOURCE": "acme.ami-store",
        "ANNOUNCE_STATES": "InProgress,Completed,Failed",
        "ANNOUNCE_EXISTING_ON_FIRST_RUN": "true",
        "PAGE_SIZE": "100",
        "LISTING_OVERLAP_MINUTES": "30",
        "FULL_SCAN_INTERVAL_MINUTES": "240",
        "QUIET_WHEN_IDLE": "false",
        "READABLE_BUCKETS": "acme-ami-archive",
        "APPROVED_BUCKETS": "acme-*",
        "STALL_AFTER_MINUTES": "60",
        "CLAIM_LEASE_SECONDS": "360",
        "DELIVERY_RESERVE_SECONDS": "30",
        "STATE_TTL_DAYS": "60",
        # The custom stackName (StoreNotes) makes the deployment's own metrics.
        "POWERTOOLS_SERVICE_NAME": "StoreNotes",
        "POWERTOOLS_METRICS_NAMESPACE": "AmiStoreNotifier",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_the_schedule_timeout_memory_layer_and_retention_follow_the_settings(custom: Synthesized) -> None:
    props = custom.only("AWS::Lambda::Function")[1]["Properties"]
    assert (props["Timeout"], props["MemorySize"], props["ReservedConcurrentExecutions"]) == (300, 512, 2)
    assert props["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:my-powertools:7"]
    assert "Parameters" not in custom.template_json or not [
        name for name in custom.template_json["Parameters"] if name.startswith("SsmParameterValue")
    ]
    rule = custom.only("AWS::Events::Rule")[1]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Targets"][0]["RetryPolicy"]["MaximumEventAgeInSeconds"] == 300
    assert custom.only("AWS::Lambda::EventInvokeConfig")[1]["Properties"]["MaximumEventAgeInSeconds"] == 300
    assert custom.only("AWS::Logs::LogGroup")[1]["Properties"]["RetentionInDays"] == 365


def test_the_alarms_follow_the_schedule_and_the_timeout(custom: Synthesized) -> None:
    alarms = {
        resource["Properties"]["AlarmName"]: resource["Properties"]
        for resource in custom.resources("AWS::CloudWatch::Alarm").values()
    }
    assert all(name.startswith("StoreNotes-") for name in alarms)
    # One alarm for both Regions polled: the log line names the Region.
    assert [name for name in alarms if "RegionFailures" in name] == ["StoreNotes-RegionFailures"]
    heartbeat = alarms["StoreNotes-NoSuccessfulPolls"]
    assert (heartbeat["Period"], heartbeat["EvaluationPeriods"]) == (300, 3)
    dashboard = json.dumps(custom.only("AWS::CloudWatch::Dashboard")[1]["Properties"]["DashboardBody"])
    assert '\\"value\\":300000' in dashboard, "the duration graph marks the 300 s timeout"


def test_the_stack_name_and_the_new_bus_name_are_used(custom: Synthesized) -> None:
    assert custom.stack.stack_name == "StoreNotes"
    assert custom.only("AWS::Events::EventBus")[1]["Properties"] == {"Name": "ami-store"}
    assert custom.only("AWS::CloudWatch::Dashboard")[1]["Properties"]["DashboardName"] == {
        "Fn::Join": ["", ["StoreNotes-", {"Ref": "AWS::Region"}]]
    }


def test_the_poller_may_list_store_tasks_only_in_the_configured_regions(custom: Synthesized) -> None:
    statements = custom.only("AWS::IAM::Policy")[1]["Properties"]["PolicyDocument"]["Statement"]
    (listing,) = [statement for statement in statements if statement.get("Sid") == "ListStoreImageTasks"]
    assert listing["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}


def test_a_disposable_deployment_deletes_its_table_log_group_and_keys(custom: Synthesized) -> None:
    for kind in ("AWS::DynamoDB::Table", "AWS::Logs::LogGroup", "AWS::KMS::Key"):
        for resource in custom.resources(kind).values():
            assert resource["DeletionPolicy"] == "Delete", kind
            assert resource["UpdateReplacePolicy"] == "Delete", kind


def test_email_addresses_are_subscribed_to_their_topics(custom: Synthesized) -> None:
    notifier = custom.stack.notifier
    subscriptions = {
        resource["Properties"]["Endpoint"]: resource["Properties"]
        for resource in custom.resources("AWS::SNS::Subscription").values()
    }
    assert subscriptions == {
        "ops@example.com": {
            "Protocol": "email",
            "Endpoint": "ops@example.com",
            "TopicArn": {"Ref": custom.logical_id(notifier.announcements.topic)},
        },
        "oncall@example.com": {
            "Protocol": "email",
            "Endpoint": "oncall@example.com",
            "TopicArn": {"Ref": custom.logical_id(notifier.monitoring.alarm_topic)},
        },
    }


def test_an_unknown_context_key_is_warned_about(custom: Synthesized) -> None:
    warnings = [entry.data for entry in custom.stack.node.metadata if entry.type == "aws:cdk:warning"]
    assert any("schedulMinutes" in str(warning) for warning in warnings), warnings


def test_the_custom_stack_still_passes_cdk_nag(custom: Synthesized) -> None:
    report = custom.nag_report
    assert report["violations"] == []


def test_an_existing_bus_is_used_by_name_and_no_bus_is_created(imported_bus: Synthesized) -> None:
    assert imported_bus.resources("AWS::Events::EventBus") == {}
    assert environment(imported_bus)["EVENT_BUS_NAME"] == "central"
    outputs = {name: output["Value"] for name, output in imported_bus.template_json["Outputs"].items()}
    assert outputs["EventBusName"] == "central"
    assert outputs["EventBusArn"] == "arn:aws:events:eu-west-1:123456789012:event-bus/central"


def test_the_poller_may_put_events_only_on_the_existing_bus(imported_bus: Synthesized) -> None:
    statements = imported_bus.only("AWS::IAM::Policy")[1]["Properties"]["PolicyDocument"]["Statement"]
    (put_events,) = [statement for statement in statements if statement.get("Sid") == "PutAnnouncementEvents"]
    assert put_events == {
        "Sid": "PutAnnouncementEvents",
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Resource": "arn:aws:events:eu-west-1:123456789012:event-bus/central",
    }


# --- the Powertools layer where AWS publishes no parameter for it (infra/regions.py) -----------------


def test_deploying_where_aws_publishes_no_powertools_parameter_needs_powertools_layer_arn() -> None:
    with pytest.raises(SettingsError, match=r"^powertoolsLayerArn is needed to deploy to me-central-1"):
        build_app({}, nag=False, environ={"CDK_DEFAULT_REGION": "me-central-1"})
    layer = "arn:aws:lambda:me-central-1:123456789012:layer:powertools:3"
    build_app({"powertoolsLayerArn": layer}, nag=False, environ={"CDK_DEFAULT_REGION": "me-central-1"})


def test_a_powertools_layer_of_another_region_is_refused_naming_the_setting() -> None:
    layer = "arn:aws:lambda:us-east-1:123456789012:layer:powertools:3"
    with pytest.raises(SettingsError, match=r"^powertoolsLayerArn is a layer in us-east-1, but the stack"):
        build_app({"powertoolsLayerArn": layer}, nag=False, environ={"CDK_DEFAULT_REGION": "eu-west-1"})


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"spokeRegions": "eu-west-1,ap-east-2"}, "spokeRegions lists ap-east-2, where AWS publishes no"),
        (
            {"powertoolsLayerArn": "arn:aws:lambda:eu-west-1:123456789012:layer:powertools:3"},
            "powertoolsLayerArn names a layer of one Region, but spokeRegions lists several",
        ),
    ],
)
def test_spokes_in_several_regions_need_aws_powertools_parameter_in_each(
    context: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{message}"):
        build_app({**ROLLOUT, **context}, nag=False)
