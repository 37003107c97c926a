"""cfn-lint on the synthesized templates: what CloudFormation would refuse, caught before a deployment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.support import REPO_ROOT, STACK_ID, Synthesized

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def lint(synthesized: Synthesized) -> subprocess.CompletedProcess[str]:
    return lint_file(synthesized.outdir / f"{STACK_ID}.template.json")


def lint_file(template: Path) -> subprocess.CompletedProcess[str]:
    # Run from the repository root, where cfn-lint finds .cfnlintrc.yaml (regions, ignored checks).
    return subprocess.run(
        [str(CFN_LINT), str(template)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("variant", ["synth", "custom", "imported_bus", "chat"])
def test_cfn_lint_finds_nothing_in_the_synthesized_template(
    variant: str, request: pytest.FixtureRequest
) -> None:
    result = lint(request.getfixturevalue(variant))
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_finds_nothing_in_the_hub_the_stackset_the_spoke_and_the_code_buckets(
    rollout_dir: Path,
) -> None:
    templates = sorted(rollout_dir.glob("AmiStoreNotifier?*.template.json"))
    assert len(templates) == 5  # the hub, the StackSet, its spoke template, two code buckets
    for template in templates:
        result = lint_file(template)
        assert result.returncode == 0, f"{template.name}: {result.stdout}{result.stderr}"


def test_every_ignored_cfn_lint_check_says_why() -> None:
    lines = (REPO_ROOT / ".cfnlintrc.yaml").read_text().splitlines()
    ignored = [number for number, line in enumerate(lines) if line.strip().startswith("- W")]
    assert ignored, "the ignore list is where a reason is expected"
    for number in ignored:
        code = lines[number].strip()[2:]
        above = number - 1
        while lines[above].strip().startswith("#  "):
            above -= 1  # the reason's continuation lines
        assert lines[above].strip().startswith(f"# {code} "), f"{code} has no reason above it"
    assert not [line for line in lines if line.strip().startswith("- E")], "errors are never ignored"
