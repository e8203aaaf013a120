"""AuthPool: Cognito user pool and SPA client. Skeleton until the component is built."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import StackSettings


@dataclass(frozen=True)
class AuthPoolArgs:
    settings: StackSettings
    post_confirmation: aws.lambda_.Function


class AuthPool(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AuthPoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pfmon:components:AuthPool", name, None, opts)
        self.user_pool_id: pulumi.Output[str] = pulumi.Output.from_input("pool")
        self.user_pool_arn: pulumi.Output[str] = pulumi.Output.from_input("poolarn")
        self.client_id: pulumi.Output[str] = pulumi.Output.from_input("client")
        self.issuer: pulumi.Output[str] = pulumi.Output.from_input("https://issuer")
        self.register_outputs({})
