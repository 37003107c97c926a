"""The bill's inputs kept in bench/bill/measured.json, so that docs/cost.md's figures are checked against
them in a second (tests/bench/test_bill.py), and so that the file's diff shows what a change did to the
templates and runs. `python -m bench.bill` and a full `make bench` rewrite it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.bill.model import Measured
from bench.bill.profile import Profile
from bench.bill.templates import Counted, Function, Topic
from bench.bill.usage import Assumptions

PATH = Path(__file__).with_name("measured.json")


def save(measured: Measured, path: Path = PATH) -> None:
    data = {
        "counted": {key: asdict(counted) for key, counted in measured.counted.items()},
        "profiles": {key: profile.to_json() for key, profile in measured.profiles.items()},
        "assumptions": asdict(measured.assumptions),
        "unknown_settings": measured.unknown_settings,
    }
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _function(raw: dict[str, Any] | None) -> Function | None:
    if raw is None:
        return None
    topics = {variable: Topic(**topic) for variable, topic in raw["topics"].items()}
    return Function(**{**raw, "topics": topics})


def _counted(raw: dict[str, Any]) -> Counted:
    return Counted(**{**raw, "poller": _function(raw["poller"]), "relay": _function(raw["relay"])})


def load(path: Path = PATH) -> Measured:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Measured(
        counted={key: _counted(raw) for key, raw in data["counted"].items()},
        profiles={key: Profile.from_json(raw) for key, raw in data["profiles"].items()},
        assumptions=Assumptions(**data["assumptions"]),
        unknown_settings=data["unknown_settings"],
    )
