"""Checkov, the scanner a security team runs, on every template the infra suite synthesizes: no failed
check, and every check the design answers otherwise acknowledged on its resource with a reason
(infra/checkov.py)."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.infra.support import REPO_ROOT, SYNTHESIZED_VARIANTS, Synthesized

# Its own virtualenv, installed by `make setup` (requirements-checkov.txt).
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"

# Every app variant the session fixtures synthesize; each of their assemblies is scanned whole.
VARIANTS = [*SYNTHESIZED_VARIANTS, "rollout_dir"]

# Offline: no download of Prisma Cloud's policy mappings, no look-up of a newer checkov release.
OFFLINE = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}


@pytest.fixture(scope="module")
def templates(request: pytest.FixtureRequest) -> list[Path]:
    found: list[Path] = []
    for variant in VARIANTS:
        synthesized: Synthesized | Path = request.getfixturevalue(variant)
        outdir = synthesized.outdir if isinstance(synthesized, Synthesized) else synthesized
        found.extend(sorted(outdir.glob("*.template.json")))
    return found


@pytest.fixture(scope="module")
def report(templates: list[Path]) -> dict[str, Any]:
    """One checkov run over every template: each run first loads every framework's checks (seconds)."""
    assert CHECKOV.exists(), f"{CHECKOV} is missing: `make setup` installs it"
    result = subprocess.run(
        [
            str(CHECKOV),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
            "--compact",
            *(arg for template in templates for arg in ("--file", str(template))),
        ],
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    parsed: dict[str, Any] = json.loads(result.stdout or "null") or {}
    assert parsed.get("check_type") == "cloudformation", result.stdout[-2000:] + result.stderr[-2000:]
    return parsed


def test_checkov_scans_every_template_of_every_variant(templates: list[Path], report: dict[str, Any]) -> None:
    results = report["results"]
    scanned = {
        Path(check["file_abs_path"]).resolve()
        for outcome in ("passed_checks", "failed_checks", "skipped_checks")
        for check in results[outcome]
    }
    assert scanned == {template.resolve() for template in templates}
    assert not results["parsing_errors"]


def test_checkov_fails_no_check_that_is_not_acknowledged(report: dict[str, Any]) -> None:
    skipped = Counter(
        (check["check_id"], check["check_result"]["suppress_comment"])
        for check in report["results"]["skipped_checks"]
    )
    for (check_id, comment), count in sorted(skipped.items()):
        print(f"skipped {check_id} on {count} resources: {comment}")
    failed = [
        f"{check['check_id']} {check['file_path']} {check['resource']}: {check['check_name']}"
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)


def test_every_checkov_skip_names_one_check_and_says_why(templates: list[Path]) -> None:
    skips = 0
    for template in templates:
        for logical_id, resource in json.loads(template.read_text())["Resources"].items():
            listed = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            where = f"{template.name} {logical_id}"
            ids = [skip["id"] for skip in listed]
            assert len(ids) == len(set(ids)), f"{where} acknowledges a check twice"
            for skip in listed:
                assert skip["id"].startswith("CKV_"), f"{where}: {skip}"
                assert skip.get("comment", "").strip(), f"{where}: {skip['id']} says no why"
                skips += 1
    assert skips, "the templates carry acknowledgments"
