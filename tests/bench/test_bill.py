"""The bill's model (bench/bill/): prices with their sources, quantities read from templates, the month's
arithmetic, totals, targets, and the cost page's section (docs/cost.md). Made-up templates and runs:
milliseconds."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from bench.bill import snapshot
from bench.bill.model import Measured, bill, bills, targets
from bench.bill.modes import BY_KEY, MODES, ORG_ACCOUNTS, ORG_REGIONS, Mode
from bench.bill.prices import FREE_DASHBOARDS, FREE_SQS_REQUESTS, PRICES
from bench.bill.profile import HINT_KINDS, Profile
from bench.bill.render import readme_part, readme_section
from bench.bill.templates import count
from bench.bill.usage import HOURS, MINUTES, Assumptions, metric_months, poller_shares
from infra.asset import REPO_ROOT
from tests.bench.conftest import ANNOUNCED, HEARTBEAT

A = Assumptions(init_seconds=0.3)
DEFAULT, SPOKE, LEAN = BY_KEY["default"], BY_KEY["spoke"], BY_KEY["lean"]
HINTS = BY_KEY["hints"]


def _item(found: Any, key: str) -> Any:
    (item,) = [item for item in found.items if item.price.key == key]
    return item


def _with_hints(template: dict[str, Any]) -> dict[str, Any]:
    """The hints' resources as infra/hints.py makes them: the hint queue (its dead letters to a queue of
    their own) and the event source mapping that reads it for the poller."""
    arn = {"Fn::GetAtt": ["HintQueue", "Arn"]}
    template["Resources"] |= {
        "HintDeadLetters": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "HintQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["HintDeadLetters", "Arn"]}}
            },
        },
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": arn, "FunctionName": {"Ref": "Poller"}, "BatchSize": 10},
        },
    }
    return template


def _hinted(profile: Profile) -> Profile:
    """The made-up runs, and hint runs that claim and announce as the scheduled ones would."""
    hint = profile.kinds["finish"]
    kinds = profile.kinds | {
        kind: replace(hint, write_units=hint.write_units + hint.runs) for kind in HINT_KINDS
    }
    return replace(profile, kinds=kinds)


# -- prices --------------------------------------------------------------------------------------------


def test_every_price_names_the_aws_pricing_page_it_comes_from() -> None:
    for price in PRICES.values():
        assert re.fullmatch(r"https://aws\.amazon\.com/[a-z0-9-]+/pricing/([a-z-]+/)?", price.url), price
        assert price.usd >= 0, price
        assert price.per >= 1, price


# -- quantities from the template ----------------------------------------------------------------------


@pytest.mark.parametrize("keys", [0, 1, 3])
def test_the_kms_keys_billed_are_the_templates_keys(
    keys: int, notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    found = bill(LEAN, count(notifier_template(keys=keys)), profile, 100, A)
    assert _item(found, "kms-key").quantity == keys
    assert _item(found, "kms-key").usd == pytest.approx(keys * 1.00)
    # A topic without a key sends nothing to KMS.
    assert (_item(found, "kms-requests").quantity > 0) == (keys > 0)


def test_alarms_are_billed_per_alarm_metric(notifier_template: Callable[..., dict[str, Any]]) -> None:
    template = notifier_template(alarms=2)
    template["Resources"]["Math"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "Metrics": [
                {"Id": "a", "MetricStat": {"Metric": {"MetricName": "A"}, "Period": 60}},
                {"Id": "b", "MetricStat": {"Metric": {"MetricName": "B"}, "Period": 60}},
                {"Id": "sum", "Expression": "a + b"},
            ]
        },
    }
    template["Resources"]["Fast"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"MetricName": "F", "Period": 10},
    }
    counted = count(template)
    assert (counted.alarm_metrics, counted.high_resolution_alarm_metrics) == (4, 1)


def test_the_poller_and_its_schedule_are_read_from_the_template(
    notifier_template: Callable[..., dict[str, Any]],
) -> None:
    template = notifier_template(tracing=True, email=True)
    template["Resources"]["Schedule"]["Properties"]["ScheduleExpression"] = "rate(5 minutes)"
    counted = count(template)
    assert counted.runs_per_month == HOURS * 12
    poller = counted.poller
    assert poller is not None
    assert (poller.memory_mb, poller.architecture, poller.tracing, poller.log_retention_days) == (
        256,
        "arm64",
        True,
        90,
    )
    assert poller.environment == {"STATE_TTL_DAYS": "45", "PAGE_SIZE": "200"}, "literal values only"
    assert poller.topics["TOPIC_ARN"].encrypted
    assert poller.topics["TOPIC_ARN"].email_subscriptions == 1
    assert counted.point_in_time_recovery
    assert counted.dashboards == 1


def test_a_queue_an_event_source_mapping_reads_is_polled_not_a_dead_letter_queue(
    notifier_template: Callable[..., dict[str, Any]],
) -> None:
    template = notifier_template()
    template["Resources"]["ScheduleDeadLetters"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    assert (count(template).dead_letter_queues, count(template).polled_queues) == (1, 0)
    counted = count(_with_hints(template))
    assert (counted.dead_letter_queues, counted.polled_queues) == (2, 1)


def test_a_rule_targeting_another_accounts_bus_forwards_each_announcement(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    template = notifier_template()
    alone = bill(SPOKE, count(template), profile, 1_000, A)
    template["Resources"]["Forward"] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Targets": [{"Arn": "arn:aws:events:us-east-1:999999999999:event-bus/hub", "Id": "T"}]
        },
    }
    forwarding = bill(SPOKE, count(template), profile, 1_000, A)
    assert _item(forwarding, "events-custom").quantity == pytest.approx(
        2 * _item(alone, "events-custom").quantity
    )


def test_tracing_records_a_trace_per_run(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    traced = bill(DEFAULT, count(notifier_template(tracing=True)), profile, 100, A)
    untraced = bill(DEFAULT, count(notifier_template()), profile, 100, A)
    assert _item(traced, "xray-traces").quantity == _item(traced, "lambda-requests").quantity == HOURS * 60
    assert _item(untraced, "xray-traces").quantity == 0


# -- the month -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stores", [0, 100, 10_000, 30_000])
def test_every_scheduled_run_is_of_exactly_one_kind(stores: int, profile: Profile) -> None:
    shares = poller_shares(profile, HOURS * 60, stores, A)
    assert sum(share.runs for share in shares) == pytest.approx(HOURS * 60)
    assert all(share.runs >= 0 for share in shares)
    ends = {share.kind: share.runs for share in shares}
    # More ends than half the runs: a run records several, and each run is one of them still.
    assert (
        ends["finish"] + ends["fail"]
        == pytest.approx(ends["start"])
        == pytest.approx(min(stores, HOURS * 30))
    )


def test_metrics_are_prorated_by_the_hours_they_are_published_in(profile: Profile) -> None:
    assert metric_months(poller_shares(profile, HOURS * 60, 0, A), 0, A) == pytest.approx(1.0), (
        "the heartbeat"
    )
    for stores in (100, 10_000):
        months = metric_months(poller_shares(profile, HOURS * 60, stores, A), stores, A)
        # Stores end at random: the counter is published in the hours holding at least one end.
        assert months == pytest.approx(1 + 1 - math.exp(-stores / HOURS), rel=1e-6)


@pytest.mark.parametrize("stores", [0, 100, 10_000])
def test_each_store_adds_a_start_hint_run_and_a_completed_store_an_object_hint_run(
    stores: int, notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    plain = bill(HINTS, count(notifier_template()), _hinted(profile), stores, A)
    hinted = bill(HINTS, count(_with_hints(notifier_template())), _hinted(profile), stores, A)
    hint_runs = stores * (2 - A.failed_share)
    assert _item(hinted, "lambda-requests").quantity == pytest.approx(
        _item(plain, "lambda-requests").quantity + hint_runs
    )
    # Each hint run writes one more unit than a scheduled end (its call allowance), and announces.
    assert _item(hinted, "dynamodb-write").quantity == pytest.approx(
        _item(plain, "dynamodb-write").quantity + hint_runs * 11
    )
    assert _item(hinted, "sns-publish").quantity == pytest.approx(
        _item(plain, "sns-publish").quantity + hint_runs
    )
    # EventBridge sends each hint; the mapping receives and deletes each batch, one hint each.
    assert _item(hinted, "sqs-requests").quantity == pytest.approx(3 * hint_runs)
    assert _item(hinted, "events-data").quantity == pytest.approx(stores * (1 - A.failed_share))
    assert _item(hinted, "events-data").price.usd == 1.00, "S3's events are opt-in data events, billed"


def test_lambda_polls_the_hint_queue_all_month_within_sqss_free_million_for_one_account(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    counted = count(_with_hints(notifier_template()))
    polls = 5 * 3 * MINUTES
    assert polls == 657_000
    for stores in (0, 100, 10_000):
        single = bill(HINTS, counted, _hinted(profile), stores, A)
        spoke = bill(SPOKE, counted, _hinted(profile), stores, A)
        polling, requests = _item(single, "sqs-polling"), _item(single, "sqs-requests")
        assert polling.quantity == _item(spoke, "sqs-polling").quantity == polls, "messages or not"
        # The free million covers the polling first, then the hints' own requests.
        assert polling.free == polls
        assert requests.free == pytest.approx(min(requests.quantity, FREE_SQS_REQUESTS - polls))
        assert polling.usd == 0
        assert polling.usd_beyond_free == pytest.approx(polls * 0.40 / 1e6)
        assert _item(spoke, "sqs-polling").usd == pytest.approx(polls * 0.40 / 1e6), "no free tier"
    # Beyond the free million, only what exceeds it is billed.
    many = bill(HINTS, counted, _hinted(profile), 200_000, A)
    sqs = _item(many, "sqs-polling").usd + _item(many, "sqs-requests").usd
    total = _item(many, "sqs-polling").quantity + _item(many, "sqs-requests").quantity
    assert sqs == pytest.approx((total - FREE_SQS_REQUESTS) * 0.40 / 1e6)


def test_without_hints_nothing_polls_and_no_hint_runs_are_billed(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    found = bill(DEFAULT, count(notifier_template()), _hinted(profile), 10_000, A)
    keys = {item.price.key for item in found.items}
    assert not keys & {"sqs-polling", "events-data"}
    assert _item(found, "lambda-requests").quantity == HOURS * 60
    assert _item(found, "sqs-requests").quantity == 0


# -- totals and targets --------------------------------------------------------------------------------


def test_the_bill_is_the_sum_of_its_items(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    found = bill(DEFAULT, count(notifier_template(dashboards=1)), profile, 10_000, A)
    for item in found.items:
        assert item.usd == pytest.approx(
            max(0.0, item.quantity - item.free) * item.price.usd / item.price.per
        )
    assert found.usd == pytest.approx(sum(item.usd for item in found.items))
    assert found.usd_beyond_free == pytest.approx(found.usd + PRICES["cloudwatch-dashboard"].usd)


def test_dashboards_are_free_within_an_accounts_three_but_not_for_the_organization(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    template = notifier_template(dashboards=FREE_DASHBOARDS + 1)
    single = _item(bill(DEFAULT, count(template), profile, 100, A), "cloudwatch-dashboard")
    spoke = _item(bill(SPOKE, count(template), profile, 100, A), "cloudwatch-dashboard")
    assert single.usd == pytest.approx(3.00)
    assert single.usd_beyond_free == pytest.approx(12.00)
    assert spoke.usd == pytest.approx(12.00)


def _measured(
    template: dict[str, Any], profile: Profile, unknown: dict[str, list[str]] | None = None
) -> Measured:
    counted = count(template)
    return Measured(
        counted={mode.key: counted for mode in MODES},
        profiles={mode.key: profile for mode in MODES},
        assumptions=A,
        unknown_settings=unknown or {},
    )


def _verdicts(found: Any) -> dict[str, bool]:
    return {name.split(":")[0]: passed for name, passed, _ in targets(found)}


def test_a_target_passes_at_or_under_its_amount_and_fails_over_it(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    measured = _measured(notifier_template(keys=1, alarms=1, dashboards=1), profile)
    found = bills(MODES, measured)

    def verdicts(amount: Callable[[str], float]) -> list[bool]:
        modes = tuple(
            replace(mode, target_usd=amount(mode.key)) if mode.target_usd else mode for mode in MODES
        )
        return list(_verdicts(bills(modes, measured)).values())

    judged = {mode.key: found.by_mode[mode.key][mode.judged_at or 10_000].usd for mode in MODES}
    between = {
        mode.key: (found.by_mode[mode.key][100].usd + found.by_mode[mode.key][10_000].usd) / 2
        for mode in MODES
    }
    assert verdicts(lambda key: judged[key]) == [True] * 3
    assert verdicts(lambda key: judged[key] - 0.01) == [False] * 3
    # Met at N=100 but not at N=10,000: only the lean setting, judged at 100 stores a month, passes.
    assert verdicts(lambda key: between[key]) == [mode.judged_at == 100 for mode in MODES if mode.target_usd]


def test_a_mode_whose_settings_the_app_lacks_fails_its_target(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    lean = Mode("lean", "Lean", {"noSuchSetting": "true"}, target_usd=1_000.0)
    found = bills((lean,), _measured(notifier_template(), profile, {"lean": ["noSuchSetting"]}))
    ((_, passed, detail),) = targets(found)
    assert not passed
    assert "noSuchSetting" in detail


def test_the_organization_is_its_spokes_and_one_hub(
    notifier_template: Callable[..., dict[str, Any]], profile: Profile
) -> None:
    found = bills(MODES, _measured(notifier_template(), profile))
    for n, organization in found.organization.items():
        assert organization.hub.stores == ORG_ACCOUNTS * ORG_REGIONS * n
        assert organization.usd == pytest.approx(
            ORG_ACCOUNTS * ORG_REGIONS * organization.spoke.usd + organization.hub.usd
        )


def test_the_made_up_runs_publish_what_the_names_say(profile: Profile) -> None:
    assert profile.kinds["idle"].share(HEARTBEAT) == 1
    assert profile.kinds["idle"].share(ANNOUNCED) == 0


# -- the cost page -------------------------------------------------------------------------------------


def test_the_cost_page_states_the_bill_the_model_computes() -> None:
    """The cost page's section (docs/cost.md) is `python -m bench.bill`'s (bench/results/readme-cost.md),
    computed from the inputs it keeps in bench/bill/measured.json: re-run it, then paste the section, when
    either moves."""
    expected = readme_section(bills(MODES, snapshot.load()))
    page = (REPO_ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert readme_part(page) == expected, (
        "docs/cost.md's section between <!-- cost:start --> and <!-- cost:end --> is not the model's: "
        "PYTHONPATH=functions .venv/bin/python -m bench.bill --from-snapshot writes it to "
        "bench/results/readme-cost.md"
    )
