"""How the deployment watches itself, and the optional monthly costs: the alarms and their email, the
dashboard, the topics' customer managed key and X-Ray tracing.
"""

from __future__ import annotations

from ami_store_notifier.setting_parsers import Setting, boolean, email_address, matching

# The `alarms` setting's values: every alarm, or the heartbeat alone.
ALL_ALARMS = "all"
HEARTBEAT_ALARM_ONLY = "heartbeat"
# At most 200 characters after the scheme: the longest alarm description with its link stays within
# CloudWatch's 1,024 (infra/alarms.py checks it at synthesis).
MAX_DOCS_URL_LENGTH = 208
_DOCS_URL = rf"https://\S{{1,{MAX_DOCS_URL_LENGTH - len('https://')}}}"

MONITORING_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="alarmEmail",
        variable=None,
        parse=email_address,
        shown_default="none",
        allowed="an email address",
        meaning="Subscribes the address to the alarm topic.",
    ),
    Setting(
        key="alarms",
        variable=None,
        parse=matching(f"{ALL_ALARMS}|{HEARTBEAT_ALARM_ONLY}", f"{ALL_ALARMS} or {HEARTBEAT_ALARM_ONLY}"),
        default=ALL_ALARMS,
        allowed=f"`{ALL_ALARMS}`, `{HEARTBEAT_ALARM_ONLY}`",
        meaning="The notifier's alarms, $0.10 a month each (CloudWatch pricing). `all`: "
        "`NoSuccessfulPolls` (the heartbeat), `PollerErrors`, `PublishFailures`, `RegionFailures`, "
        "`StoreQuota` (90% of EC2's 1,200 GB of stores in progress), and "
        "`HubForwardingDeadLetters` with `hubEventBusArn`. `heartbeat`: `NoSuccessfulPolls` only, which "
        "still fires when the poller stops running, is throttled, times out or fails in every Region, but "
        "not for failures that leave some runs or Regions working (docs/runbook.md). The hub keeps its own "
        "alarms either way.",
    ),
    Setting(
        key="docsUrl",
        variable=None,
        parse=matching(_DOCS_URL, f"an https:// URL of at most {MAX_DOCS_URL_LENGTH} characters"),
        shown_default="none",
        allowed=f"an `https://` URL, at most {MAX_DOCS_URL_LENGTH} characters",
        meaning="Where your team hosts this documentation site (`make docs` builds it into `site/`). Every "
        "alarm's description then links to its runbook section, `<docsUrl>/runbook/#<alarm>`; unset, it "
        "names the section in the repository, `docs/runbook.md#<alarm>`.",
    ),
    Setting(
        key="dashboard",
        variable=None,
        parse=boolean,
        shown_default="`true`; `false` in StackSet spokes",
        allowed="`true`/`false`",
        meaning="The CloudWatch dashboard `<stackName>-<region>`, $3 a month past an account's first three "
        "(CloudWatch pricing). Unset, it is left out of the StackSet's spokes and the management account's "
        "spokes, whose announcements the hub shows; set, it applies to them too.",
    ),
    Setting(
        key="customerManagedKey",
        variable=None,
        parse=boolean,
        shown_default="`true`; `false` in StackSet spokes",
        allowed="`true`/`false`",
        meaning="`true`: one customer managed KMS key, $1 a month (KMS pricing), encrypts every topic of the "
        "stack (the hub's too). `false`: the notification and chat topics, which only this stack's roles "
        "publish to, use SNS's AWS managed key `alias/aws/sns` (no monthly charge), and the alarm topic, "
        "which carries only alarm names and states, is not encrypted at rest: CloudWatch can publish to an "
        "encrypted topic only through a customer managed key whose policy names it. Unset, it is `false` in "
        "the StackSet's spokes and the management account's spokes, to keep each within $1.50 a month; set, "
        "it applies to them too.",
    ),
    Setting(
        key="tracing",
        variable=None,
        parse=boolean,
        default=False,
        allowed="`true`/`false`",
        meaning="AWS X-Ray active tracing of the poller and the hub's relay, with the X-Ray permissions it "
        "needs: a trace per run, 43,800 a month at one run a minute, $5 per million past X-Ray's free tier.",
    ),
)
