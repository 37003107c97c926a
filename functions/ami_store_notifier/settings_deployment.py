"""How the stack is deployed and removed: the Powertools layer the poller loads, its reserved
concurrency, and what `cdk destroy` keeps.
"""

from __future__ import annotations

from ami_store_notifier.setting_parsers import Setting, WholeNumber, boolean, matching

DEPLOYMENT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="powertoolsLayerArn",
        variable=None,
        parse=matching(
            r"arn:aws[a-z\-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:layer:[A-Za-z0-9_\-]{1,140}:\d{1,8}",
            "a Lambda layer version ARN (arn:aws:lambda:...:layer:NAME:N)",
        ),
        shown_default="AWS's layer for the pinned Powertools",
        allowed="a Lambda layer version ARN",
        meaning="Layer to load instead of AWS's own build of the Powertools version the tests pin "
        "(`POWERTOOLS_VERSION` in `infra/asset.py`), which the stack reads at deploy time from the public "
        "parameter `/aws/service/powertools/python/arm64/python3.13/<version>` of the deployment's "
        "region and partition. Needed where AWS publishes no such parameter (docs/deploying/regions.md); "
        "a layer version of the deployment's own Region, which StackSet spokes can load only when it is "
        "shared with the Organization "
        "(`aws lambda add-layer-version-permission --principal '*' --organization-id ...`). "
        "(`powertoolsLayerVersion` is no longer read: synthesis stops and says so.)",
    ),
    Setting(
        key="reservedConcurrency",
        variable=None,
        parse=WholeNumber(1, 1000),
        shown_default="none",
        meaning="Concurrency reserved for the poller. Not needed for correctness (see Deploying), and "
        "refused by Lambda in accounts without room for it.",
    ),
    Setting(
        key="retainOnDelete",
        variable=None,
        parse=boolean,
        default=True,
        allowed="`true`/`false`",
        meaning="`false` makes a disposable deployment: `cdk destroy` then deletes the table, the log "
        "group and the key (after KMS's 30-day waiting period).",
    ),
)
