"""What a deployment is made of, counted from its synthesized CloudFormation template.

`count` reads a template (a dict) and is quick; `synthesize` builds the real CDK app for every mode, as
`npx cdk synth` would (cdk.json's context, then the mode's), which starts jsii and takes seconds.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bill.modes import HUB, MODES, NOTIFIER, SPOKE, Mode
from infra.asset import HANDLER, REPO_ROOT

RELAY_HANDLER = "ami_store_notifier.hub_relay.lambda_handler"
"""The hub relay's handler (infra/hub.py's RELAY_HANDLER; not imported from there: that starts jsii)."""
HOURS_PER_MONTH = 730
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_CHAT_CHANNELS = (
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
)


@dataclass(frozen=True)
class Topic:
    """A topic a function publishes to, and what each message to it costs beyond the publish."""

    encrypted: bool
    """With a KMS key (customer or AWS managed): SNS asks KMS for each message."""
    email_subscriptions: int = 0
    chat_channels: int = 0
    """Chat channel configurations subscribed to it (HTTPS deliveries)."""


@dataclass(frozen=True)
class Function:
    logical_id: str
    memory_mb: int
    architecture: str
    tracing: bool
    log_retention_days: int | None
    """None: the log group keeps its events forever."""
    environment: Mapping[str, str]
    """The variables the template sets to literal values (the others name resources of the stack)."""
    topics: Mapping[str, Topic]
    """The topics it publishes to, by the variable naming them (TOPIC_ARN, CHAT_TOPIC_ARN)."""


@dataclass(frozen=True)
class Counted:
    """The billed resources of one template."""

    kms_keys: int = 0
    alarm_metrics: int = 0
    high_resolution_alarm_metrics: int = 0
    dashboards: int = 0
    runs_per_month: float = 0.0
    """Scheduled runs of the poller: 730 hours of its `rate(...)` schedule."""
    poller: Function | None = None
    relay: Function | None = None
    relay_targets: int = 0
    """Relay invocations per announcement: the hub's rule targets naming the relay (one per channel)."""
    forwarding_targets: int = 0
    """Rule targets that put each announcement on another account's bus (the hub's)."""
    archive_retention_days: int | None = None
    """The hub's archive: None without one, 0 when it keeps events forever."""
    point_in_time_recovery: bool = False
    dead_letter_queues: int = 0
    """SQS queues that only take what failed for good (a rule target's or a queue's dead letters): every
    queue but those an event source mapping reads."""
    polled_queues: int = 0
    """SQS queues a Lambda event source mapping reads (the hint queue, with the `hints` setting): Lambda
    polls them without pause, messages or not."""


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties", {})
        for name, resource in template.get("Resources", {}).items()
        if resource["Type"] == kind
    }


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def _alarm_metrics(properties: Mapping[str, Any]) -> tuple[int, bool]:
    """(metrics billed, high resolution): one per metric of a metric-math alarm, expressions free."""
    if "MetricName" in properties:
        return 1, int(properties.get("Period", 60)) < 60
    stats = [entry["MetricStat"] for entry in properties.get("Metrics", ()) if "MetricStat" in entry]
    return len(stats), any(int(stat.get("Period", 60)) < 60 for stat in stats)


def _topic(template: Mapping[str, Any], logical_id: str) -> Topic:
    subscribed = [
        p
        for p in _resources(template, "AWS::SNS::Subscription").values()
        if _ref(p.get("TopicArn")) == logical_id
    ]
    return Topic(
        encrypted="KmsMasterKeyId" in _resources(template, "AWS::SNS::Topic")[logical_id],
        email_subscriptions=sum(p.get("Protocol") == "email" for p in subscribed),
        chat_channels=sum(
            any(_ref(arn) == logical_id for arn in p.get("SnsTopicArns", ()))
            for kind in _CHAT_CHANNELS
            for p in _resources(template, kind).values()
        ),
    )


def _function(template: Mapping[str, Any], logical_id: str, properties: Mapping[str, Any]) -> Function:
    variables = properties.get("Environment", {}).get("Variables", {})
    topics = _resources(template, "AWS::SNS::Topic")
    group = _ref(properties.get("LoggingConfig", {}).get("LogGroup"))
    retention = _resources(template, "AWS::Logs::LogGroup").get(group or "", {}).get("RetentionInDays")
    return Function(
        logical_id=logical_id,
        memory_mb=int(properties.get("MemorySize", 128)),
        architecture=str(properties.get("Architectures", ["x86_64"])[0]),
        tracing=properties.get("TracingConfig", {}).get("Mode") == "Active",
        log_retention_days=int(retention) if retention is not None else None,
        environment={name: value for name, value in variables.items() if isinstance(value, str)},
        topics={
            name: _topic(template, ref) for name, value in variables.items() if (ref := _ref(value)) in topics
        },
    )


