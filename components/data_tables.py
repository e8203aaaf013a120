"""DataTables: PFMON's four DynamoDB tables, their KMS keys and the AWS Backup plan.

The tables come from `pfmon_api.tables`, the one definition of their keys. The security
tier decides point-in-time recovery, deletion protection, the customer-managed table key
and the backup plan. The envelope-encryption key for broker credentials exists in every
tier, because the credentials function encrypts secret fields before it stores them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.settings import StackSettings
from pfmon_api import routes
from pfmon_api import tables as schema

# KMS waits this many days, its maximum, before it deletes a key scheduled for deletion.
KEY_DELETION_WINDOW_DAYS = 30
# Daily recovery points are kept as long as DynamoDB keeps point-in-time recovery data.
BACKUP_RETENTION_DAYS = 35
BACKUP_SCHEDULE = "cron(0 3 * * ? *)"  # 03:00 UTC every day

# Key administration without any cryptographic use. kms:CreateGrant is left out because
# a grant could give its holder kms:Decrypt. kms:PutKeyPolicy stays, because KMS
# rejects a key policy that would lock the account out of changing it.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# DynamoDB encrypts a table with a customer-managed key through grants that it creates
# on behalf of the principal that calls it.
TABLE_KEY_USE_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
CREDENTIALS_KEY_USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")

# DynamoDB actions of AWS Backup, taken from the DynamoDB statements of the AWS
# managed policies AWSBackupServiceRolePolicyForBackup and
# AWSBackupServiceRolePolicyForRestores. The *AwsBackup* actions serve backups with
# AWS Backup's advanced DynamoDB features, and the others serve DynamoDB's own backups.
BACKUP_TABLE_ACTIONS = (
    "dynamodb:CreateBackup",
    "dynamodb:DescribeTable",
    "dynamodb:ListTagsOfResource",
    "dynamodb:StartAwsBackupJob",
)
BACKUP_RECOVERY_POINT_ACTIONS = (
    "dynamodb:DeleteBackup",
    "dynamodb:DescribeBackup",
    "dynamodb:RestoreTableFromBackup",
)
# DynamoDB requires read and write permissions on the target table of a restore.
RESTORE_TABLE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:RestoreTableFromAwsBackup",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
BACKUP_VAULT_ACTIONS = ("backup:CopyIntoBackupVault", "backup:DescribeBackupVault")
BACKUP_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

# Table inputs that each tolerated difference of an adoption (components.settings.
# ADOPTION_TOLERANCES) keeps at the live value through `ignore_changes`. Index changes
# include `attributes`, because the provider rejects attribute definitions that no key
# or index uses. hashKey and rangeKey never appear here: a key change replaces a table.
TOLERATED_INPUTS: dict[str, tuple[str, ...]] = {
    "indexes": ("globalSecondaryIndexes", "attributes"),
    "billing": ("billingMode", "readCapacity", "writeCapacity", "onDemandThroughput"),
    "pitr": ("pointInTimeRecovery",),
    "deletionProtection": ("deletionProtectionEnabled",),
    "encryption": ("serverSideEncryption",),
    "stream": ("streamEnabled", "streamViewType"),
    "tags": ("tags",),
    "tableClass": ("tableClass",),
    "replicas": ("replicas",),
}


@dataclass(frozen=True)
class DataTablesArgs:
    settings: StackSettings


def key_admin_statement(account_root: str) -> dict[str, Any]:
    """Build the key policy statement that lets the account administer a key."""
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": account_root},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }


def tables_key_policy(account_root: str) -> dict[str, Any]:
    """Build the policy of the table key: the account administers and uses it.

    IAM policies in the account decide which principals use the key, as with an AWS
    managed key, so that DynamoDB can create its grants for every caller of a table.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            key_admin_statement(account_root),
            {
                "Sid": "AccountUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": list(TABLE_KEY_USE_ACTIONS),
                "Resource": "*",
            },
        ],
    }


