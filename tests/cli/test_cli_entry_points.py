"""The CLI as an operator starts it: the console script and `python -m`, in their own processes."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from local.ec2_store_tasks import StoreTaskBackend


def test_the_project_installs_the_ami_store_notifier_console_script() -> None:
    [script] = importlib.metadata.entry_points(group="console_scripts", name="ami-store-notifier")

    assert script.value == "ami_store_notifier.cli.app:main"


def test_python_dash_m_lists_the_three_commands() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "ami_store_notifier.cli", "--help"], capture_output=True, text=True, check=True
    )

    assert shown.stdout.startswith("Usage: ami-store-notifier")
    for command in ("watch", "store", "status"):
        assert f"  {command} " in shown.stdout


def test_the_console_script_watches_and_reports_through_the_real_clock_and_console(
    served: str, start_store: Callable[..., str], store_tasks: StoreTaskBackend
) -> None:
    ami_id = start_store(minutes=1)
    store_tasks.complete(ami_id)
    script = Path(sys.executable).with_name("ami-store-notifier")
    environment = {**os.environ, "AWS_ENDPOINT_URL": served}

    watched = subprocess.run(
        [script, "watch", ami_id], check=False, capture_output=True, text=True, env=environment
    )
    status = subprocess.run(
        [script, "status", "--json"], check=True, capture_output=True, text=True, env=environment
    )

    assert (watched.returncode, watched.stderr) == (0, "")
    assert f"{ami_id} us-east-1 Completed 100%" in watched.stdout
    assert json.loads(status.stdout)["regions"][0]["tasks"][0]["amiId"] == ami_id
