"""EC2's store quota as the notifier watches it: the GB of EBS snapshot data of the stores in progress,
which the poller publishes as StoreQuotaGigabytes (report.py) in each Region it polls, against the 1,200 GB
an account may have in progress per Region, beyond which EC2 refuses a store (EC2 user guide, "How AMI
store and restore works": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/store-restore-how-it-works.html).

The metric has the deployment's `service` dimension only, like the others: a deployment polling several
Regions publishes one figure per Region's run, so the highest of a period (`Maximum`) is the fullest
Region's, and the run's log line names it.
"""

from __future__ import annotations

from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from ami_store_notifier.report import METRICS

STORE_QUOTA_METRIC = METRICS["store_quota_gigabytes"]
# The StoreQuota alarm fires at 90 %: before EC2 refuses a store, while the stores in progress can still
# finish and the next ones be held back.
STORE_QUOTA_ALARM_PERCENT = 90
STORE_QUOTA_ALARM_GB = STORE_QUOTA_GB * STORE_QUOTA_ALARM_PERCENT // 100
