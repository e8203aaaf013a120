"""StaticSite: S3 bucket and CloudFront for the React app. Skeleton until built."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.settings import StackSettings


@dataclass(frozen=True)
class StaticSiteArgs:
    settings: StackSettings


class StaticSite(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pfmon:components:StaticSite", name, None, opts)
        self.site_url: pulumi.Output[str] = pulumi.Output.from_input("https://site")
        self.allowed_origins: pulumi.Output[list[str]] = pulumi.Output.from_input(["https://site"])

    def publish_config(
        self,
        api_url: pulumi.Input[str],
        user_pool_id: pulumi.Input[str],
        client_id: pulumi.Input[str],
    ) -> None:
        self.register_outputs({})
