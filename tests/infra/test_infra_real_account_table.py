"""The "What the stack relies on in a real account" table (docs/deploying/real-account.md) has a row for
every resource type of every template variant and for every idempotency token the code sends, each with
its name's scope, its availability and the test that checks it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra.support import REPO_ROOT

VARIANTS = ("synth", "custom", "imported_bus", "chat", "spoke", "hub", "hub_chat", "hints")
TOKEN_PARAMETERS = ("ClientRequestToken", "ClientToken", "IdempotencyToken")


def real_account_rows() -> list[list[str]]:
    page = (REPO_ROOT / "docs" / "deploying" / "real-account.md").read_text()
    section = page[page.index("What the stack relies on in a real account, and how") :] + "\n\n"
    section = section[: section.index("\n\n", section.index("| --- |"))]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [row for row in rows[1:] if not row[0].startswith("| ---")]


@pytest.fixture(scope="module")
def resource_types(request: pytest.FixtureRequest, rollout_dir: Path) -> set[str]:
    outdirs = [request.getfixturevalue(variant).outdir for variant in VARIANTS] + [rollout_dir]
    return {
        resource["Type"]
        for outdir in outdirs
        for template in outdir.glob("*.template.json")
        for resource in json.loads(template.read_text())["Resources"].values()
    }


def test_every_resource_type_of_every_template_has_a_row(resource_types: set[str]) -> None:
    described = {
        kind for row in real_account_rows() for kind in re.findall(r"`((?:AWS|Custom)::[\w:]+)`", row[0])
    }
    assert resource_types - described == set()
    assert described - resource_types == set(), "a row for a type no template has"


def test_every_idempotency_token_the_code_sends_has_a_row() -> None:
    sent = {
        parameter
        for source in (REPO_ROOT / "functions").rglob("*.py")
        for parameter in TOKEN_PARAMETERS
        if f"{parameter}=" in source.read_text()
    }
    assert sent
    described = {
        parameter for row in real_account_rows() for parameter in TOKEN_PARAMETERS if parameter in row[0]
    }
    assert sent == described


def test_every_row_gives_the_names_scope_the_availability_and_a_test() -> None:
    for row in real_account_rows():
        assert len(row) == 5, row
        _, scope, available, relies_on, checked_by = (cell.strip(" |") for cell in row)
        assert scope
        assert available
        assert relies_on
        assert re.search(r"test_\w+\.py|tests/|local/", checked_by), row
