"""Check whether DataTables can adopt a stack's live DynamoDB tables with `import`.

    python -m tools.adopt check --env test
    python -m tools.adopt check --env test --region eu-west-1 --project pfmon
    python -m tools.adopt check --env test --endpoint-url http://127.0.0.1:5000

The check reads each table with DescribeTable, DescribeContinuousBackups,
DescribeTimeToLive and ListTagsOfResource, and never writes to it. It compares the
table with what DataTables declares for the stack: the keys and indexes of
`pfmon_api.tables` and the tier that the stack's config selects. Each difference is
printed with its severity:

- blocking: a different key schema, local secondary indexes, or a table that is not
  ACTIVE. A key change makes Pulumi plan a replacement, which would delete every
  item, so such a table must never be imported.
- change: a difference that the import deploy tolerates through adoptTables and the
  follow-up deploy applies (indexes, billing, PITR, deletion protection, encryption,
  stream, tags, table class, replicas). Its tag in brackets is the tolerated change.
- warning: something to act on outside Pulumi, such as the CloudFormation stack that
  still owns the table.
- note: a setting the program leaves as it is.

It then prints the `pulumi config set adoptTables` commands for the import deploy and
for the follow-up deploy.

Exit status: 0 when every table can be imported, 1 when a table is blocked or not
found, 2 for invalid arguments or stack config, 3 when an AWS call fails.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# The table definitions live in functions/, which `python -m tools.adopt` does not put
# on sys.path.
_FUNCTIONS_DIR = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS_DIR not in sys.path:
    sys.path.insert(0, _FUNCTIONS_DIR)

from components.settings import (  # noqa: E402
    _PROJECT_NAME,
    _REGION,
    ADOPTION_TOLERANCES,
    CONFIG_NAMESPACE,
    TIERS,
    ConfigError,
    StackSettings,
    build_settings,
)
from pfmon_api import tables as schema  # noqa: E402
from tools.mock_runtime import stack_config  # noqa: E402

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_AWS_ERROR = 3

# DataTables bills every table on demand and projects every attribute into each GSI.
DECLARED_BILLING_MODE = "PAY_PER_REQUEST"
DECLARED_PROJECTION = "ALL"
DEFAULT_TABLE_CLASS = "STANDARD"
# Tags under this prefix belong to AWS, and the provider ignores them (its IgnoreAWS).
AWS_TAG_PREFIX = "aws:"
CLOUDFORMATION_STACK_TAG = "aws:cloudformation:stack-name"
SDK_MAX_ATTEMPTS = 5

Severity = Literal["blocking", "change", "warning", "note"]


@dataclass(frozen=True)
class DeclaredIndex:
    """A GSI as DataTables declares it: name, key schema and projection."""

    name: str
    keys: tuple[tuple[str, str, str], ...]
    projection: str = DECLARED_PROJECTION


@dataclass(frozen=True)
class DeclaredTable:
    """A table as DataTables declares it in a stack: keys, indexes and tier settings."""

    suffix: str
    name: str
    # (attribute name, key type, attribute type), such as ("userId", "HASH", "S").
    keys: tuple[tuple[str, str, str], ...]
    indexes: tuple[DeclaredIndex, ...]
    billing_mode: str
    pitr: bool
    deletion_protection: bool
    # True in tiers that encrypt the tables with the program's own KMS key.
    customer_managed_key: bool


@dataclass(frozen=True)
class Finding:
    """One difference or fact about a live table."""

    severity: Severity
    message: str
    # The ADOPTION_TOLERANCES entry that lets the import deploy leave a change alone.
    tolerance: str | None = None


@dataclass(frozen=True)
class LiveTable:
    """A live table as the read-only AWS calls return it."""

    description: Mapping[str, Any]
    pitr_enabled: bool
    ttl: Mapping[str, Any]
    tags: Mapping[str, str]


@dataclass
class TableReport:
    """The findings of one table, or that it was not found."""

    declared: DeclaredTable
    found: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(finding.severity == "blocking" for finding in self.findings)

    @property
    def tolerated(self) -> tuple[str, ...]:
        """Return the tolerated changes the import deploy needs, in settings order."""
        needed = {finding.tolerance for finding in self.findings if finding.tolerance}
        return tuple(change for change in ADOPTION_TOLERANCES if change in needed)


class AwsReadError(Exception):
    """A read-only AWS call failed for a reason other than a missing table."""


def _key_schema(
    keys: schema.KeySchema, attributes: Mapping[str, str]
) -> tuple[tuple[str, str, str], ...]:
    schema_rows = [(keys.hash_key, "HASH", attributes[keys.hash_key])]
    if keys.range_key:
        schema_rows.append((keys.range_key, "RANGE", attributes[keys.range_key]))
    return tuple(schema_rows)


def declared_tables(settings: StackSettings) -> list[DeclaredTable]:
    """Return what DataTables declares for each table of `pfmon_api.tables`."""
    tier = settings.tier
    return [
        DeclaredTable(
            suffix=definition.suffix,
            name=settings.table_name(definition.suffix),
            keys=_key_schema(definition.keys, definition.attributes),
            indexes=tuple(
                DeclaredIndex(
                    index.name, _key_schema(index.keys, definition.attributes)
                )
                for index in definition.indexes
            ),
            billing_mode=DECLARED_BILLING_MODE,
            pitr=tier.backups,
            deletion_protection=tier.deletion_protection,
            customer_managed_key=tier.customer_managed_keys,
        )
        for definition in schema.TABLES
    ]


# Reading the live tables (read-only calls only)


def _is_not_found(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ResourceNotFoundException")


def _tags(client: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    request = {"ResourceArn": arn}
    while True:
        page = client.list_tags_of_resource(**request)
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        request["NextToken"] = page["NextToken"]


def read_table(client: Any, name: str) -> LiveTable | None:
    """Return the live table, or None when it does not exist."""
    try:
        description = client.describe_table(TableName=name)["Table"]
        backups = client.describe_continuous_backups(TableName=name)
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        tags = _tags(client, description["TableArn"])
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise AwsReadError(f"reading table {name} failed: {error}") from error
    except BotoCoreError as error:
        raise AwsReadError(f"reading table {name} failed: {error}") from error
    pitr = backups["ContinuousBackupsDescription"].get(
        "PointInTimeRecoveryDescription", {}
    )
    return LiveTable(
        description=description,
        pitr_enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        ttl=ttl,
        tags=tags,
    )


# Comparing a live table with its declaration


def _live_key_schema(
    key_schema: Sequence[Mapping[str, str]], attribute_types: Mapping[str, str]
) -> tuple[tuple[str, str, str], ...]:
    rows = [
        (
            key["AttributeName"],
            key["KeyType"],
            attribute_types.get(key["AttributeName"], "?"),
        )
        for key in key_schema
    ]
    # DynamoDB lists the HASH key first, and sorting keeps that order in any response.
    return tuple(sorted(rows, key=lambda row: row[1] != "HASH"))


def _describe_keys(keys: Sequence[tuple[str, str, str]]) -> str:
    return ", ".join(
        f"{key_type} {name} ({attribute_type})"
        for name, key_type, attribute_type in keys
    )


def _key_findings(
    declared: DeclaredTable, live: Mapping[str, Any]
) -> Iterator[Finding]:
    types = {
        a["AttributeName"]: a["AttributeType"] for a in live["AttributeDefinitions"]
    }
    live_keys = _live_key_schema(live["KeySchema"], types)
    if live_keys != declared.keys:
        yield Finding(
            "blocking",
            f"key schema differs: live {_describe_keys(live_keys)}, declared "
            f"{_describe_keys(declared.keys)}. A key change makes Pulumi plan a "
            "replacement, which would delete every item, so never import it. Copy "
            "its items into a table with the declared keys instead",
        )
    local_indexes = [
        index["IndexName"] for index in live.get("LocalSecondaryIndexes", [])
    ]
    if local_indexes:
        yield Finding(
            "blocking",
            f"local secondary indexes {', '.join(local_indexes)} are not declared. "
            "DynamoDB sets them only when it creates a table, so Pulumi would replace "
            "it: never import it",
        )
    status = live.get("TableStatus", "ACTIVE")
    if status != "ACTIVE":
        yield Finding(
            "blocking",
            f"table status is {status}: wait until it is ACTIVE and check again",
        )


def _live_indexes(live: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        index["IndexName"]: index for index in live.get("GlobalSecondaryIndexes", [])
    }


def _index_shape(
    index: Mapping[str, Any], types: Mapping[str, str]
) -> tuple[tuple[tuple[str, str, str], ...], str]:
    projection = index.get("Projection", {})
    projection_text = projection.get("ProjectionType", "?")
    if projection.get("NonKeyAttributes"):
        projection_text += f" {sorted(projection['NonKeyAttributes'])}"
    return _live_key_schema(index["KeySchema"], types), projection_text


def _index_findings(
    declared: DeclaredTable, live: Mapping[str, Any]
) -> Iterator[Finding]:
    types = {
        a["AttributeName"]: a["AttributeType"] for a in live["AttributeDefinitions"]
    }
    live_indexes = _live_indexes(live)
    builds = 0
    for index in declared.indexes:
        expected_shape = f"{_describe_keys(index.keys)}, projection {index.projection}"
        if index.name not in live_indexes:
            builds += 1
            yield Finding(
                "change",
                f"GSI {index.name} ({expected_shape}) is missing: the follow-up update "
                "creates it and DynamoDB backfills it from the existing items",
                "indexes",
            )
            continue
        keys, projection = _index_shape(live_indexes[index.name], types)
        if keys != index.keys or projection != index.projection:
            builds += 1
            yield Finding(
                "change",
                f"GSI {index.name} differs: live {_describe_keys(keys)}, projection "
                f"{projection}, declared {expected_shape}. The follow-up update "
                "deletes and re-creates it, and queries on it fail until it is ACTIVE "
                "again",
                "indexes",
            )
    declared_names = {index.name for index in declared.indexes}
    for name, live_index in live_indexes.items():
        if name not in declared_names:
            yield Finding(
                "change",
                f"GSI {name} is not declared: the follow-up update deletes it",
                "indexes",
            )
        elif live_index.get("IndexStatus", "ACTIVE") != "ACTIVE":
            yield Finding(
                "note",
                f"GSI {name} is {live_index['IndexStatus']}: the follow-up update "
                "waits until it is ACTIVE",
            )
    if builds > 1:
        yield Finding(
            "note",
            f"UpdateTable creates or deletes one GSI per call, so the provider builds "
            f"these {builds} indexes one after another, waiting for each to be ACTIVE",
        )


def _billing_findings(
    declared: DeclaredTable, live: Mapping[str, Any]
) -> Iterator[Finding]:
    # A table created with provisioned capacity may have no BillingModeSummary.
    mode = live.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode != declared.billing_mode:
        throughput = live.get("ProvisionedThroughput", {})
        yield Finding(
            "change",
            f"billing mode is {mode} (read {throughput.get('ReadCapacityUnits')}, "
            f"write {throughput.get('WriteCapacityUnits')} units): the follow-up "
            f"update switches it to {declared.billing_mode}, which DynamoDB allows "
            "up to four times in 24 hours",
            "billing",
        )


def _switch(enabled: bool) -> str:
    return "enabled" if enabled else "disabled"


def _pitr_findings(
    declared: DeclaredTable, live: LiveTable, tier: str
) -> Iterator[Finding]:
    if live.pitr_enabled == declared.pitr:
        return
    consequence = (
        "enables it"
        if declared.pitr
        else "disables it, which discards its restore window. On-demand backups "
        "stay, so take one first, or set backups to true for this stack"
    )
    yield Finding(
        "change",
        f"point-in-time recovery is {_switch(live.pitr_enabled)} and the {tier} tier "
        f"declares it {_switch(declared.pitr)}: the follow-up update {consequence}",
        "pitr",
    )


def _deletion_protection_findings(
    declared: DeclaredTable, live: Mapping[str, Any], tier: str
) -> Iterator[Finding]:
    enabled = bool(live.get("DeletionProtectionEnabled", False))
    if enabled == declared.deletion_protection:
        return
    consequence = (
        "enables it"
        if declared.deletion_protection
        else "disables it. retain_on_delete still keeps the program from deleting it"
    )
    yield Finding(
        "change",
        f"deletion protection is {_switch(enabled)} and the {tier} tier declares it "
        f"{_switch(declared.deletion_protection)}: the follow-up update {consequence}",
        "deletionProtection",
    )


def _encryption_findings(
    declared: DeclaredTable, live: Mapping[str, Any], settings: StackSettings
) -> Iterator[Finding]:
    sse = live.get("SSEDescription", {})
    if sse.get("Status") == "ENABLED" and sse.get("KMSMasterKeyArn"):
        current = f"the KMS key {sse['KMSMasterKeyArn']}"
    else:
        current = "an AWS owned key"
    if not declared.customer_managed_key:
        yield Finding(
            "note",
            f"encrypted with {current}. The {settings.tier.name} tier declares no "
            "encryption, so the table keeps it",
        )
        return
    yield Finding(
        "change",
        f"encrypted with {current}: the follow-up update switches it to the "
        f"program's key alias/{settings.resource_name('tables')}, and the table "
        "stays available while DynamoDB switches keys",
        "encryption",
    )


def _stream_findings(live: Mapping[str, Any]) -> Iterator[Finding]:
    stream = live.get("StreamSpecification", {})
    if stream.get("StreamEnabled"):
        yield Finding(
            "change",
            f"the stream is enabled ({stream.get('StreamViewType')}) but not "
            "declared: the follow-up update disables it, and its consumers stop "
            "receiving changes",
            "stream",
        )


def _tag_findings(live: LiveTable) -> Iterator[Finding]:
    owner = live.tags.get(CLOUDFORMATION_STACK_TAG)
    if owner:
        yield Finding(
            "warning",
            f"CloudFormation stack {owner} still manages this table. Before that "
            "stack is deleted or updated, set DeletionPolicy: Retain on the table "
            "and remove it from the stack, or CloudFormation deletes it",
        )
    removed = sorted(key for key in live.tags if not key.startswith(AWS_TAG_PREFIX))
    if removed:
        yield Finding(
            "change",
            f"tag keys {', '.join(removed)} are not declared: the follow-up update "
            "removes these tags",
            "tags",
        )


def _table_class_findings(live: Mapping[str, Any]) -> Iterator[Finding]:
    table_class = live.get("TableClassSummary", {}).get(
        "TableClass", DEFAULT_TABLE_CLASS
    )
    if table_class != DEFAULT_TABLE_CLASS:
        yield Finding(
            "change",
            f"table class is {table_class}: the follow-up update switches it to "
            f"{DEFAULT_TABLE_CLASS}",
            "tableClass",
        )


def _replica_findings(live: Mapping[str, Any]) -> Iterator[Finding]:
    regions = sorted(replica["RegionName"] for replica in live.get("Replicas", []))
    if regions:
        yield Finding(
            "change",
            f"replicas in {', '.join(regions)} are not declared: the follow-up update "
            "removes them, which deletes the replica tables in those regions",
            "replicas",
        )


def _ttl_findings(live: LiveTable) -> Iterator[Finding]:
    if live.ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        yield Finding(
            "note",
            f"TTL on attribute {live.ttl.get('AttributeName')} is not declared, so the "
            "table keeps it and items keep expiring",
        )


def compare(
    declared: DeclaredTable, live: LiveTable, settings: StackSettings
) -> list[Finding]:
    """Return every finding about one live table, blocking ones first."""
    description = live.description
    tier = settings.tier.name
    return [
        *_key_findings(declared, description),
        *_index_findings(declared, description),
        *_billing_findings(declared, description),
        *_pitr_findings(declared, live, tier),
        *_deletion_protection_findings(declared, description, tier),
        *_encryption_findings(declared, description, settings),
        *_stream_findings(description),
        *_tag_findings(live),
        *_table_class_findings(description),
        *_replica_findings(description),
        *_ttl_findings(live),
    ]


def check_tables(client: Any, settings: StackSettings) -> list[TableReport]:
    """Read every table of the stack and compare it with its declaration."""
    reports = []
    for declared in declared_tables(settings):
        live = read_table(client, declared.name)
        if live is None:
            reports.append(TableReport(declared, found=False))
        else:
            reports.append(
                TableReport(declared, True, compare(declared, live, settings))
            )
    return reports


# Report and commands


def adopt_value(reports: Sequence[TableReport], tolerate: bool) -> str:
    """Return the adoptTables value for the found tables, with tolerances or without."""
    entries = []
    for report in reports:
        if not report.found:
            continue
        tolerated = report.tolerated if tolerate else ()
        suffix = report.declared.suffix
        entries.append(f"{suffix}:{'+'.join(tolerated)}" if tolerated else suffix)
    if len(entries) == len(schema.TABLES) and all(":" not in e for e in entries):
        return "all"
    return ",".join(entries)


def _config_command(value: str, stack: str) -> str:
    return f"pulumi config set adoptTables {shlex.quote(value)} -s {stack}"


def _declaration_line(settings: StackSettings) -> str:
    tier = settings.tier
    encryption = (
        f"the program's KMS key alias/{settings.resource_name('tables')}"
        if tier.customer_managed_keys
        else "not declared"
    )
    return (
        f"DataTables declares on-demand billing, point-in-time recovery "
        f"{_switch(tier.backups)}, deletion protection "
        f"{_switch(tier.deletion_protection)}, encryption {encryption}, and the keys "
        "and GSIs of pfmon_api.tables"
    )


def _table_status(report: TableReport) -> str:
    if not report.found:
        return "not found"
    if report.blocked:
        return "BLOCKED, never import it"
    if report.tolerated:
        return "can be imported, and the follow-up update changes it"
    return "can be imported as it is"


def render_report(
    reports: Sequence[TableReport], settings: StackSettings, out: TextIO
) -> None:
    """Print each table's findings and the adoptTables commands."""
    stack = settings.environment
    print(
        f"Stack {stack} ({settings.tier.name} tier), region {settings.region}.",
        file=out,
    )
    print(f"{_declaration_line(settings)}.", file=out)
    for report in reports:
        print(f"\n{report.declared.name}: {_table_status(report)}", file=out)
        if not report.found:
            print(
                f"  error: DescribeTable found no table {report.declared.name} in "
                f"{settings.region}. Check --region and --project. A table that "
                "does not exist yet stays out of adoptTables, so that the program "
                "creates it.",
                file=out,
            )
        for finding in report.findings:
            tag = f" [{finding.tolerance}]" if finding.tolerance else ""
            print(f"  {finding.severity}{tag}: {finding.message}.", file=out)

    found = [report for report in reports if report.found]
    print("", file=out)
    if any(report.blocked for report in reports):
        print(
            "No command: a blocked table must not be imported. Resolve it, then run "
            "the check again.",
            file=out,
        )
        return
    if not found:
        print("No command: none of the tables exists.", file=out)
        return
    import_value = adopt_value(reports, tolerate=True)
    final_value = adopt_value(reports, tolerate=False)
    print(
        "Import deploy (pulumi preview must show import for each table, and "
        "no update, replace or delete of any table):",
        file=out,
    )
    print(f"  {_config_command(import_value, stack)}", file=out)
    if import_value == final_value:
        print("No follow-up deploy is needed: the import changes no table.", file=out)
        return
    print(
        "Follow-up deploy, after the item counts match (it applies every change "
        "listed above):",
        file=out,
    )
    print(f"  {_config_command(final_value, stack)}", file=out)