def credentials_key_policy(
    account_root: str, role_arns: Sequence[str]
) -> dict[str, Any]:
    """Build the policy of the credentials key: only the named roles may use it.

    The account may administer the key but not use it. The use statement names the
    account root with an `aws:PrincipalArn` condition instead of the roles themselves,
    because KMS rejects a key policy whose principal is a role that does not exist yet.
    The roles still need an IAM policy that allows the same actions on this key.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            key_admin_statement(account_root),
            {
                "Sid": "CredentialsFunctionUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": list(CREDENTIALS_KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalArn": list(role_arns)}},
            },
        ],
    }


def backup_role_policy(
    table_arns: Sequence[str],
    vault_arn: str,
    key_arn: str | None,
    region: str,
) -> dict[str, Any]:
    """Build the permissions of the AWS Backup role, limited to the PFMON tables."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "BackUpTables",
            "Effect": "Allow",
            "Action": list(BACKUP_TABLE_ACTIONS),
            "Resource": list(table_arns),
        },
        {
            "Sid": "ManageTableBackups",
            "Effect": "Allow",
            "Action": list(BACKUP_RECOVERY_POINT_ACTIONS),
            "Resource": [f"{arn}/backup/*" for arn in table_arns],
        },
        # NOTE: a restore under a new table name needs a restore role that covers
        # that name, because this statement names only the four tables.
        {
            "Sid": "RestoreTables",
            "Effect": "Allow",
            "Action": list(RESTORE_TABLE_ACTIONS),
            "Resource": list(table_arns),
        },
        {
            "Sid": "UseBackupVault",
            "Effect": "Allow",
            "Action": list(BACKUP_VAULT_ACTIONS),
            "Resource": vault_arn,
        },
    ]
    # NOTE: the key statements follow the managed policy's KMS statements, but no
    # backup of a table encrypted with a customer-managed key has run with them yet.
    if key_arn is not None:
        services = [
            f"dynamodb.{region}.amazonaws.com",
            f"backup.{region}.amazonaws.com",
        ]
        statements += [
            {
                "Sid": "UseTablesKey",
                "Effect": "Allow",
                "Action": list(BACKUP_KEY_ACTIONS),
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": services}},
            },
            {
                "Sid": "DescribeTablesKey",
                "Effect": "Allow",
                "Action": "kms:DescribeKey",
                "Resource": key_arn,
            },
            {
                "Sid": "GrantTablesKeyToServices",
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _index_key_schema(
    keys: schema.KeySchema,
) -> list[aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs]:
    key_schema = [
        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
            attribute_name=keys.hash_key, key_type="HASH"
        )
    ]
    if keys.range_key:
        key_schema.append(
            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                attribute_name=keys.range_key, key_type="RANGE"
            )
        )
    return key_schema


def _key_attributes(definition: schema.TableDefinition) -> set[str]:
    key_sets = [definition.keys, *(index.keys for index in definition.indexes)]
    hash_keys = {keys.hash_key for keys in key_sets}
    return hash_keys | {keys.range_key for keys in key_sets if keys.range_key}


def validate_definitions(definitions: Sequence[schema.TableDefinition]) -> None:
    """Raise `pulumi.RunError` unless each table declares exactly its key attributes.

    DynamoDB rejects a table whose attribute definitions name an attribute that no key
    or index uses, and a key on an undeclared attribute.
    """
    suffixes = [definition.suffix for definition in definitions]
    duplicates = sorted({suffix for suffix in suffixes if suffixes.count(suffix) > 1})
    if duplicates:
        raise pulumi.RunError(
            f"table suffixes {duplicates} appear more than once in pfmon_api.tables."
            "TABLES: give every table its own suffix"
        )
    for definition in definitions:
        declared = set(definition.attributes)
        used = _key_attributes(definition)
        if declared != used:
            raise pulumi.RunError(
                f"table {definition.suffix} declares attributes {sorted(declared)} but "
                f"its keys and indexes use {sorted(used)}: declare exactly the key and "
                "index attributes in pfmon_api/tables.py"
            )


def validate_adoptions(
    settings: StackSettings, definitions: Sequence[schema.TableDefinition]
) -> None:
    """Raise `pulumi.RunError` if adoptTables names a table or change not defined here.

    The settings module validates against its own copy of the suffixes, so this check
    catches a table renamed in pfmon_api/tables.py but not in components/settings.py.
    """
    suffixes = {definition.suffix for definition in definitions}
    for adoption in settings.adopted_tables:
        if adoption.suffix not in suffixes:
            raise pulumi.RunError(
                f"adoptTables names table {adoption.suffix}, which pfmon_api.tables."
                f"TABLES does not define: update TABLE_SUFFIXES in "
                f"components/settings.py to {sorted(suffixes)}"
            )
        unknown = [c for c in adoption.tolerated if c not in TOLERATED_INPUTS]
        if unknown:
            raise pulumi.RunError(
                f"adoptTables tolerates {unknown} for {adoption.suffix}, but "
                "TOLERATED_INPUTS in components/data_tables.py does not map them to "
                "Table inputs: add them there"
            )


