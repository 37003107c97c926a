"""Builds the CDK app: settings from context, the stack, and cdk-nag's AwsSolutions checks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, IStackSynthesizer, Validations
from cdk_nag import AwsSolutionsChecks

from infra.hub import AmiStoreNotifierHub
from infra.rollout import ASSETS_STACK_PREFIX, ManagementSpoke, SpokeAssets, SpokeRollout
from infra.setting_checks import check_deployment_target
from infra.settings import Settings, load_settings
from infra.stack import AmiStoreNotifierStack

STACK_ID = "AmiStoreNotifier"
HUB_STACK_ID = "AmiStoreNotifierHub"
ROLLOUT_STACK_ID = "AmiStoreNotifierSpokes"


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    nag: bool = True,
    synthesizer: IStackSynthesizer | None = None,
    environ: Mapping[str, str] = os.environ,
) -> tuple[App, AmiStoreNotifierStack]:
    """The app and its one stack. ``context`` adds to what the CLI passes (tests use it).

    ``environ`` is where the CLI says the stack deploys: CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION, set
    from the credentials it found (absent offline)."""
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    settings = load_settings(app.node.try_get_context)
    check_deployment_target(settings, environ.get("CDK_DEFAULT_ACCOUNT"), environ.get("CDK_DEFAULT_REGION"))
    stack = AmiStoreNotifierStack(
        app,
        STACK_ID,
        # With the hub in the app, the chat channels are the hub's.
        settings=settings.without_chat_channels() if settings.organization_id is not None else settings,
        env=pinned_environment(settings),
        context=dict(app.node.get_all_context()),
        description="AMI Store Notifier: announces finished EC2 AMI store tasks on SNS and EventBridge",
        synthesizer=synthesizer,
        # No AWS::CDK::Metadata resource: the same template offline, from the CLI and from tests.
        analytics_reporting=False,
    )
    if settings.organization_id is not None:
        AmiStoreNotifierHub(
            app,
            HUB_STACK_ID,
            settings=settings,
            organization_id=settings.organization_id,
            synthesizer=synthesizer,
        )
    add_rollout(app, settings, synthesizer)
    if nag:
        # cdk-nag 3 runs as a CDK validation plugin: findings not acknowledged fail synthesis.
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def add_rollout(app: App, settings: Settings, synthesizer: IStackSynthesizer | None) -> None:
    """With organizational units to deploy to: a code bucket stack per spoke Region, the StackSet, and
    the management account's spokes (one stack per spoke Region), which the StackSet never deploys."""
    prefix, organization = settings.spoke_asset_bucket_prefix, settings.organization_id
    if not settings.spoke_organizational_units or prefix is None or organization is None:
        return  # load_settings refused units without the rest
    for region in settings.spoke_regions:
        SpokeAssets(
            app,
            f"{ASSETS_STACK_PREFIX}-{region}",
            bucket_prefix=prefix,
            organization_id=organization,
            region=region,
            synthesizer=synthesizer,
        )
    SpokeRollout(app, ROLLOUT_STACK_ID, settings=settings, bucket_prefix=prefix, synthesizer=synthesizer)
    if settings.spoke_management_account:
        for region in settings.spoke_regions:
            ManagementSpoke(app, settings=settings, region=region, synthesizer=synthesizer)


def pinned_environment(settings: Settings) -> Environment | None:
    """An existing bus fixes where the stack may go: its account and Region (the handler is given only
    the bus's name). The CLI then refuses to deploy with credentials of another account."""
    bus = settings.imported_bus
    return None if bus is None else Environment(account=bus.account, region=bus.region)