# Command line


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of `python -m tools.adopt`."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.adopt",
        description="Check that a stack's live DynamoDB tables can be adopted.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="compare the live tables with DataTables and print adoptTables",
        description="Read the live tables (read-only) and compare them with what "
        "DataTables declares for the stack.",
    )
    check.add_argument(
        "--env", required=True, choices=tuple(TIERS), help="stack and environment"
    )
    check.add_argument(
        "--project",
        help="prefix of the table names (default: projectName of the stack config)",
    )
    check.add_argument(
        "--region", help="AWS region (default: aws:region of the stack config)"
    )
    check.add_argument(
        "--endpoint-url",
        help="DynamoDB endpoint of an emulator, such as http://127.0.0.1:5000",
    )
    return parser


def option_errors(project: str | None, region: str | None) -> list[str]:
    """Return an error for each --project or --region value that settings reject.

    build_settings applies the same rules, but its messages name the config key and
    a `pulumi config set` fix, which would mislead for a value given as a flag.
    """
    errors = []
    if project is not None and not _PROJECT_NAME.fullmatch(project):
        errors.append(
            f"--project {project!r} is invalid: expected 2 to 20 lowercase letters, "
            "digits or hyphens, starting with a letter and ending with a letter or "
            "digit. Fix: pass the prefix of the table names, such as --project "
            "pfmon, or leave out --project to use projectName of the stack config"
        )
    if region is not None and not _REGION.fullmatch(region):
        errors.append(
            f"--region {region!r} is invalid: expected an AWS region such as "
            "us-east-1. Fix: pass the region of the tables, or leave out --region "
            "to use aws:region of the stack config"
        )
    return errors