def _functions(template: Mapping[str, Any]) -> dict[str, Function]:
    """The poller and the relay, by their handler."""
    handlers = {HANDLER: "poller", RELAY_HANDLER: "relay"}
    return {
        handlers[properties["Handler"]]: _function(template, name, properties)
        for name, properties in _resources(template, "AWS::Lambda::Function").items()
        if properties.get("Handler") in handlers
    }


def _runs_per_month(rules: Iterable[Mapping[str, Any]]) -> float:
    for rule in rules:
        match = _RATE.fullmatch(str(rule.get("ScheduleExpression", "")))
        if match:
            minutes = int(match.group(1)) * _MINUTES[match.group(2).rstrip("s")]
            return HOURS_PER_MONTH * 60 / minutes
    return 0.0


def _targets(rules: Iterable[Mapping[str, Any]]) -> list[Any]:
    return [target["Arn"] for rule in rules for target in rule.get("Targets", ())]


def _alarms(template: Mapping[str, Any], high_resolution: bool) -> int:
    found = [_alarm_metrics(p) for p in _resources(template, "AWS::CloudWatch::Alarm").values()]
    return sum(metrics for metrics, high in found if high == high_resolution)


def _relay_targets(targets: list[Any], relay: Function | None) -> int:
    return sum(_ref(arn) == relay.logical_id for arn in targets) if relay else 0


def _archive_retention_days(template: Mapping[str, Any]) -> int | None:
    archives = list(_resources(template, "AWS::Events::Archive").values())
    return int(archives[0].get("RetentionDays", 0)) if archives else None


def _polled_queues(template: Mapping[str, Any]) -> set[str]:
    """The queues an event source mapping reads, by logical id."""
    queues = _resources(template, "AWS::SQS::Queue")
    mappings = _resources(template, "AWS::Lambda::EventSourceMapping").values()
    return {ref for p in mappings if (ref := _ref(p.get("EventSourceArn"))) in queues}


def _point_in_time_recovery(template: Mapping[str, Any]) -> bool:
    tables = _resources(template, "AWS::DynamoDB::Table").values()
    return any(
        p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") for p in tables
    )


def count(template: Mapping[str, Any]) -> Counted:
    functions = _functions(template)
    polled = _polled_queues(template)
    rules = list(_resources(template, "AWS::Events::Rule").values())
    targets = _targets(rules)
    return Counted(
        kms_keys=len(_resources(template, "AWS::KMS::Key")),
        alarm_metrics=_alarms(template, high_resolution=False),
        high_resolution_alarm_metrics=_alarms(template, high_resolution=True),
        dashboards=len(_resources(template, "AWS::CloudWatch::Dashboard")),
        runs_per_month=_runs_per_month(rules),
        poller=functions.get("poller"),
        relay=functions.get("relay"),
        relay_targets=_relay_targets(targets, functions.get("relay")),
        forwarding_targets=sum(isinstance(arn, str) and ":event-bus/" in arn for arn in targets),
        archive_retention_days=_archive_retention_days(template),
        point_in_time_recovery=_point_in_time_recovery(template),
        dead_letter_queues=len(_resources(template, "AWS::SQS::Queue").keys() - polled),
        polled_queues=len(polled),
    )


# -- synthesis ----------------------------------------------------------------------------------------


def _cdk_json_context() -> dict[str, Any]:
    """What the CLI passes the app from cdk.json (the feature flags), before any -c value."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def _template_of(outdir: Path, mode: Mode) -> dict[str, Any]:
    names = {NOTIFIER: "AmiStoreNotifier.template.json", HUB: "AmiStoreNotifierHub.template.json"}
    if mode.template == SPOKE:
        (path,) = outdir.glob("*.stackset.template.json")  # the StackSet's template, as every spoke gets it
    else:
        path = outdir / names[mode.template]
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def unknown_settings(mode: Mode) -> list[str]:
    """Keys of the mode's context that the app has no setting for (a setting renamed, or not there yet)."""
    from infra.context_keys import unknown_keys

    return unknown_keys(mode.context)


def synthesize(modes: Iterable[Mode] = MODES) -> dict[str, dict[str, Any]]:
    """Each mode's template, by mode key; modes with the same context share one synthesis."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.app import build_app

    templates: dict[str, dict[str, Any]] = {}
    synthesized: dict[tuple[tuple[str, str], ...], Path] = {}
    with tempfile.TemporaryDirectory(prefix="bill-synth-") as root:
        for mode in modes:
            key = tuple(sorted(mode.context.items()))
            if key not in synthesized:
                outdir = Path(root) / str(len(synthesized))
                # cdk-nag's checks are the infra suite's business; they add seconds and change no resource.
                app, _ = build_app({**_cdk_json_context(), **mode.context}, outdir=str(outdir), nag=False)
                app.synth()
                synthesized[key] = outdir
            templates[mode.key] = _template_of(synthesized[key], mode)
    return templates
