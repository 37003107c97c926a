"""The CloudFormation resource behind a construct, for what only the resource carries: a condition, an
override, metadata."""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct


def cfn_resource_of(scope: IConstruct) -> CfnResource:
    """`scope` itself when it is a CloudFormation resource, else its default child."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path} stands for no single CloudFormation resource")
    return resource
