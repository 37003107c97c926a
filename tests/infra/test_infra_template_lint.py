"""cfn-lint on every synthesized template, over every Region the product supports (infra/regions.py): what
CloudFormation would refuse there, a resource type the Region lacks included, caught before a deployment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.regions import ALL_SUPPORTED_REGIONS
from tests.infra.support import REPO_ROOT, SYNTHESIZED_VARIANTS

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def lint(templates: list[Path]) -> subprocess.CompletedProcess[str]:
    """One cfn-lint run over all the templates (its start-up takes most of the time) and every supported
    Region. Run from the repository root, where cfn-lint finds .cfnlintrc.yaml (the ignored checks)."""
    return subprocess.run(
        [str(CFN_LINT), "--regions", *ALL_SUPPORTED_REGIONS, "--", *map(str, templates)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def every_template(request: pytest.FixtureRequest, rollout_dir: Path) -> list[Path]:
    outdirs = [request.getfixturevalue(variant).outdir for variant in SYNTHESIZED_VARIANTS] + [rollout_dir]
    return sorted(template for outdir in outdirs for template in outdir.glob("*.template.json"))


def test_cfn_lint_finds_nothing_in_any_template_variant_in_any_supported_region(
    every_template: list[Path],
) -> None:
    result = lint(every_template)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(every_template) >= len(SYNTHESIZED_VARIANTS) + 7


def test_cfn_lint_reports_a_resource_type_a_supported_region_lacks(tmp_path: Path) -> None:
    """The lint is not vacuous: a schema registry without its condition fails in the Regions that lack it."""
    template = tmp_path / "unconditioned.template.json"
    template.write_text(
        '{"Resources": {"Registry": {"Type": "AWS::EventSchemas::Registry", "Properties": {}}}}'
    )
    result = lint([template])
    assert result.returncode != 0
    assert "E3006" in result.stdout
    assert "ap-southeast-4" in result.stdout


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
