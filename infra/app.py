"""Builds the CDK app: settings from context, the stack, and cdk-nag's AwsSolutions checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, IStackSynthesizer, Validations
from cdk_nag import AwsSolutionsChecks

from infra.settings import load_settings
from infra.stack import AmiStoreNotifierStack

STACK_ID = "AmiStoreNotifier"


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    nag: bool = True,
    synthesizer: IStackSynthesizer | None = None,
) -> tuple[App, AmiStoreNotifierStack]:
    """The app and its one stack. ``context`` adds to what the CLI passes (tests use it)."""
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    settings = load_settings(app.node.try_get_context)
    stack = AmiStoreNotifierStack(
        app,
        STACK_ID,
        settings=settings,
        context=dict(app.node.get_all_context()),
        description="AMI Store Notifier: announces finished EC2 AMI store tasks on SNS and EventBridge",
        synthesizer=synthesizer,
        # No AWS::CDK::Metadata resource: the same template offline, from the CLI and from tests.
        analytics_reporting=False,
    )
    if nag:
        # cdk-nag 3 runs as a CDK validation plugin: findings not acknowledged fail synthesis.
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
