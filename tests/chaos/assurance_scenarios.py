"""The archive-assurance family: scenarios with READABLE_BUCKETS, APPROVED_BUCKETS and STALL_AFTER_MINUTES
set, so that the notices (archive verifications, unapproved buckets, stalls) meet the campaign's faults.

Drawn over an ordinary scenario, with or without hints (tests/chaos/families.py), it adds:
- the settings: both bucket settings or one of them (tests/chaos/archive_buckets.py names the buckets),
  and STALL_AFTER_MINUTES at 30, so that a stall happens within a scenario's simulated time (the default,
  two hours, would need a scenario of four);
- each AMI's bucket (approved and readable, refused by its policy, not readable, not approved, neither)
  and what its completed stores leave (an object late, left out and maybe written later, empty, or in
  an archive class);
- S3 faults on some runs: HeadObject throttled (503, a HEAD's SlowDown), failing, timing out, or the
  function dying around it, and the same for the bucket's versioning and lifecycle reads;
- a store of its own watched every one to four minutes (ordinary faults, overlaps, S3 faults and, now and
  then, a channel throttled for three runs among them): it moves, stands still for less than the stall
  time or past it (sometimes with the notifier away for longer than the pause that restarts the stall
  clock), maybe resumes, and maybe stalls again (a second stall of a store is never a second notice).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from local.ec2_store_tasks import COMPLETED
from tests.chaos.archive_buckets import (
    APPROVED,
    LOCKED_VAULT,
    READABLE,
    SCRATCH,
    STRAY,
    UNLISTED_VAULT,
    VAULT,
)
from tests.chaos.assurance_steps import AssuranceSetup, ObjectPlan, ResumeStore, StallStore, WriteObject
from tests.chaos.notice_rules import pause
from tests.chaos.scenarios import (
    Advance,
    CallFault,
    Finish,
    Overlap,
    Run,
    Scenario,
    Start,
    Step,
    Throttle,
    random_faults,
)

STALL_AFTER_MINUTES = 30
STALL_SECONDS = 60.0 * STALL_AFTER_MINUTES
PAUSE_SECONDS = pause(timedelta(minutes=STALL_AFTER_MINUTES)).total_seconds()
ASSURANCE_SETTINGS = (
    ("READABLE_BUCKETS", ",".join(READABLE)),
    ("APPROVED_BUCKETS", ",".join(APPROVED)),
    ("STALL_AFTER_MINUTES", str(STALL_AFTER_MINUTES)),
)
BUCKETS = (VAULT, LOCKED_VAULT, UNLISTED_VAULT, SCRATCH, STRAY)
BUCKET_WEIGHTS = (50, 10, 10, 20, 10)
# Late objects: some appear within the ten minutes the check waits for them, some after.
OBJECT_DELAYS = (60.0, 300.0, 900.0, 1800.0)
STORAGE_CLASSES = ("GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "STANDARD_IA")
S3_CALL_SITES = (
    ("HeadObject", 3),
    ("HeadObject", 3),
    ("HeadObject", 3),
    ("GetBucketVersioning", 1),
    ("GetBucketLifecycleConfiguration", 1),
)
S3_FAULT_KINDS = ("throttle", "throttle", "server-error", "timeout", "crash-before", "crash-after")
# Watching runs: one to four minutes apart, as a schedule with some runs lost would be; complete runs
# then stay well within the gap a stall may be owed across (tests/chaos/notice_rules.py, stall_owed).
WATCH_GAPS = (60.0, 240.0)


def with_archive_assurance(scenario: Scenario, rng: random.Random) -> Scenario:
    """The scenario with archive assurance on: settings, buckets and objects, S3 faults, and a store of
    its own (AMI index `amis`) watched as it moves and stalls."""
    stalling = scenario.amis
    setup = random_assurance_setup(rng, stalling + 1, hinted=scenario.hints is not None)
    steps = with_s3_faults_and_late_objects(scenario.steps, setup, rng)
    first_run = next(index for index, step in enumerate(steps) if isinstance(step, (Run, Overlap)))
    at = rng.randint(first_run + 1, len(steps))
    steps[at:at] = stall_watch(rng, stalling)
    return replace(
        scenario,
        amis=stalling + 1,
        steps=tuple(steps),
        settings=(*scenario.settings, *random_assurance_settings(rng)),
        assurance=setup,
    )


def random_assurance_settings(rng: random.Random) -> tuple[tuple[str, str], ...]:
    """Both bucket settings mostly, one of them now and then."""
    readable, approved, stall = ASSURANCE_SETTINGS
    return rng.choice((ASSURANCE_SETTINGS,) * 4 + ((readable, stall), (approved, stall)))


def random_assurance_setup(rng: random.Random, amis: int, *, hinted: bool) -> AssuranceSetup:
    buckets = tuple(rng.choices(BUCKETS, BUCKET_WEIGHTS)[0] for _ in range(amis))
    plans = (random_object_plan(rng, ami, hinted=hinted) for ami in range(amis))
    return AssuranceSetup(buckets, tuple(plan for plan in plans if plan is not None))


def random_object_plan(rng: random.Random, ami: int, *, hinted: bool) -> ObjectPlan | None:
    """None for the default (a whole STANDARD object when the store completes). No empty object when hints
    are on: the hints ledger takes an announcement with an empty object's size for a forged upload's."""
    roll = rng.random()
    if roll < 0.45:
        return None
    if roll < 0.65:
        return ObjectPlan(ami, delay_seconds=rng.choice(OBJECT_DELAYS))
    if roll < 0.8:
        return ObjectPlan(ami, left_out=True)
    if roll < 0.9 or hinted:
        return ObjectPlan(ami, storage_class=rng.choice(STORAGE_CLASSES))
    return ObjectPlan(ami, empty=True)


def with_s3_faults_and_late_objects(
    steps: tuple[Step, ...], setup: AssuranceSetup, rng: random.Random
) -> list[Step]:
    """S3 faults on some runs after the first; and the object of a completion left out written a few
    steps later, for some of them."""
    left_out = {plan.ami for plan in setup.objects if plan.left_out}
    drawn: list[Step] = []
    late: list[tuple[int, WriteObject]] = []
    for number, step in enumerate(steps):
        faulted = number > 0 and isinstance(step, (Run, Overlap)) and rng.random() < 0.3
        drawn.append(replace(step, faults=(*step.faults, *s3_faults(rng))) if faulted else step)
        if (
            isinstance(step, Finish)
            and step.state == COMPLETED
            and step.ami in left_out
            and rng.random() < 0.6
        ):
            late.append((number + rng.randint(1, 6), WriteObject(step.ami)))
        drawn += [write for due, write in late if due == number]
    return drawn + [write for due, write in late if due >= len(steps)]


def s3_fault(rng: random.Random) -> CallFault:
    operation, calls = rng.choice(S3_CALL_SITES)
    kind = rng.choice(S3_FAULT_KINDS)
    code = ("503" if operation == "HeadObject" else "SlowDown") if kind == "throttle" else None
    return CallFault("s3", operation, kind, rng.randint(1, calls), code=code)


def s3_faults(rng: random.Random) -> tuple[CallFault, ...]:
    """One to three, so that S3 throttles some of a run's calls."""
    return tuple(s3_fault(rng) for _ in range(rng.choice((1, 1, 2, 3))))