def load_stack_settings(
    env: str, project: str | None, region: str | None
) -> StackSettings:
    """Build the stack's settings as the program would, with the given overrides."""
    overrides = {"projectName": project} if project is not None else {}
    config = stack_config(env, overrides)
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {
        key[len(prefix) :]: value
        for key, value in config.items()
        if key.startswith(prefix)
    }
    return build_settings(values, env, region or config.get("aws:region", ""))


def _client(region: str, endpoint_url: str | None) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": SDK_MAX_ATTEMPTS})
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=endpoint_url, config=config
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; argparse exits with status 2 on invalid arguments."""
    parser = build_parser()
    options = parser.parse_args(argv)
    stdout = out or sys.stdout
    endpoint = options.endpoint_url
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        parser.error(
            f"--endpoint-url {endpoint!r} is not an HTTP URL: use a URL such as "
            "http://127.0.0.1:5000"
        )
    errors = option_errors(options.project, options.region)
    if errors:
        parser.error("; ".join(errors))
    try:
        settings = load_stack_settings(options.env, options.project, options.region)
    except ConfigError as error:
        parser.error(str(error))

    configured = stack_config(options.env).get(f"{CONFIG_NAMESPACE}:projectName")
    if options.project is not None and options.project != configured:
        print(
            f"warning: the stack config sets projectName {configured}, so the program "
            f"adopts {configured}-{options.env}-* tables, not the ones checked here.",
            file=stdout,
        )
    try:
        reports = check_tables(_client(settings.region, endpoint), settings)
    except AwsReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_AWS_ERROR
    render_report(reports, settings, stdout)
    if any(report.blocked or not report.found for report in reports):
        return EXIT_BLOCKED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
