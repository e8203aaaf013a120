"""ApiFunctions: Lambda functions and the HTTP API. Skeleton until the component is built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.data_tables import DataTables
from components.settings import StackSettings

if TYPE_CHECKING:
    from components.auth_pool import AuthPool


@dataclass(frozen=True)
class ApiFunctionsArgs:
    settings: StackSettings
    tables: DataTables


class ApiFunctions(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ApiFunctionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pfmon:components:ApiFunctions", name, None, opts)
        self.post_confirmation = aws.lambda_.Function(
            f"{name}-post-confirmation",
            name=args.settings.function_name("post-confirmation"),
            role="arn:aws:iam::123456789012:role/x",
            runtime="python3.13",
            handler="x.handler",
            code=pulumi.AssetArchive({}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.api_url: pulumi.Output[str] = pulumi.Output.from_input("https://api")

    def serve_http_api(
        self, auth: AuthPool, allowed_origins: pulumi.Input[Sequence[str]]
    ) -> None:
        self.register_outputs({})
