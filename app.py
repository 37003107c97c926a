#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth` runs this (see cdk.json). Settings: docs/deploying/settings.md."""

from __future__ import annotations

import sys

from infra.app import build_app
from infra.settings import SettingsError


def main() -> None:
    try:
        app, _ = build_app()
    except SettingsError as error:
        sys.exit(f"Invalid context setting: {error}")
    app.synth()


if __name__ == "__main__":
    main()
