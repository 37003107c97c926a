"""The partition of a Region: the ARNs of its resources and the console that shows them differ by it."""

from __future__ import annotations

# Region name prefixes of the partitions other than the commercial one, as botocore's endpoint rules
# (partitions.json, `regionRegex`) tell them apart; the partition is an ARN's second field (AWS General
# Reference, "Amazon Resource Names (ARNs)").
_PARTITION_PREFIXES = (
    ("cn-", "aws-cn"),
    ("eusc-", "aws-eusc"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
)


def partition_of(region: str) -> str:
    """The partition of a Region name: aws, aws-cn, aws-us-gov..."""
    for prefix, partition in _PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"
