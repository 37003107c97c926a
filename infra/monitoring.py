"""The notifier's alarms on their own topic, and its dashboard when `dashboard` is on.

Each alarm is $0.10 a month (https://aws.amazon.com/cloudwatch/pricing/), so the set is what tells someone
something the others do not (`alarms: all`):

- NoSuccessfulPolls, the heartbeat: no Region finished a poll for three schedule periods. Whatever stops
  the polls for good fires it: the schedule disabled or its ticks dead-lettered, Lambda throttling every
  tick, every run timing out or crashing, every Region refusing.
- PollerErrors: an invocation failed as a whole, timeouts included (Lambda's free Errors metric: "The
  runtime returns errors for issues such as timeouts", Lambda developer guide, "Types of metrics for
  Lambda functions", https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html). Fires
  for the first failed run, while the heartbeat waits for three periods of them.
- PublishFailures: a channel refused an announcement; the runs go on, so the heartbeat stays green.
- RegionFailures: a Region's poll failed while the others go on, one alarm for all of them (the metric
  has the `service` dimension only; the log line names the Region).
- HubForwardingDeadLetters, with hubEventBusArn: announcements the hub's bus did not take.
- HintDeadLetters, with hints: hints EventBridge could not put on the hint queue, or that the poller's runs
  kept failing on (infra/hints.py). A lost hint costs only speed (the schedule finds the store), but a
  queue that keeps dead-lettering says the rules or the runs are broken.
- StartsWithoutHint, with quietWhenIdle: the safety net found a store that no CloudTrail hint announced,
  so quiet runs are missing starts: the trail is not delivering.
- StoreQuota: the stores in progress in a polled Region hold 90 % of the snapshot data EC2 lets an account
  have in progress there (infra/store_quota.py); past the quota EC2 refuses new stores, which no other
  alarm would tell, as the notifier only sees the stores EC2 accepted.

Not alarmed any more, since a persistent cause of each stops the heartbeat, which fires, and a passing one
loses nothing (a tick carries no data; the next one does the same work): Lambda throttling a tick
(PollerThrottles), a run near its timeout (PollerNearTimeout; one that times out is a PollerErrors), and
ticks EventBridge could not hand to the poller (ScheduleDeadLetters; the queue is still there, output
DeadLetterQueueUrl, and says why). Lambda's Throttles and Duration are on the dashboard.

`alarms: heartbeat` keeps NoSuccessfulPolls alone: a deployment that only needs to know the notifier has
stopped, for $0.10 a month.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from ami_store_notifier.report import ALL_METRICS, METRICS, REGION_FAILURES, Metric
from infra.alarms import ALARM_PERIOD, AlarmSet
from infra.dashboard import poller_dashboard
from infra.encrypted_topic import TopicEncryption
from infra.hints import MAX_RECEIVES
from infra.names import DASHBOARD, NamePrefix
from infra.settings import Settings
from infra.store_quota import STORE_QUOTA_ALARM_GB, STORE_QUOTA_ALARM_PERCENT, STORE_QUOTA_METRIC

HEARTBEAT_PERIODS = 3
AT_LEAST_ONE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
# The poller publishes a counter only when it is not zero: no data is a period without any.
COUNTER_SILENCE = cloudwatch.TreatMissingData.NOT_BREACHING
# Counted by the safety net of a quietWhenIdle deployment only (report.py).
STARTS_WITHOUT_HINT = METRICS["starts_without_hint"]
# The longest period an alarm may have: "An alarm's total current evaluation period can be no longer than
# seven days, so Period multiplied by EvaluationPeriods can't be more than 604,800 seconds" (CloudWatch API
# reference, PutMetricAlarm, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
LONGEST_ALARM_PERIOD = Duration.days(7)


def published_metrics(settings: Settings) -> tuple[Metric, ...]:
    """The poller's metrics that this deployment can publish: StartsWithoutHint only when quiet when idle."""
    return tuple(
        metric for metric in ALL_METRICS if metric != STARTS_WITHOUT_HINT or settings.quiet_when_idle
    )


