"""The pinned CDK CLI synthesizes the app from cdk.json, offline."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk

from tests.infra.support import REPO_ROOT, Synthesized


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


def test_npx_cdk_synth_writes_the_template_the_tests_check_with_the_pinned_cli(
    tmp_path: Path, synth: Synthesized
) -> None:
    version = cdk("--version")
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert version.stdout.startswith(pinned), version.stdout + version.stderr

    outdir = tmp_path / "cdk.out"
    result = cdk("synth", "--no-notices", "--quiet", "--output", str(outdir))
    assert result.returncode == 0, result.stdout + result.stderr

    template = json.loads((outdir / "AmiStoreNotifier.template.json").read_text())
    assert any(resource["Type"] == "AWS::Lambda::Function" for resource in template["Resources"].values())
    report = json.loads((outdir / "validation-report.json").read_text())
    # cdk-nag's report, and construct warnings (a report of their own) only when there are any.
    assert {plugin["pluginName"]: plugin["violations"] for plugin in report["pluginReports"]} == {
        "AwsSolutions": []
    }
    # The CLI adds asset metadata; everything else is what the tests synthesize and examine.
    assert without_metadata(template) == without_metadata(synth.template_json)


def without_metadata(template: dict[str, Any]) -> dict[str, Any]:
    return {
        **template,
        "Resources": {
            logical_id: {key: value for key, value in resource.items() if key != "Metadata"}
            for logical_id, resource in template["Resources"].items()
        },
    }


def recommended_feature_flags() -> dict[str, Any]:
    """The flags the installed aws-cdk-lib recommends (what `cdk init` writes), from its own package."""
    (package,) = Path(aws_cdk.__file__).parent.glob("_jsii/aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(package) as archive:
        recommended = archive.extractfile("package/recommended-feature-flags.json")
        assert recommended is not None
        flags: dict[str, Any] = json.load(recommended)
    return flags


def test_cdk_json_sets_every_feature_flag_the_pinned_cdk_recommends() -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    flags = recommended_feature_flags()
    assert len(flags) > 50
    assert {flag: context.get(flag) for flag in flags} == flags


def test_npx_cdk_synth_fails_on_a_bad_context_value_and_names_the_key(tmp_path: Path) -> None:
    result = cdk(
        "synth", "--no-notices", "--quiet", "--output", str(tmp_path / "out"), "-c", "scheduleMinutes=0"
    )
    assert result.returncode != 0
    assert "Invalid context setting: scheduleMinutes must be between 1 and 480, got 0" in result.stderr