def stall_watch(rng: random.Random, ami: int) -> list[Step]:
    """A store of four to eight hours, watched while it moves, then one or two stalls: shorter than the
    stall time or well past it (a notice owed), most of them resumed."""
    steps: list[Step] = [Start(ami, round(rng.uniform(4, 8) * 3600)), *watched(rng, rng.uniform(300, 900))]
    for _ in range(rng.choice((1, 1, 2))):
        steps.append(StallStore(ami))
        if rng.random() < 0.2:
            targets = rng.choice((("sns",), ("events",), ("events", "sns")))
            steps.append(Throttle(targets, runs=3))
        past = rng.random() < 0.65
        if past and rng.random() < 0.25:
            # The notifier away past the pause: the clock starts again when it is back.
            steps += [*watched(rng, STALL_SECONDS * rng.uniform(0.3, 0.9)), Advance(PAUSE_SECONDS + 600)]
        steps += watched(rng, STALL_SECONDS * (rng.uniform(1.6, 2.2) if past else rng.uniform(0.3, 0.9)))
        if rng.random() < 0.7:
            steps += [ResumeStore(ami), *watched(rng, rng.uniform(300, 900))]
    return steps


def watched(rng: random.Random, seconds: float) -> list[Step]:
    """Runs one to four minutes apart for `seconds`: most fault-free, some with the ordinary faults
    (crashes, DynamoDB conflicts, throttled publishers), some with S3's, some overlapping."""
    steps: list[Step] = []
    elapsed = 0.0
    while elapsed < seconds:
        gap = round(rng.uniform(*WATCH_GAPS), 3)
        elapsed += gap
        roll = rng.random()
        if roll < 0.08:
            run: Step = Overlap(random_faults(rng) if rng.random() < 0.5 else ())
        elif roll < 0.23:
            run = Run(faults=random_faults(rng))
        elif roll < 0.33:
            run = Run(faults=s3_faults(rng))
        else:
            run = Run()
        steps += [Advance(gap), run]
    return steps


# -- hand-made scenarios shared by the tests ---------------------------------------------------------------

# The family's settings, with pages of ten: a handful of stores is read in one call.
HAND_MADE_SETTINGS = (*ASSURANCE_SETTINGS, ("PAGE_SIZE", "10"))
STALLING_STORE_SECONDS = 6 * 3600


def runs_every(seconds: float, count: int) -> tuple[Step, ...]:
    return (Advance(seconds), Run()) * count


def completed_stores(amis: int) -> tuple[Step, ...]:
    """A baseline, the AMIs' stores started and seen, then completed and seen."""
    return (
        Run(),
        *(Start(ami) for ami in range(amis)),
        Advance(60),
        Run(),
        *(Finish(ami, COMPLETED) for ami in range(amis)),
        Advance(60),
        Run(),
    )


def stalling_store(*watch: Step) -> Scenario:
    """A store of six hours into the vault, moving for ten minutes while runs watch it, then `watch`."""
    steps = (Run(), Start(0, STALLING_STORE_SECONDS), *runs_every(120, 5), *watch)
    return Scenario(amis=1, steps=steps, settings=HAND_MADE_SETTINGS, assurance=AssuranceSetup((VAULT,)))