def _credentials_key_roles(settings: StackSettings) -> list[str]:
    families = [spec.family for spec in routes.FUNCTIONS if spec.uses_credentials_key]
    if not families:
        raise pulumi.RunError(
            "no function in pfmon_api.routes.FUNCTIONS has uses_credentials_key=True: "
            "mark the function that encrypts broker credentials"
        )
    return [settings.role_name(family) for family in families]


class DataTables(pulumi.ComponentResource):
    """The four on-demand tables, their KMS keys and, in tiers with backups, AWS Backup.

    Attributes other components read: `tables`, `table_names` and `table_arns` keyed by
    table suffix (such as "UserCredentials"), and `credentials_key_arn`.
    """

    tables: dict[str, aws.dynamodb.Table]
    table_names: dict[str, pulumi.Output[str]]
    table_arns: dict[str, pulumi.Output[str]]
    credentials_key_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: DataTablesArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pfmon:components:DataTables", name, None, opts)
        settings = args.settings
        tier = settings.tier
        validate_definitions(schema.TABLES)
        validate_adoptions(settings, schema.TABLES)
        key_roles = _credentials_key_roles(settings)

        self._settings = settings
        invoke_options = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke_options)
        self._account_id = identity.account_id
        self._partition = aws.get_partition_output(opts=invoke_options).partition

        self.credentials_key_arn = self._create_credentials_key(name, key_roles).arn
        tables_key = None
        if tier.customer_managed_keys:
            tables_key = self._create_tables_key(name)
        self.tables = {
            definition.suffix: self._create_table(name, definition, tables_key)
            for definition in schema.TABLES
        }
        self.table_names = {suffix: t.name for suffix, t in self.tables.items()}
        self.table_arns = {suffix: t.arn for suffix, t in self.tables.items()}
        if tier.backups:
            self._create_backup_plan(name, tables_key)

        self.register_outputs(
            {
                "tableNames": self.table_names,
                "tableArns": self.table_arns,
                "credentialsKeyArn": self.credentials_key_arn,
            }
        )

    def _protected_options(self) -> pulumi.ResourceOptions:
        """Return the options of a child whose loss would lose data.

        Pulumi reads retain_on_delete from its state, so it must be set from the first
        deployment. An update that sets it and deletes the resource deletes it anyway.
        """
        protected = self._settings.tier.deletion_protection
        return pulumi.ResourceOptions(
            parent=self, protect=protected, retain_on_delete=protected
        )

    def _table_options(
        self, definition: schema.TableDefinition
    ) -> pulumi.ResourceOptions:
        """Return the options of one table, which adoptTables may name for adoption.

        An adopted table is imported by its physical name. Pulumi imports a table once
        and treats a later run with the same import id as an ordinary update. While a
        resource keeps its import id, the engine rejects any replacement of it (pulumi
        3.174 and later, pkg/resource/deploy/step_generator.go), so the option stays.
        """
        adoption = self._settings.adoption(definition.suffix)
        if adoption is None:
            return self._protected_options()

        ignored = [
            name for change in adoption.tolerated for name in TOLERATED_INPUTS[change]
        ]
        table_name = self._settings.table_name(definition.suffix)
        if ignored:
            tolerated = "+".join(adoption.tolerated)
            pulumi.log.warn(
                f"{table_name} ignores changes to {', '.join(ignored)} because "
                f"adoptTables tolerates {tolerated} for it. After the import is "
                f"verified, remove ':{tolerated}' from adoptTables so that the next "
                "deploy applies them"
            )
        return pulumi.ResourceOptions(
            parent=self,
            protect=self._settings.tier.deletion_protection,
            # Data created outside the program must outlive it, so in every tier
            # neither a destroy nor dropping the table from the program deletes it.
            retain_on_delete=True,
            import_=table_name,
            ignore_changes=ignored or None,
        )

    def _account_root(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "arn:", self._partition, ":iam::", self._account_id, ":root"
        )

    def _create_key(
        self,
        logical_name: str,
        alias_suffix: str,
        description: str,
        policy: pulumi.Output[str],
    ) -> aws.kms.Key:
        key = aws.kms.Key(
            logical_name,
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=policy,
            opts=self._protected_options(),
        )
        aws.kms.Alias(
            f"{logical_name}-alias",
            name=f"alias/{self._settings.resource_name(alias_suffix)}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key

    def _create_credentials_key(self, name: str, role_names: list[str]) -> aws.kms.Key:
        table = self._settings.table_name(schema.USER_CREDENTIALS.suffix)
        role_arns = [
            pulumi.Output.concat(
                "arn:", self._partition, ":iam::", self._account_id, ":role/", role
            )
            for role in role_names
        ]
        policy = pulumi.Output.all(
            root=self._account_root(), roles=pulumi.Output.all(*role_arns)
        ).apply(
            lambda values: json.dumps(
                credentials_key_policy(values["root"], values["roles"])
            )
        )
        return self._create_key(
            f"{name}-credentials-key",
            "credentials",
            f"Envelope encryption of broker credentials in {table}. Only "
            f"{', '.join(role_names)} may encrypt and decrypt with it.",
            policy,
        )

    def _create_tables_key(self, name: str) -> aws.kms.Key:
        policy = self._account_root().apply(
            lambda root: json.dumps(tables_key_policy(root))
        )
        return self._create_key(
            f"{name}-tables-key",
            "tables",
            f"Encryption at rest of the {self._settings.prefix} DynamoDB tables "
            "and their AWS Backup vault",
            policy,
        )

    def _create_table(
        self,
        name: str,
        definition: schema.TableDefinition,
        tables_key: aws.kms.Key | None,
    ) -> aws.dynamodb.Table:
        tier = self._settings.tier
        indexes = [
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index.name,
                key_schemas=_index_key_schema(index.keys),
                projection_type="ALL",
            )
            for index in definition.indexes
        ]
        # The table key encrypts all four tables, not only UserCredentials, because
        # each table contains a trader's personal records and one key serves them all.
        encryption = None
        if tables_key is not None:
            encryption = aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=tables_key.arn
            )
        return aws.dynamodb.Table(
            f"{name}-{definition.logical_id}",
            name=self._settings.table_name(definition.suffix),
            billing_mode="PAY_PER_REQUEST",
            hash_key=definition.keys.hash_key,
            range_key=definition.keys.range_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=attribute, type=kind)
                for attribute, kind in definition.attributes.items()
            ],
            global_secondary_indexes=indexes or None,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=tier.backups
            ),
            deletion_protection_enabled=tier.deletion_protection,
            server_side_encryption=encryption,
            opts=self._table_options(definition),
        )

    def _create_backup_plan(self, name: str, tables_key: aws.kms.Key | None) -> None:
        vault = aws.backup.Vault(
            f"{name}-backup-vault",
            name=self._settings.resource_name("backup"),
            kms_key_arn=tables_key.arn if tables_key else None,
            opts=self._protected_options(),
        )
        role = self._create_backup_role(name, vault, tables_key)
        # One daily rule. AWS Backup's continuous backup does not cover DynamoDB, whose
        # own point-in-time recovery is on whenever this plan exists.
        plan = aws.backup.Plan(
            f"{name}-backup-plan",
            name=self._settings.resource_name("backup-plan"),
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily",
                    target_vault_name=vault.name,
                    schedule=BACKUP_SCHEDULE,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(
                        delete_after=BACKUP_RETENTION_DAYS
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.backup.Selection(
            f"{name}-backup-selection",
            name=self._settings.resource_name("tables"),
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=list(self.table_arns.values()),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_backup_role(
        self, name: str, vault: aws.backup.Vault, tables_key: aws.kms.Key | None
    ) -> aws.iam.Role:
        trust = self._account_id.apply(
            lambda account_id: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account_id}
                            },
                        }
                    ],
                }
            )
        )
        role = aws.iam.Role(
            f"{name}-backup-role",
            name=self._settings.resource_name("backup-role"),
            description="AWS Backup backs up and restores the tables with this role",
            assume_role_policy=trust,
            opts=pulumi.ResourceOptions(parent=self),
        )
        key_arn = tables_key.arn if tables_key is not None else None
        region = self._settings.region
        document = pulumi.Output.all(
            tables=pulumi.Output.all(*self.table_arns.values()),
            vault=vault.arn,
            key=key_arn,
        ).apply(
            lambda values: json.dumps(
                backup_role_policy(
                    values["tables"], values["vault"], values["key"], region
                )
            )
        )
        policy = aws.iam.Policy(
            f"{name}-backup-policy",
            name=self._settings.resource_name("backup-policy"),
            description="DynamoDB backup and restore actions on the PFMON tables only",
            policy=document,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-backup-policy-attachment",
            role=role.name,
            policy_arn=policy.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role
