"""Checkov's findings acknowledged on the resource they are about, as cdk-nag's are on the construct.

Checkov reads a CloudFormation resource's `Metadata: {"checkov": {"skip": [{"id", "comment"}]}}` and
reports each listed check as skipped with that comment (checkov/cloudformation/context_parser.py,
collect_skip_comments), so the reason travels with the template to whoever scans it.
"""

from __future__ import annotations

from typing import Any

from constructs import IConstruct

from infra.cfn_resources import cfn_resource_of

METADATA_KEY = "checkov"


def skip_checkov(scope: IConstruct, check_id: str, reason: str) -> None:
    """Acknowledge `check_id` on `scope`'s CloudFormation resource: `scope` itself, or its default child."""
    resource = cfn_resource_of(scope)
    metadata: dict[str, Any] = resource.get_metadata(METADATA_KEY) or {"skip": []}
    skips = [*metadata["skip"], {"id": check_id, "comment": reason}]
    resource.add_metadata(METADATA_KEY, {**metadata, "skip": skips})
