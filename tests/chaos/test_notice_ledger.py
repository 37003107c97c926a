"""The notice ledger (tests/chaos/notice_ledger.py) must see what it is there to see: each test breaks the
product on purpose (monkeypatch, undone at the end of the test), or gives the ledger an expectation the
product does not meet, and checks that exactly that kind of violation is reported."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from ami_store_notifier import assurance
from ami_store_notifier.adapters import dynamodb_state_store, publishers
from ami_store_notifier.domain.notices import ArchiveCheck, Notice, Verdict
from local.ec2_store_tasks import CLOCK, IN_PROGRESS
from tests.chaos import notice_rules
from tests.chaos.archive_buckets import VAULT
from tests.chaos.assurance_scenarios import (
    HAND_MADE_SETTINGS,
    STALL_AFTER_MINUTES,
    completed_stores,
    runs_every,
    stalling_store,
)
from tests.chaos.assurance_steps import AssuranceSetup, ObjectPlan, ResumeStore, StallStore
from tests.chaos.harness import ChaosWorld, Ledger
from tests.chaos.notice_rules import AssuranceSettings
from tests.chaos.scenarios import Scenario, ami_id, play


def violation_kinds(ledger: Ledger) -> list[str]:
    return [violation.kind for violation in ledger.finish()]


def test_the_notice_ledger_sees_a_notice_reported_sent_that_the_bus_never_got(chaos, monkeypatch):
    send = publishers.EventBridgePublisher.publish

    def notices_dropped(self, announcements, *args):
        notices = {item.event_id for item in announcements if isinstance(item, Notice)}
        sent = send(self, [item for item in announcements if not isinstance(item, Notice)], *args)
        return replace(sent, delivered=sent.delivered | notices)

    monkeypatch.setattr(publishers.EventBridgePublisher, "publish", notices_dropped)
    scenario = Scenario(
        amis=1, steps=completed_stores(1), settings=HAND_MADE_SETTINGS, assurance=AssuranceSetup((VAULT,))
    )

    assert set(violation_kinds(play(chaos, scenario))) == {"notice-lost"}


def test_the_notice_ledger_sees_a_notice_delivered_twice_without_a_fault(archive_assurance, monkeypatch):
    world = archive_assurance
    world.run("baseline")
    world.backend.add_task(ami_id(1), VAULT, CLOCK.now(), IN_PROGRESS, 10)
    CLOCK.advance(60)
    world.run("tracks the store")
    world.backend.complete(ami_id(1))
    CLOCK.advance(60)
    monkeypatch.setattr(
        dynamodb_state_store.DynamoDbStateStore, "settle", lambda self, delivered, failed: None
    )
    world.run("delivered, never settled")
    monkeypatch.undo()

    world.settle()

    assert Counter(violation_kinds(world.ledger))["notice-duplicate"] == 2


def test_the_notice_ledger_sees_a_verdict_that_s3_does_not_bear_out(chaos, monkeypatch):
    monkeypatch.setattr(assurance, "judge", lambda task, inspection, **_: ArchiveCheck(Verdict.VERIFIED))
    glacier = AssuranceSetup((VAULT,), (ObjectPlan(0, storage_class="GLACIER"),))
    scenario = Scenario(amis=1, steps=completed_stores(1), settings=HAND_MADE_SETTINGS, assurance=glacier)

    assert violation_kinds(play(chaos, scenario)) == ["notice-false-fact"]


def test_the_notice_ledger_sees_a_stall_announced_before_the_stall_time(chaos, monkeypatch):
    monkeypatch.setattr(assurance, "stall_due", lambda watch, task, now, stall_after: not watch.stalled)

    ledger = play(chaos, stalling_store())

    assert set(violation_kinds(ledger)) == {"notice-phantom"}


def test_the_notice_ledger_sees_an_approved_bucket_called_unapproved(chaos, monkeypatch):
    monkeypatch.setattr(assurance, "approved", lambda bucket, patterns: False)
    scenario = Scenario(
        amis=1, steps=completed_stores(1), settings=HAND_MADE_SETTINGS, assurance=AssuranceSetup((VAULT,))
    )

    assert violation_kinds(play(chaos, scenario)) == ["notice-phantom"]


def test_an_expectation_of_stalls_sooner_than_the_setting_fails_the_check(chaos, monkeypatch):
    sooner = AssuranceSettings(stall_after=timedelta(minutes=STALL_AFTER_MINUTES // 3))
    monkeypatch.setattr(ChaosWorld, "assurance_settings", lambda self: sooner)

    ledger = play(
        chaos, stalling_store(StallStore(0), *runs_every(120, 12), ResumeStore(0), *runs_every(120, 5))
    )

    assert set(violation_kinds(ledger)) == {"notice-lost"}


def test_an_expectation_that_an_archived_object_is_verified_fails_the_check(chaos, monkeypatch):
    monkeypatch.setattr(notice_rules, "RESTORE_NEEDED_CLASSES", frozenset())
    glacier = AssuranceSetup((VAULT,), (ObjectPlan(0, storage_class="DEEP_ARCHIVE"),))
    scenario = Scenario(amis=1, steps=completed_stores(1), settings=HAND_MADE_SETTINGS, assurance=glacier)

    assert violation_kinds(play(chaos, scenario)) == ["notice-false-fact"]
