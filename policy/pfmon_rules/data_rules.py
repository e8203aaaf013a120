"""Rules for the DynamoDB tables, their backups and the KMS keys."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, Severity

from .properties import as_list, get_path, number, show_number
from .registry import (
    Finding,
    ResourceRule,
    ResourceView,
    StackRule,
    resources_of_type,
)

TABLE = "aws:dynamodb/table:Table"
BACKUP_SELECTION = "aws:backup/selection:Selection"
KEY = "aws:kms/key:Key"

# Physical names end with the table suffix, as in pfmon-prod-UserCredentials.
CREDENTIALS_TABLE_SUFFIX = "-UserCredentials"
# KMS waits this many days, its maximum, before it deletes a key scheduled for deletion.
KEY_DELETION_WINDOW_DAYS = 30


def check_on_demand(resource: ResourceView) -> Iterator[Finding]:
    billing_mode = resource.props.get("billingMode")
    if billing_mode != "PAY_PER_REQUEST":
        yield Finding(
            f"billingMode is {billing_mode!r}, so the table does not scale with "
            "demand and throttles above its provisioned capacity.",
            'set billing_mode="PAY_PER_REQUEST".',
        )


def check_point_in_time_recovery(resource: ResourceView) -> Iterator[Finding]:
    if get_path(resource.props, "pointInTimeRecovery", "enabled") is not True:
        yield Finding(
            "point-in-time recovery is off.",
            'set point_in_time_recovery={"enabled": True} (the tier\'s backups).',
        )


def check_table_deletion_protection(resource: ResourceView) -> Iterator[Finding]:
    if resource.props.get("deletionProtectionEnabled") is not True:
        yield Finding(
            "deletionProtectionEnabled is not true, so DeleteTable succeeds.",
            "set deletion_protection_enabled=True (the tier's deletion_protection).",
        )
    if not resource.protect:
        yield Finding(
            "the Pulumi protect option is off, so `pulumi destroy` deletes the table.",
            "create the table with protect=True and retain_on_delete=True.",
        )


def check_credentials_table_key(resource: ResourceView) -> Iterator[Finding]:
    name = resource.props.get("name")
    if not isinstance(name, str) or not name.endswith(CREDENTIALS_TABLE_SUFFIX):
        return
    encryption = resource.props.get("serverSideEncryption")
    enabled = get_path(encryption or {}, "enabled") is True
    if not enabled or not get_path(encryption or {}, "kmsKeyArn"):
        yield Finding(
            "the broker credentials table is not encrypted with a customer-managed "
            "KMS key.",
            'set server_side_encryption={"enabled": True, "kms_key_arn": <key ARN>} '
            "(the tier's customer_managed_keys).",
        )


def _selected_arns(selections: Sequence[PolicyResource]) -> list[str]:
    selected: list[str] = []
    for selection in selections:
        selected.extend(str(arn) for arn in as_list(selection.props.get("resources")))
    return selected


def check_backup_plan(
    resources: Sequence[PolicyResource],
) -> Iterator[tuple[PolicyResource, Finding]]:
    selected = _selected_arns(resources_of_type(resources, BACKUP_SELECTION))
    for table in resources_of_type(resources, TABLE):
        arn = str(table.props.get("arn"))
        # A selection may name tables with wildcards, as AWS Backup allows.
        if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in selected):
            yield (
                table,
                Finding(
                    "no AWS Backup selection covers the table.",
                    "add the table ARN to the resources of an aws.backup.Selection "
                    "of the stack's backup plan (the tier's backups).",
                ),
            )


def check_key_rotation(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if props.get("enableKeyRotation") is not True:
        yield Finding("automatic key rotation is off.", "set enable_key_rotation=True.")
    window = number(props.get("deletionWindowInDays"))
    if window != KEY_DELETION_WINDOW_DAYS:
        yield Finding(
            f"deletionWindowInDays is {show_number(window)}, so a key scheduled "
            "for deletion by mistake can be recovered for less than "
            f"{KEY_DELETION_WINDOW_DAYS} days.",
            f"set deletion_window_in_days={KEY_DELETION_WINDOW_DAYS}.",
        )


def check_key_protected(resource: ResourceView) -> Iterator[Finding]:
    if not resource.protect:
        yield Finding(
            "the Pulumi protect option is off, so `pulumi destroy` schedules the key "
            "for deletion and the data it encrypts becomes unreadable.",
            "create the key with protect=True.",
        )


RULES = (
    ResourceRule(
        name="dynamodb-on-demand",
        description="Every DynamoDB table uses on-demand (PAY_PER_REQUEST) capacity.",
        resource_types=frozenset({TABLE}),
        severity=Severity.MEDIUM,
        check=check_on_demand,
    ),
    ResourceRule(
        name="dynamodb-pitr",
        description="Every DynamoDB table has point-in-time recovery.",
        resource_types=frozenset({TABLE}),
        severity=Severity.HIGH,
        check=check_point_in_time_recovery,
    ),
    ResourceRule(
        name="dynamodb-deletion-protection",
        description="Every DynamoDB table has deletion protection and Pulumi protect.",
        resource_types=frozenset({TABLE}),
        severity=Severity.HIGH,
        check=check_table_deletion_protection,
    ),
    ResourceRule(
        name="dynamodb-credentials-cmk",
        description="The broker credentials table is encrypted with a "
        "customer-managed KMS key.",
        resource_types=frozenset({TABLE}),
        severity=Severity.HIGH,
        check=check_credentials_table_key,
    ),
    ResourceRule(
        name="kms-key-rotation",
        description="Every KMS key rotates automatically and has a 30-day deletion "
        "window.",
        resource_types=frozenset({KEY}),
        severity=Severity.MEDIUM,
        check=check_key_rotation,
    ),
    ResourceRule(
        name="kms-key-protected",
        description="Every KMS key has Pulumi protect.",
        resource_types=frozenset({KEY}),
        severity=Severity.HIGH,
        check=check_key_protected,
    ),
)

STACK_RULES = (
    StackRule(
        name="dynamodb-backup-plan",
        description="An AWS Backup selection covers every DynamoDB table.",
        severity=Severity.MEDIUM,
        check=check_backup_plan,
    ),
)
