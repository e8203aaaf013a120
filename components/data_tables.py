"""DataTables: PFMON's four DynamoDB tables. Skeleton until the component is built."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.settings import StackSettings
from pfmon_api import tables as schema


@dataclass(frozen=True)
class DataTablesArgs:
    settings: StackSettings


class DataTables(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: DataTablesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pfmon:components:DataTables", name, None, opts)
        settings = args.settings
        self.table_names: dict[str, pulumi.Output[str]] = {
            table.suffix: pulumi.Output.from_input(settings.table_name(table.suffix))
            for table in schema.TABLES
        }
        self.table_arns: dict[str, pulumi.Output[str]] = {
            suffix: name.apply(lambda n: f"arn:aws:dynamodb:::table/{n}")
            for suffix, name in self.table_names.items()
        }
        self.credentials_key_arn: pulumi.Output[str] = pulumi.Output.from_input("arn:aws:kms:::key/x")
        self.register_outputs({})
