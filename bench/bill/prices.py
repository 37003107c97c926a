"""Every unit price the bill uses, with the pricing page it was read from.

US East (N. Virginia) list prices, read in December 2026. Free tiers are left out on purpose (see
`bench.bill.model`): they are per account and shared with whatever else the account runs, and an
Organization under consolidated billing gets one free tier for all its accounts. The exceptions the bill
shows both ways, for a single account: the three free dashboards (`FREE_DASHBOARDS`), and SQS's million free
requests (`FREE_SQS_REQUESTS`), which the hint queue's pollers alone would otherwise make the largest item
of a deployment with hints.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
READ_ON = "2026-12"

LAMBDA = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
KMS = "https://aws.amazon.com/kms/pricing/"
XRAY = "https://aws.amazon.com/xray/pricing/"
SNS = "https://aws.amazon.com/sns/pricing/"
EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/"
SQS = "https://aws.amazon.com/sqs/pricing/"
S3 = "https://aws.amazon.com/s3/pricing/"

FREE_DASHBOARDS = 3
"""CloudWatch's free tier: 3 dashboards (of up to 50 metrics each) per account a month."""
FREE_SQS_REQUESTS = 1_000_000
"""SQS's free tier: the first million requests a month per account (SQS pricing page, "AWS Free Tier";
it does not expire after a year)."""


@dataclass(frozen=True)
class Price:
    key: str
    service: str
    what: str
    usd: float
    """Dollars per `per` units, as the pricing page quotes it."""
    per: int
    unit: str
    url: str

    @property
    def unit_usd(self) -> float:
        return self.usd / self.per


M = 1_000_000
_ROWS = (
    ("lambda-requests", "Lambda", "requests", 0.20, M, "request", LAMBDA),
    ("lambda-arm64", "Lambda", "duration, arm64", 0.0000133334, 1, "GB-second", LAMBDA),
    ("lambda-x86_64", "Lambda", "duration, x86", 0.0000166667, 1, "GB-second", LAMBDA),
    ("dynamodb-read", "DynamoDB", "on-demand read request units", 0.125, M, "RRU", DYNAMODB),
    ("dynamodb-write", "DynamoDB", "on-demand write request units", 0.625, M, "WRU", DYNAMODB),
    ("dynamodb-storage", "DynamoDB", "table storage (Standard)", 0.25, 1, "GB-month", DYNAMODB),
    ("dynamodb-pitr", "DynamoDB", "point-in-time recovery", 0.20, 1, "GB-month", DYNAMODB),
    ("cloudwatch-metric", "CloudWatch", "custom metrics", 0.30, 1, "metric-month", CLOUDWATCH),
    ("cloudwatch-alarm", "CloudWatch", "standard alarms", 0.10, 1, "alarm metric-month", CLOUDWATCH),
    (
        "cloudwatch-alarm-high",
        "CloudWatch",
        "high-resolution alarms",
        0.30,
        1,
        "alarm metric-month",
        CLOUDWATCH,
    ),
    ("cloudwatch-dashboard", "CloudWatch", "dashboards", 3.00, 1, "dashboard-month", CLOUDWATCH),
    ("logs-ingestion", "CloudWatch Logs", "ingestion (Standard)", 0.50, 1, "GB", CLOUDWATCH),
    ("logs-storage", "CloudWatch Logs", "storage", 0.03, 1, "GB-month", CLOUDWATCH),
    ("kms-key", "KMS", "customer managed keys", 1.00, 1, "key-month", KMS),
    ("kms-requests", "KMS", "requests", 0.03, 10_000, "request", KMS),
    ("xray-traces", "X-Ray", "traces recorded", 5.00, M, "trace", XRAY),
    ("sns-publish", "SNS", "publish requests (per 64 KB chunk)", 0.50, M, "request", SNS),
    ("sns-email", "SNS", "email deliveries", 2.00, 100_000, "delivery", SNS),
    ("sns-https", "SNS", "HTTP(S) deliveries (chat channels)", 0.60, M, "delivery", SNS),
    ("events-custom", "EventBridge", "custom events (per 64 KB chunk)", 1.00, M, "event", EVENTBRIDGE),
    # S3's Object Created events, once the bucket's EventBridge delivery is on, are "AWS opt-in data
    # events", billed as they are ingested; AWS management events (CloudTrail's CreateStoreImageTask) are
    # ingested free, and delivery to a target in the same account (the hint queue) is free.
    (
        "events-data",
        "EventBridge",
        "AWS opt-in data events (the stores' S3 Object Created)",
        1.00,
        M,
        "event",
        EVENTBRIDGE,
    ),
    ("events-archive", "EventBridge", "archive, events processed", 0.10, 1, "GB", EVENTBRIDGE),
    ("events-archive-storage", "EventBridge", "archive storage", 0.023, 1, "GB-month", EVENTBRIDGE),
    ("events-schedule", "EventBridge", "scheduled rule invocations", 0.0, 1, "invocation", EVENTBRIDGE),
    ("sqs-requests", "SQS", "requests: hints sent, received, deleted", 0.40, M, "request", SQS),
    ("sqs-polling", "SQS", "requests: the hint queue's idle polling by Lambda", 0.40, M, "request", SQS),
    # The archive checks' HeadObject, GetBucketVersioning and GetBucketLifecycleConfiguration: S3 Standard's
    # "GET, SELECT, and all other requests" (Requests & data retrievals tab). S3 bills them to the bucket's
    # owner, which may be another account than the notifier's.
    ("s3-requests", "S3", "GET, HEAD and all other requests (S3 Standard)", 0.0004, 1_000, "request", S3),
)
PRICES: dict[str, Price] = {row[0]: Price(*row) for row in _ROWS}
