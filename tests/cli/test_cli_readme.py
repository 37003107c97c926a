"""The CLI's page (docs/cli.md): every command and option documented, and a capture that watch renders."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console

from ami_store_notifier.cli.app import cli
from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.views import watch_table
from ami_store_notifier.domain.model import StoreTask

CLI_PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
# The page's capture is of an 80-column terminal, the narrowest the table is laid out for.
CAPTURE_WIDTH = 80


def cli_section() -> str:
    return CLI_PAGE.read_text()


def test_the_page_documents_every_command_and_option() -> None:
    section = cli_section()
    for name, command in cli.commands.items():
        assert f"`{name}" in section, name
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                assert any(flag in section for flag in parameter.opts), f"{name} {parameter.opts}"


def test_the_page_capture_of_watch_has_the_table_watch_draws_on_an_80_column_terminal() -> None:
    now = datetime(2026, 11, 30, 9, 56, 25, tzinfo=UTC)
    task = StoreTask("ami-0123456789abcdef0", "b", "k", now - timedelta(hours=1), "InProgress", 35)
    console = Console(width=CAPTURE_WIDTH, record=True, file=io.StringIO(), force_terminal=True)
    console.print(watch_table([FollowedTask.start("us-east-1", task, now)], now, timedelta(minutes=3)))
    rendered = [line.rstrip() for line in console.export_text().splitlines()]

    captured = cli_section().splitlines()
    title, header = rendered[0], rendered[1]
    assert title == "AMI store tasks in us-east-1 at 09:56:25 UTC, next check in 0:03:00"
    assert header in captured
    assert all(len(line) <= CAPTURE_WIDTH for line in rendered)
