"""The pinned CDK CLI synthesizes the app from cdk.json, offline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.infra.support import REPO_ROOT


def cdk(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`npx cdk ...` from the repository root, with the project's virtualenv first on PATH."""
    environment = {
        **os.environ,
        "PATH": f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    return subprocess.run(
        ["npx", "--no-install", "cdk", *arguments],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_npx_cdk_synth_writes_the_template_with_the_pinned_cli(tmp_path: Path) -> None:
    version = cdk("--version")
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert version.stdout.startswith(pinned), version.stdout + version.stderr

    outdir = tmp_path / "cdk.out"
    result = cdk("synth", "--no-notices", "--quiet", "--output", str(outdir))
    assert result.returncode == 0, result.stdout + result.stderr

    template = json.loads((outdir / "AmiStoreNotifier.template.json").read_text())
    assert any(resource["Type"] == "AWS::Lambda::Function" for resource in template["Resources"].values())
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [plugin["violations"] for plugin in report["pluginReports"]] == [[]]


def test_npx_cdk_synth_fails_on_a_bad_context_value_and_names_the_key(tmp_path: Path) -> None:
    result = cdk(
        "synth", "--no-notices", "--quiet", "--output", str(tmp_path / "out"), "-c", "scheduleMinutes=0"
    )
    assert result.returncode != 0
    assert "Invalid context setting: scheduleMinutes must be between 1 and 480, got 0" in result.stderr
