"""Archive assurance settings: the archive checks of completed stores, the unapproved-bucket alert and
the stall notice.
"""

from __future__ import annotations

from ami_store_notifier.domain.store_watch import DEFAULT_STALL_AFTER_MINUTES
from ami_store_notifier.setting_parsers import Setting, WholeNumber, bucket_names, bucket_names_or_prefixes

ASSURANCE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="readableBuckets",
        variable="READABLE_BUCKETS",
        parse=bucket_names,
        default=(),
        shown_default="none (no archive checks)",
        allowed="at most 25 bucket names, comma-separated or a list",
        meaning="Turns on archive checks: after each store completes, one `HeadObject` checks its object "
        "and an `EC2 AMI Store Archive Verification` event says `Verified` or `NotVerified` with the "
        "reason. The function may read these buckets only (`s3:GetObject`, `s3:ListBucket` and the "
        "bucket's versioning, Object Lock and lifecycle configuration); a store into any other bucket is "
        "`NotVerified`: not among the buckets this deployment may read.",
    ),
    Setting(
        key="approvedBuckets",
        variable="APPROVED_BUCKETS",
        parse=bucket_names_or_prefixes,
        default=(),
        shown_default="none (off)",
        allowed="at most 25 bucket names, or beginnings ending in `*` (`archive-*`)",
        meaning="Turns on the unapproved-bucket alert: a store into a bucket not listed is announced the "
        "first time the notifier sees it, as an `EC2 AMI Store Into Unapproved Bucket` event (with who "
        "started it when `hints` is on).",
    ),
    Setting(
        key="stallAfterMinutes",
        variable="STALL_AFTER_MINUTES",
        parse=WholeNumber(0, 7 * 24 * 60),
        default=DEFAULT_STALL_AFTER_MINUTES,
        allowed="0 (off) to 10080",
        meaning="A store whose progress the notifier has watched stay the same this long is announced "
        "once as stalled (`EC2 AMI Store Task Stalled`). Only the notifier's own observations count: a "
        "pause of the notifier restarts the clock.",
    ),
)
