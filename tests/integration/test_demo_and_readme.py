"""The README's promises to a new user: the two commands, the demo they run, and a front page whose links
and headline cost are the documentation's (docs/)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

from ami_store_notifier import handler
from local import demo

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_shows_watch_following_the_stores_beside_notifications_and_archive_assurance(
    capsys, aws_credentials, monkeypatch
):
    # The demo configures its process as a user's shell would; keep that out of the other tests.
    monkeypatch.setattr(handler, "utc_now", handler.utc_now)
    with mock.patch.dict(os.environ):
        assert demo.main() == 0

    output = capsys.readouterr().out
    assert re.search(r'SNS -> topic-all: "AMI store Completed: ami-\w+ to golden-ami-archive"', output)
    assert re.search(r'SNS -> topic-failed-only: "AMI store Failed: ami-\w+ to golden-ami-archive"', output)
    assert "EventBridge -> rule-completed-or-failed" in output
    archived = re.search(r"History: (ami-\w+) was stored two days ago", output).group(1)
    assert archived not in output.split("the first run must not announce it")[1], "history is not announced"
    watched = output.split("$ ami-store-notifier watch ")[1]
    assert re.search(r"^\d\d:\d\d:\d\dZ ami-\w+ us-east-1 InProgress \d+% elapsed", watched, re.MULTILINE)
    assert "Summary: 4 completed, 1 did not complete." in watched
    assert "(watch exited with 1" in watched
    assert watched.index('SNS -> topic-all: "AMI store Completed') < watched.index("Summary:")
    assert re.search(r"Chat -> chat-topic: :x: AMI store Failed: ami-\w+", output)
    assert "A Slack or Teams channel would have shown this card for the failure:" in output
    assert re.search(r"Store quota: \d+ of 1,200 GB in progress \(5 stores\)", output)
    assert re.search(r'SNS -> topic-all: "AMI archive Verified: ami-\w+ in golden-ami-archive"', output)
    assert "EventBridge -> rule-verified-archives: EC2 AMI Store Archive Verification" in output
    assert "reasons: ['needs a restore: the object is in GLACIER" in output
    assert "reasons: ['s3://scratch-exports is not among the buckets this deployment may read" in output
    assert len(re.findall(r'SNS -> topic-all: "ALERT: AMI ami-\w+ stored to unapproved bucket', output)) == 1
    assert len(re.findall(r'SNS -> topic-all: "AMI store Stalled', output)) == 1
    assert "Demo finished" in output


def test_the_readme_gives_the_two_set_up_commands_and_ci_runs_the_test_one():
    readme = (REPO_ROOT / "README.md").read_text()
    ci = (REPO_ROOT / ".ci" / "run").read_text()

    assert "make demo" in readme
    assert "make test" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_the_readme_stays_a_front_page_whose_links_lead_into_the_documentation() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200, "the README is the front page: the rest belongs in docs/"

    links = re.findall(r"\]\(([^)\s]+)\)", readme)
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert relative, "the README links into docs/"
    for link in relative:
        path, _, anchor = link.partition("#")
        target = REPO_ROOT / path
        assert target.is_file(), f"README links to {path}, which does not exist"
        declared = rf"\{{#{re.escape(anchor)}\}}|\bid=\"{re.escape(anchor)}\""
        assert not anchor or re.search(declared, target.read_text()), f"{link}: no such anchor"


def test_the_readmes_headline_cost_is_the_cost_pages() -> None:
    """docs/cost.md's section is `python -m bench.bill`'s (tests/bench/test_bill.py); the README repeats
    its first figures."""
    headline = re.compile(
        r"A deployment costs (\$[\d.]+) a month in one account and Region at 100 store tasks a month,"
        r"\s+and (\$[\d.]+) at\s+10,000"
    )
    readme = headline.search((REPO_ROOT / "README.md").read_text())
    page = headline.search((REPO_ROOT / "docs" / "cost.md").read_text())
    assert readme, "the README states the headline cost"
    assert page, "docs/cost.md states the headline cost"
    assert readme.groups() == page.groups()
