"""Helpers for the infrastructure tests: synthesize the app into a temporary cloud assembly.

Imported as `tests.infra.support` (the repository root is on pytest's pythonpath), which works whatever
import mode pytest uses, unlike importing from a conftest module.

Synthesis is the slow part (the jsii runtime starts once per process, then each synth takes about a
second), so each test module synthesizes once, in a module-scoped fixture, and its tests read the result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before aws_cdk is imported: jsii prints a large end-of-life banner on Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import IStackSynthesizer
from aws_cdk.assertions import Template

from infra.app import STACK_ID, build_app
from infra.stack import AmiStoreNotifierStack

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Synthesized:
    stack: AmiStoreNotifierStack
    outdir: Path
    template_json: dict[str, Any]

    @property
    def template(self) -> Template:
        return Template.from_json(self.template_json)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of one type."""
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))

    @property
    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report


def synthesize(
    outdir: Path,
    context: Mapping[str, Any] | None = None,
    *,
    nag: bool = True,
    synthesizer: IStackSynthesizer | None = None,
) -> Synthesized:
    """Synthesize the app as `npx cdk synth` would, with `context` as if given with `-c`."""
    app, stack = build_app(context, outdir=str(outdir), nag=nag, synthesizer=synthesizer)
    app.synth()
    template = json.loads((outdir / f"{STACK_ID}.template.json").read_text())
    return Synthesized(stack=stack, outdir=outdir, template_json=template)
