"""The dead-letter alarms fire for the first message after days of silence.

SQS publishes metrics only for active queues, and after a quiet spell they resume with a delay of up to 15
minutes (SQS developer guide, "Available CloudWatch metrics for Amazon SQS"). moto publishes no SQS metric
at all, so the documented behaviour is modelled here, with the worst case for the alarm: each minute the
alarm reads only its latest complete periods, and a data point that arrives after they were read is never
seen. The synthesized alarm is evaluated against it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.support import Synthesized

RESUME_DELAY_MINUTES = 15  # after a message wakes an inactive queue
DEAD_LETTER_ALARMS = ("ScheduleDeadLetters", "HubForwardingDeadLetters")


def sqs_data_points(metric: str, *, message_at: int, until: int) -> dict[int, tuple[int, float]]:
    """minute -> (minute it reaches CloudWatch, value), for one message sent at ``message_at`` to a queue
    idle for days and left unread: the message keeps the queue active, so a point comes every minute."""
    value = {
        "ApproximateNumberOfMessagesVisible": lambda minute: 1.0,
        "NumberOfMessagesSent": lambda minute: 1.0 if minute == message_at else 0.0,
    }[metric]
    return {
        minute: (max(minute + 1, message_at + RESUME_DELAY_MINUTES), value(minute))
        for minute in range(message_at, until)
    }


def alarm_fires(alarm: dict[str, Any], points: dict[int, tuple[int, float]], *, until: int) -> bool:
    """Whether the alarm goes to ALARM at some minute before ``until``, reading at each minute its latest
    EvaluationPeriods complete periods from what has reached CloudWatch (missing: not breaching)."""
    period = alarm["Period"] // 60
    aggregate = {"Maximum": max, "Sum": sum}[alarm["Statistic"]]
    breaches = {
        "GreaterThanOrEqualToThreshold": lambda value: value >= alarm["Threshold"],
        "GreaterThanThreshold": lambda value: value > alarm["Threshold"],
    }[alarm["ComparisonOperator"]]
    assert alarm["TreatMissingData"] == "notBreaching"
    for now in range(until):
        latest_end = now - now % period
        breaching = 0
        for start in range(latest_end - alarm["EvaluationPeriods"] * period, latest_end, period):
            seen = [
                value
                for minute, (arrives, value) in points.items()
                if arrives <= now and start <= minute < start + period
            ]
            breaching += bool(seen) and breaches(aggregate(seen))
        if breaching >= alarm["DatapointsToAlarm"]:
            return True
    return False


def dead_letter_alarm(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (alarm,) = [
        resource["Properties"]
        for resource in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["AlarmName"] == f"AmiStoreNotifier-{name}"
    ]
    return dict(alarm)


@pytest.mark.parametrize("name", DEAD_LETTER_ALARMS)
def test_the_first_dead_letter_after_days_of_silence_fires_the_alarm_within_twenty_five_minutes(
    name: str, spoke: Synthesized
) -> None:
    alarm = dead_letter_alarm(spoke, name)
    points = sqs_data_points(alarm["MetricName"], message_at=7, until=60)
    assert alarm_fires(alarm, points, until=7 + 25)


def test_an_alarm_on_messages_arriving_could_miss_it_which_is_why_the_backlog_is_watched(
    spoke: Synthesized,
) -> None:
    alarm = {**dead_letter_alarm(spoke, "ScheduleDeadLetters"), "MetricName": "NumberOfMessagesSent"}
    alarm |= {"Statistic": "Sum", "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0}
    points = sqs_data_points("NumberOfMessagesSent", message_at=7, until=24 * 60)
    assert not alarm_fires(alarm, points, until=24 * 60)
