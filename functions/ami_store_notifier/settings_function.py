"""The poller function's own settings: the time it keeps for deliveries, how long its records live, its
timeout, memory and log retention.
"""

from __future__ import annotations

from ami_store_notifier.setting_parsers import OneOfNumbers, Setting, WholeNumber

DEFAULT_TIMEOUT_SECONDS = 120
DEFAULT_MEMORY_MB = 256
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)

FUNCTION_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="deliveryReserveSeconds",
        variable="DELIVERY_RESERVE_SECONDS",
        parse=WholeNumber(1, 600),
        default=20,
        allowed="1-600, less than `functionTimeoutSeconds`",
        meaning="Time kept back at the end of each run to finish deliveries.",
    ),
    Setting(
        key="stateTtlDays",
        variable="STATE_TTL_DAYS",
        parse=WholeNumber(32, 3650),
        default=45,
        meaning="Days a task's record is kept in the table (TTL attribute `expiresAt`); longer than EC2's "
        "31-day listing.",
    ),
    Setting(
        key="functionTimeoutSeconds",
        variable=None,
        parse=WholeNumber(10, 900),
        default=DEFAULT_TIMEOUT_SECONDS,
        meaning="Poller timeout. The claim lease (`CLAIM_LEASE_SECONDS`) is this plus 60 s; the dashboard "
        "marks it on the poller's duration graph.",
    ),
    Setting(
        key="functionMemoryMb",
        variable=None,
        parse=WholeNumber(128, 10240),
        default=DEFAULT_MEMORY_MB,
        meaning="Poller memory size.",
    ),
    Setting(
        key="logRetentionDays",
        variable=None,
        parse=OneOfNumbers(LOG_RETENTION_DAYS),
        default=90,
        meaning="Retention of the poller's log group (the periods CloudWatch Logs accepts).",
    ),
)