class Monitoring(AlarmSet):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        names: NamePrefix,
        function: lambda_.IFunction,
        log_group: logs.ILogGroup,
        hub_dead_letter_queue: sqs.IQueue | None,
        hint_dead_letter_queue: sqs.IQueue | None = None,
        namespace: str,
        service: str,
        encryption: TopicEncryption,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            names=names,
            purpose="AMI store notifier",
            email=settings.alarm_email,
            docs_url=settings.docs_url,
            encryption=encryption,
        )
        self._namespace = namespace
        self._service = service
        self._settings = settings

        self.alarms: dict[str, cloudwatch.Alarm] = {"Heartbeat": self._heartbeat_alarm()}
        if not settings.heartbeat_alarm_only:
            self.alarms |= {
                "Errors": self._errors_alarm(function),
                "PublishFailures": self._publish_failures_alarm(),
                "RegionFailures": self._region_failures_alarm(),
                "StoreQuota": self._store_quota_alarm(),
                **(self._hub_forwarding_alarms(hub_dead_letter_queue) if hub_dead_letter_queue else {}),
                **(self._hint_alarms(hint_dead_letter_queue) if hint_dead_letter_queue else {}),
            }
        self.notify_on(self.alarms.values())

        self.dashboard = (
            poller_dashboard(
                self,
                name=names.name(DASHBOARD, "", stack=Stack.of(self)),
                metric=self.metric,
                metrics=published_metrics(settings),
                function=function,
                log_group=log_group,
                period=self._at_least_one_schedule_period(),
                timeout=Duration.seconds(settings.function_timeout_seconds),
            )
            if settings.with_dashboard
            else None
        )

    def _heartbeat_alarm(self) -> cloudwatch.Alarm:
        minutes = self._settings.schedule_minutes
        return self._alarm(
            "HeartbeatAlarm",
            "NoSuccessfulPolls",
            what_happened=(
                f"No region finished a poll in {HEARTBEAT_PERIODS} schedule periods "
                f"({HEARTBEAT_PERIODS * minutes} min): nothing is being announced."
            ),
            what_to_do="check that the schedule rule is enabled and the schedule's dead-letter queue "
            "(DeadLetterQueueUrl) is empty; then the poller's Invocations, Throttles, Errors and Duration "
            "on the dashboard or in AWS/Lambda, and the ERROR lines of its log group.",
            metric=self.metric(METRICS["successful_polls"], "Sum", Duration.minutes(minutes)),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            periods=HEARTBEAT_PERIODS,
            # No data is the failure this alarm exists for: a poller that never runs reports nothing.
            missing=cloudwatch.TreatMissingData.BREACHING,
        )

    def _errors_alarm(self, function: lambda_.IFunction) -> cloudwatch.Alarm:
        return self._alarm(
            "ErrorsAlarm",
            "PollerErrors",
            what_happened=(
                "An invocation of the poller failed as a whole (a bad setting, a crash outside any "
                "region's poll, or the timeout); it is not retried, the next tick runs again."
            ),
            what_to_do="read the ERROR lines of the poller's log group for the last hour; a timeout shows "
            "as 'Task timed out' (raise functionTimeoutSeconds if it persists).",
            metric=function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            threshold=1,
            comparison=AT_LEAST_ONE,
            # Lambda publishes Errors only for periods with invocations: no data, no failed one.
            missing=COUNTER_SILENCE,
        )

    def _publish_failures_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "PublishFailuresAlarm",
            "PublishFailures",
            what_happened=(
                "SNS or EventBridge refused an announcement; it stays pending and is retried on the next run."
            ),
            what_to_do="read the 'Publish refused' warnings in the log group for the reason.",
            metric=self.metric(METRICS["publish_failures"], "Sum", ALARM_PERIOD),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            missing=COUNTER_SILENCE,
        )

    def _region_failures_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "RegionFailuresAlarm",
            "RegionFailures",
            what_happened=(
                "Polling a region failed: its tasks are not being announced, while the other regions go on."
            ),
            what_to_do="read the 'Region failed' ERROR lines in the log group: each names its region, and "
            "its errorCode says why (UnauthorizedOperation: an SCP or the role; OptInRequired: the region "
            "is not enabled).",
            metric=self.metric(REGION_FAILURES, "Sum", ALARM_PERIOD),
            threshold=1,
            comparison=AT_LEAST_ONE,
            missing=COUNTER_SILENCE,
        )

    def _store_quota_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "StoreQuotaAlarm",
            "StoreQuota",
            what_happened=(
                f"The stores in progress in a polled Region hold {STORE_QUOTA_ALARM_GB:,} GB or more of "
                f"EBS snapshot data, {STORE_QUOTA_ALARM_PERCENT} % of the {STORE_QUOTA_GB:,} GB EC2 lets an "
                "account have in progress per Region: a store that would go past it is refused."
            ),
            what_to_do="find the Region in the poller's 'Poll finished' log lines (report.region beside "
            "report.storeQuotaGigabytes), list its stores with aws ec2 describe-store-image-tasks --region "
            "<region> --filters Name=task-state,Values=InProgress, and hold back new stores there until "
            "some complete.",
            # One schedule period at least, so that every period holds a run's figure while stores are in
            # progress, and the alarm does not recover between two runs.
            metric=self.metric(STORE_QUOTA_METRIC, "Maximum", self._at_least_one_schedule_period()),
            threshold=STORE_QUOTA_ALARM_GB,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # Published only while stores are in progress: no data is nothing in progress.
            missing=COUNTER_SILENCE,
        )

    def _at_least_one_schedule_period(self) -> Duration:
        return Duration.minutes(max(int(ALARM_PERIOD.to_minutes()), self._settings.schedule_minutes))

    def _hub_forwarding_alarms(self, dead_letter_queue: sqs.IQueue) -> dict[str, cloudwatch.Alarm]:
        return {
            "HubForwardingDeadLetters": self._dead_letters_alarm(
                "HubForwardingDeadLettersAlarm",
                "HubForwardingDeadLetters",
                dead_letter_queue,
                what_happened=(
                    "EventBridge could not put announcements on the Organization's hub bus after its "
                    "retries; they were sent to the dead-letter queue (each message says why). They "
                    "were delivered on this account's own topic and bus."
                ),
                what_to_do="read the queue's messages (aws sqs receive-message) for the error, fix the "
                "hub bus policy or the forwarder role, then replay them with aws events put-events.",
            ),
        }

    def _hint_alarms(self, dead_letter_queue: sqs.IQueue) -> dict[str, cloudwatch.Alarm]:
        alarms = {
            "HintDeadLetters": self._dead_letters_alarm(
                "HintDeadLettersAlarm",
                "HintDeadLetters",
                dead_letter_queue,
                what_happened=(
                    "Hints were dead-lettered: EventBridge could not put them on the hint queue (each "
                    "message's ERROR_CODE attribute says why), or poller runs failed on them "
                    f"{MAX_RECEIVES} times. Nothing is lost: the schedule and the safety net find the "
                    "stores, later than a hint would have."
                ),
                what_to_do="read the queue's messages (output HintDeadLetterQueueUrl; aws sqs "
                "receive-message --message-attribute-names All) and the poller's 'Hint run' and ERROR log "
                "lines; fix the hint queue's policy or the poller, then purge the queue (aws sqs "
                "purge-queue): an old hint is worth nothing.",
            ),
        }
        if self._settings.quiet_when_idle:
            alarms["StartsWithoutHint"] = self._starts_without_hint_alarm()
        return alarms

    def _starts_without_hint_alarm(self) -> cloudwatch.Alarm:
        # One safety net's worth: the net counts such stores, and at most one net runs in a period.
        period = Duration.minutes(
            min(self._settings.full_scan_interval_minutes, int(LONGEST_ALARM_PERIOD.to_minutes()))
        )
        return self._alarm(
            "StartsWithoutHintAlarm",
            "StartsWithoutHint",
            what_happened=(
                "The safety net found a store that started without a CloudTrail hint: with quietWhenIdle, "
                "idle scheduled runs rely on those hints, so stores are announced up to a safety-net "
                "interval (fullScanIntervalMinutes) late. The trail is not delivering CreateStoreImageTask "
                "to EventBridge."
            ),
            what_to_do="check that a CloudTrail trail logs this Region's management write events (aws "
            "cloudtrail get-trail-status: IsLogging; get-event-selectors: management events, "
            "ReadWriteType All or WriteOnly, no exclusion of ec2.amazonaws.com), that the StoreStarted "
            "hint rule is enabled and HintDeadLetters is empty; or turn quietWhenIdle off.",
            metric=self.metric(STARTS_WITHOUT_HINT, "Sum", period),
            threshold=1,
            comparison=AT_LEAST_ONE,
            missing=COUNTER_SILENCE,
        )

    def metric(self, metric: Metric, statistic: str, period: Duration) -> cloudwatch.Metric:
        """One of the poller's own EMF metrics, as report.py declares it: its dimensions are the
        deployment's `service`, which the poller publishes under (infra/notifier.py)."""
        assert metric.dimensions == ("service",), f"{metric.name}: {metric.dimensions}"
        return cloudwatch.Metric(
            namespace=self._namespace,
            metric_name=metric.name,
            dimensions_map={"service": self._service},
            statistic=statistic,
            period=period,
        )
