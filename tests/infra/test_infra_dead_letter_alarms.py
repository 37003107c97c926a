"""The dead-letter alarms fire for the first message after days of silence, and stay in ALARM until the
queue is emptied.

SQS publishes metrics only for active queues: a queue is active "for up to six hours if it contains any
messages, or if any action accesses it", and after a quiet spell metrics resume with a delay of up to 15
minutes (SQS developer guide, "Available CloudWatch metrics for Amazon SQS"). moto publishes no SQS metric
at all, so the documented behaviour is modelled here with the worst case for the alarm: a queue holding
messages falls asleep six hours after it was last touched, and each minute the alarm reads only its latest
complete periods, so a data point that arrives after they were read is never seen. The synthesized
alarms are evaluated against it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.support import Synthesized

RESUME_DELAY = 15  # minutes, after a message wakes an inactive queue
ACTIVE_FOR = 6 * 60  # minutes after the last access, whatever the queue holds
# Each dead-letter alarm, by the fixture whose stack has it: the forwarding notifier's, the hints' and the
# hub's two.
# (The schedule's dead-letter queue has none: a tick carries no data, and ticks that keep failing stop the
# heartbeat, which fires; infra/monitoring.py.)
DEAD_LETTER_ALARMS = [
    ("spoke", "AmiStoreNotifier-HubForwardingDeadLetters"),
    ("hints", "AmiStoreNotifier-HintDeadLetters"),
    ("hub", "AmiStoreNotifierHub-RelayDeadLetters"),
    ("hub", "AmiStoreNotifierHub-HubRuleDeadLetters"),
]
Points = dict[int, tuple[int, float]]  # minute -> (minute it reaches CloudWatch, value)


def dead_letter_metric(metric: str, *, message_at: int, purged_at: int | None = None) -> Points:
    """The queue's data points for one message sent at ``message_at`` to a queue idle for days: published
    while the queue is active (until six hours after the send or the purge, its last accesses)."""
    last_access = purged_at if purged_at is not None else message_at
    points: Points = {}
    for minute in range(message_at, last_access + ACTIVE_FOR):
        waiting = purged_at is None or minute < purged_at
        value = {
            "ApproximateNumberOfMessagesVisible": 1.0 if waiting else 0.0,
            "NumberOfMessagesSent": 1.0 if minute == message_at else 0.0,
        }[metric]
        points[minute] = (max(minute + 1, message_at + RESUME_DELAY), value)
    return points


def states(alarm: dict[str, Any], points: Points, *, until: int) -> list[str]:
    """The alarm's state at each minute: it reads its latest EvaluationPeriods complete periods from what
    has reached CloudWatch; with none of them there, TreatMissingData decides."""
    period = alarm["Period"] // 60
    aggregate = {"Maximum": max, "Sum": sum}[alarm["Statistic"]]
    breaches = {
        "GreaterThanOrEqualToThreshold": lambda value: value >= alarm["Threshold"],
        "GreaterThanThreshold": lambda value: value > alarm["Threshold"],
    }[alarm["ComparisonOperator"]]
    state, timeline = "INSUFFICIENT_DATA", []
    for now in range(until):
        latest_end = now - now % period
        starts = range(latest_end - alarm["EvaluationPeriods"] * period, latest_end, period)
        seen = [
            [
                value
                for minute, (arrives, value) in points.items()
                if arrives <= now and start <= minute < start + period
            ]
            for start in starts
        ]
        if any(seen):
            breaching = sum(bool(values) and breaches(aggregate(values)) for values in seen)
            state = "ALARM" if breaching >= alarm["DatapointsToAlarm"] else "OK"
        else:
            state = {"ignore": state, "notBreaching": "OK", "breaching": "ALARM"}[alarm["TreatMissingData"]]
        timeline.append(state)
    return timeline


def dead_letter_alarm(request: pytest.FixtureRequest, fixture: str, name: str) -> dict[str, Any]:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    (alarm,) = [
        resource["Properties"]
        for resource in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["AlarmName"] == name
    ]
    return dict(alarm)


@pytest.mark.parametrize(("fixture", "name"), DEAD_LETTER_ALARMS)
def test_the_first_dead_letter_after_days_of_silence_fires_the_alarm_within_twenty_five_minutes(
    request: pytest.FixtureRequest, fixture: str, name: str
) -> None:
    alarm = dead_letter_alarm(request, fixture, name)
    timeline = states(alarm, dead_letter_metric(alarm["MetricName"], message_at=7), until=7 + 25)
    assert "ALARM" in timeline


@pytest.mark.parametrize(("fixture", "name"), DEAD_LETTER_ALARMS)
def test_the_alarm_stays_in_alarm_while_the_message_waits_even_after_the_queue_falls_asleep(
    request: pytest.FixtureRequest, fixture: str, name: str
) -> None:
    alarm = dead_letter_alarm(request, fixture, name)
    timeline = states(alarm, dead_letter_metric(alarm["MetricName"], message_at=7), until=3 * 24 * 60)
    fired = timeline.index("ALARM")
    assert set(timeline[fired:]) == {"ALARM"}


@pytest.mark.parametrize(("fixture", "name"), DEAD_LETTER_ALARMS)
def test_the_alarm_recovers_once_the_queue_is_purged(
    request: pytest.FixtureRequest, fixture: str, name: str
) -> None:
    alarm = dead_letter_alarm(request, fixture, name)
    points = dead_letter_metric(alarm["MetricName"], message_at=7, purged_at=2 * 60)
    timeline = states(alarm, points, until=2 * 24 * 60)
    assert timeline[60] == "ALARM"
    assert set(timeline[2 * 60 + 15 :]) == {"OK"}


def test_an_alarm_on_messages_arriving_could_miss_it_which_is_why_the_backlog_is_watched(
    request: pytest.FixtureRequest,
) -> None:
    forwarding = dead_letter_alarm(request, "spoke", "AmiStoreNotifier-HubForwardingDeadLetters")
    alarm = {**forwarding, "MetricName": "NumberOfMessagesSent"}
    alarm |= {"Statistic": "Sum", "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0}
    timeline = states(alarm, dead_letter_metric("NumberOfMessagesSent", message_at=7), until=24 * 60)
    assert "ALARM" not in timeline
