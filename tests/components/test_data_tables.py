"""DataTables under Pulumi mocks: exact inputs and options of each child, per stack."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pulumi
import pytest

from components.data_tables import validate_definitions
from pfmon_api import tables as schema
from tools.mock_runtime import ACCOUNT_ID, RecordedResource, StackRun, run_stack

TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
VAULT = "aws:backup/vault:Vault"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
COMPONENT = "pfmon:components:DataTables"

TABLE_NAMES = {
    "dev": [
        "pfmon-dev-UserProfiles",
        "pfmon-dev-JournalEntries",
        "pfmon-dev-UserCredentials",
        "pfmon-dev-AccountData",
    ],
    "test": [
        "pfmon-test-UserProfiles",
        "pfmon-test-JournalEntries",
        "pfmon-test-UserCredentials",
        "pfmon-test-AccountData",
    ],
    "prod": [
        "pfmon-prod-UserProfiles",
        "pfmon-prod-JournalEntries",
        "pfmon-prod-UserCredentials",
        "pfmon-prod-AccountData",
    ],
}
# Tier switches: PITR, deletion protection, protect and retainOnDelete, which adopted
# tables always have.
PROTECTED = {"dev": False, "test": False, "prod": True}
# Pulumi.test.yaml adopts the existing pfmon-test-* tables, which are always retained.
TABLES_RETAINED = {"dev": False, "test": True, "prod": True}
BACKUP_CHILDREN = {
    "data-backup-vault",
    "data-backup-plan",
    "data-backup-selection",
    "data-backup-role",
    "data-backup-policy",
    "data-backup-policy-attachment",
}
EVERY_TIER_CHILDREN = {
    "data-user-profiles",
    "data-journal-entries",
    "data-user-credentials",
    "data-account-data",
    "data-credentials-key",
    "data-credentials-key-alias",
}
PROD_CHILDREN = (
    EVERY_TIER_CHILDREN
    | BACKUP_CHILDREN
    | {
        "data-tables-key",
        "data-tables-key-alias",
    }
)
KEY_USE_ACTIONS = {
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:CreateGrant",
}
ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"


def resolve(output: pulumi.Output[Any]) -> Any:
    """Return the value of an output of a finished mock run.

    A private event loop leaves the thread's current loop, which Pulumi's runtime
    uses in the next mock run, as it is. `asyncio.run` would unset it.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(output.future())
    finally:
        loop.close()


def table_of(run: StackRun, definition: schema.TableDefinition) -> RecordedResource:
    return run.one(TABLE, f"data-{definition.logical_id}")


def policy_of(resource: RecordedResource, key: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource.inputs[key])
    return document


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        s for s in document["Statement"] if s.get("Sid") == sid
    ]
    assert len(found) == 1, f"expected one statement {sid}, found {len(found)}"
    return found[0]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.fixture(scope="module")
def dev_with_backups() -> StackRun:
    """Return dev with the backups override: a backup plan without a table key."""
    return run_stack("dev", {"backups": "true"})


# Tables


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_table_names_per_stack(stack_runs: dict[str, StackRun], stack: str) -> None:
    names = [table_of(stack_runs[stack], d).inputs["name"] for d in schema.TABLES]
    assert names == TABLE_NAMES[stack]


@pytest.mark.parametrize("definition", schema.TABLES, ids=lambda d: d.suffix)
def test_table_keys_match_schema(
    stack_run: StackRun, definition: schema.TableDefinition
) -> None:
    inputs = table_of(stack_run, definition).inputs
    assert inputs["hashKey"] == definition.keys.hash_key
    assert inputs.get("rangeKey") == definition.keys.range_key


@pytest.mark.parametrize("definition", schema.TABLES, ids=lambda d: d.suffix)
def test_table_indexes_match_schema(
    stack_run: StackRun, definition: schema.TableDefinition
) -> None:
    expected = []
    for index in definition.indexes:
        key_schemas = [{"attributeName": index.keys.hash_key, "keyType": "HASH"}]
        if index.keys.range_key:
            key_schemas.append(
                {"attributeName": index.keys.range_key, "keyType": "RANGE"}
            )
        expected.append(
            {"name": index.name, "keySchemas": key_schemas, "projectionType": "ALL"}
        )
    inputs = table_of(stack_run, definition).inputs
    assert inputs.get("globalSecondaryIndexes", []) == expected


def test_journal_entries_has_three_indexes(stack_run: StackRun) -> None:
    # GIVEN the schema's JournalEntries table, WHEN deployed, THEN every GSI is there.
    indexes = table_of(stack_run, schema.JOURNAL_ENTRIES).inputs[
        "globalSecondaryIndexes"
    ]
    assert [index["name"] for index in indexes] == ["byDate", "bySymbol", "byAccount"]


@pytest.mark.parametrize("definition", schema.TABLES, ids=lambda d: d.suffix)
def test_table_declares_key_attributes_only(
    stack_run: StackRun, definition: schema.TableDefinition
) -> None:
    keys = [definition.keys, *(index.keys for index in definition.indexes)]
    key_names = {k.hash_key for k in keys} | {k.range_key for k in keys if k.range_key}
    declared = table_of(stack_run, definition).inputs["attributes"]
    assert {attribute["name"] for attribute in declared} == key_names
    assert {a["name"]: a["type"] for a in declared} == definition.attributes


def test_tables_billed_on_demand(stack_run: StackRun) -> None:
    for definition in schema.TABLES:
        assert (
            table_of(stack_run, definition).inputs["billingMode"] == "PAY_PER_REQUEST"
        )


def test_table_pitr_per_stack(stack_run: StackRun) -> None:
    for definition in schema.TABLES:
        pitr = table_of(stack_run, definition).inputs["pointInTimeRecovery"]
        assert pitr == {"enabled": PROTECTED[stack_run.stack]}, definition.suffix


def test_table_deletion_protection_per_stack(stack_run: StackRun) -> None:
    for definition in schema.TABLES:
        inputs = table_of(stack_run, definition).inputs
        expected = PROTECTED[stack_run.stack]
        assert inputs["deletionProtectionEnabled"] is expected, definition.suffix


def test_table_protect_and_retain(stack_run: StackRun) -> None:
    retained = TABLES_RETAINED[stack_run.stack]
    for definition in schema.TABLES:
        table = table_of(stack_run, definition)
        assert table.protect is PROTECTED[stack_run.stack], definition.suffix
        assert table.retain_on_delete is retained, definition.suffix


def test_table_attributes_exposed(stack_run: StackRun) -> None:
    component = stack_run.program["tables"]
    suffixes = [definition.suffix for definition in schema.TABLES]
    assert list(component.tables) == suffixes
    names = {suffix: resolve(name) for suffix, name in component.table_names.items()}
    assert list(names.values()) == TABLE_NAMES[stack_run.stack]
    for definition in schema.TABLES:
        arn = resolve(component.table_arns[definition.suffix])
        assert arn == table_of(stack_run, definition).outputs["arn"]


def test_table_names_exported(stack_run: StackRun) -> None:
    exported = stack_run.outputs["tableNames"]
    assert list(exported.values()) == TABLE_NAMES[stack_run.stack]


# Table key (customer-managed, prod only)


def test_tables_key_prod_only(stack_run: StackRun) -> None:
    keys = [key for key in stack_run.of_type(KEY) if key.name == "data-tables-key"]
    assert len(keys) == (1 if stack_run.stack == "prod" else 0)


def test_tables_key_settings_prod(stack_runs: dict[str, StackRun]) -> None:
    key = stack_runs["prod"].one(KEY, "data-tables-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.inputs["description"]
    assert key.protect is True
    assert key.retain_on_delete is True


def test_tables_key_alias_prod(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    alias = run.one(ALIAS, "data-tables-key-alias")
    assert alias.inputs["name"] == "alias/pfmon-prod-tables"
    key = run.one(KEY, "data-tables-key")
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def test_tables_key_policy_root(stack_runs: dict[str, StackRun]) -> None:
    # DynamoDB creates grants for callers, so the account uses the key through IAM.
    document = policy_of(stack_runs["prod"].one(KEY, "data-tables-key"))
    admin = statement(document, "AccountAdministersKey")
    use = statement(document, "AccountUsesKey")
    assert admin["Principal"] == {"AWS": ROOT}
    assert use["Principal"] == {"AWS": ROOT}
    assert {"kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"} <= set(use["Action"])
    assert len(document["Statement"]) == 2


def test_tables_encrypted_with_key_prod(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    key_arn = run.one(KEY, "data-tables-key").outputs["arn"]
    for definition in schema.TABLES:
        encryption = table_of(run, definition).inputs["serverSideEncryption"]
        assert encryption == {"enabled": True, "kmsKeyArn": key_arn}, definition.suffix


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_tables_default_encryption_nonprod(
    stack_runs: dict[str, StackRun], stack: str
) -> None:
    for definition in schema.TABLES:
        inputs = table_of(stack_runs[stack], definition).inputs
        assert inputs.get("serverSideEncryption") is None, definition.suffix


# Credentials envelope key (every stack)


def test_credentials_key_settings(stack_run: StackRun) -> None:
    key = stack_run.one(KEY, "data-credentials-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert f"pfmon-{stack_run.stack}-UserCredentials" in key.inputs["description"]


def test_credentials_key_protect(stack_run: StackRun) -> None:
    key = stack_run.one(KEY, "data-credentials-key")
    assert key.protect is PROTECTED[stack_run.stack]
    assert key.retain_on_delete is PROTECTED[stack_run.stack]


def test_credentials_key_alias(stack_run: StackRun) -> None:
    alias = stack_run.one(ALIAS, "data-credentials-key-alias")
    assert alias.inputs["name"] == f"alias/pfmon-{stack_run.stack}-credentials"
    key = stack_run.one(KEY, "data-credentials-key")
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def test_credentials_key_root_cannot_use(stack_run: StackRun) -> None:
    document = policy_of(stack_run.one(KEY, "data-credentials-key"))
    admin = statement(document, "AccountAdministersKey")
    assert admin["Principal"] == {"AWS": ROOT}
    assert "Condition" not in admin
    assert "kms:PutKeyPolicy" in admin["Action"]
    assert set(admin["Action"]).isdisjoint(KEY_USE_ACTIONS)
    assert all("*" not in action for action in admin["Action"])


def test_credentials_key_role_condition(stack_run: StackRun) -> None:
    document = policy_of(stack_run.one(KEY, "data-credentials-key"))
    use = statement(document, "CredentialsFunctionUsesKey")
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/pfmon-credentials-{stack_run.stack}-role"
    assert use["Principal"] == {"AWS": ROOT}
    assert use["Condition"] == {"StringEquals": {"aws:PrincipalArn": [role]}}
    assert use["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]


def test_credentials_key_two_statements(stack_run: StackRun) -> None:
    document = policy_of(stack_run.one(KEY, "data-credentials-key"))
    assert [s["Sid"] for s in document["Statement"]] == [
        "AccountAdministersKey",
        "CredentialsFunctionUsesKey",
    ]
    assert all(s["Effect"] == "Allow" for s in document["Statement"])


def test_credentials_key_arn_attribute(stack_run: StackRun) -> None:
    key = stack_run.one(KEY, "data-credentials-key")
    arn = resolve(stack_run.program["tables"].credentials_key_arn)
    assert arn == key.outputs["arn"]


# AWS Backup (prod only)


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_no_backup_nonprod(stack_runs: dict[str, StackRun], stack: str) -> None:
    names = {resource.name for resource in stack_runs[stack].resources}
    assert names.isdisjoint(BACKUP_CHILDREN)
    assert not stack_runs[stack].of_type(VAULT)
    assert not stack_runs[stack].of_type(PLAN)
    assert not stack_runs[stack].of_type(SELECTION)


def test_backup_vault_prod(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    vault = run.one(VAULT, "data-backup-vault")
    assert vault.inputs["name"] == "pfmon-prod-backup"
    assert vault.inputs["kmsKeyArn"] == run.one(KEY, "data-tables-key").outputs["arn"]
    assert vault.protect is True
    assert vault.retain_on_delete is True


def test_backup_plan_daily_rule(stack_runs: dict[str, StackRun]) -> None:
    plan = stack_runs["prod"].one(PLAN, "data-backup-plan")
    [rule] = plan.inputs["rules"]
    assert rule["ruleName"] == "daily"
    assert rule["schedule"] == "cron(0 3 * * ? *)"
    assert rule["lifecycle"] == {"deleteAfter": 35}
    assert rule["targetVaultName"] == "pfmon-prod-backup"
    assert not rule.get("enableContinuousBackup")


def test_backup_selection_four_tables(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    selection = run.one(SELECTION, "data-backup-selection")
    table_arns = [table_of(run, d).outputs["arn"] for d in schema.TABLES]
    assert selection.inputs["resources"] == table_arns
    assert len(set(selection.inputs["resources"])) == 4
    assert "selectionTags" not in selection.inputs
    assert "conditions" not in selection.inputs


def test_backup_selection_uses_role(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    selection = run.one(SELECTION, "data-backup-selection")
    role = run.one(ROLE, "data-backup-role")
    assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
    assert selection.inputs["planId"]


def test_backup_role_trust(stack_runs: dict[str, StackRun]) -> None:
    role = stack_runs["prod"].one(ROLE, "data-backup-role")
    [trust] = policy_of(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs


def test_backup_policy_attached(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    attachment = run.one(ATTACHMENT, "data-backup-policy-attachment")
    assert attachment.inputs["role"] == run.one(ROLE, "data-backup-role").inputs["name"]
    policy_arn = run.one(POLICY, "data-backup-policy").outputs["arn"]
    assert attachment.inputs["policyArn"] == policy_arn
    assert not policy_arn.startswith("arn:aws:iam::aws:policy/")


def test_backup_policy_actions(stack_runs: dict[str, StackRun]) -> None:
    document = policy_of(stack_runs["prod"].one(POLICY, "data-backup-policy"))
    actions = {a for s in document["Statement"] for a in as_list(s["Action"])}
    for needed in (
        "dynamodb:CreateBackup",
        "dynamodb:DescribeTable",
        "dynamodb:StartAwsBackupJob",
        "dynamodb:RestoreTableFromAwsBackup",
        "dynamodb:RestoreTableFromBackup",
        "dynamodb:DescribeBackup",
    ):
        assert needed in actions
    assert all("*" not in action for action in actions)
    assert all(s["Effect"] == "Allow" for s in document["Statement"])


def test_backup_policy_resources(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    document = policy_of(run.one(POLICY, "data-backup-policy"))
    table_arns = {table_of(run, d).outputs["arn"] for d in schema.TABLES}
    allowed = (
        table_arns
        | {f"{arn}/backup/*" for arn in table_arns}
        | {run.one(VAULT, "data-backup-vault").outputs["arn"]}
        | {run.one(KEY, "data-tables-key").outputs["arn"]}
    )
    resources = {r for s in document["Statement"] for r in as_list(s["Resource"])}
    assert resources == allowed


def test_backup_policy_key_conditions(stack_runs: dict[str, StackRun]) -> None:
    document = policy_of(stack_runs["prod"].one(POLICY, "data-backup-policy"))
    use = statement(document, "UseTablesKey")
    assert use["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                "dynamodb.us-east-1.amazonaws.com",
                "backup.us-east-1.amazonaws.com",
            ]
        }
    }
    grant = statement(document, "GrantTablesKeyToServices")
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


# Component


def test_children_parented_to_component(stack_run: StackRun) -> None:
    component = stack_run.one(COMPONENT)
    children = {child.name for child in stack_run.children_of(component)}
    expected = PROD_CHILDREN if stack_run.stack == "prod" else EVERY_TIER_CHILDREN
    assert children == expected
    stray = [r.name for r in stack_run.resources if r.name.startswith("data-")]
    assert sorted(stray) == sorted(expected)


# Tier override: backups on in dev, without a customer-managed key


def test_dev_backups_override_plan(dev_with_backups: StackRun) -> None:
    selection = dev_with_backups.one(SELECTION, "data-backup-selection")
    assert len(selection.inputs["resources"]) == 4
    vault = dev_with_backups.one(VAULT, "data-backup-vault")
    assert vault.inputs["name"] == "pfmon-dev-backup"
    assert vault.inputs.get("kmsKeyArn") is None


def test_dev_backups_override_pitr(dev_with_backups: StackRun) -> None:
    for definition in schema.TABLES:
        inputs = table_of(dev_with_backups, definition).inputs
        assert inputs["pointInTimeRecovery"] == {"enabled": True}, definition.suffix
        assert inputs["deletionProtectionEnabled"] is False, definition.suffix


def test_dev_backups_override_no_key(dev_with_backups: StackRun) -> None:
    document = policy_of(dev_with_backups.one(POLICY, "data-backup-policy"))
    sids = [s["Sid"] for s in document["Statement"]]
    assert sids == [
        "BackUpTables",
        "ManageTableBackups",
        "RestoreTables",
        "UseBackupVault",
    ]
    assert not [k for k in dev_with_backups.of_type(KEY) if k.name == "data-tables-key"]


# Schema validation


def test_validate_rejects_unused_attribute() -> None:
    # GIVEN a table that declares an attribute no key uses
    definition = schema.TableDefinition(
        logical_id="notes",
        suffix="Notes",
        keys=schema.KeySchema("userId"),
        attributes={"userId": "S", "title": "S"},
    )
    # WHEN validated, THEN the error names the table and the attributes
    with pytest.raises(pulumi.RunError, match=r"table Notes declares .*'title'"):
        validate_definitions([definition])


def test_validate_rejects_undeclared_key() -> None:
    definition = schema.TableDefinition(
        logical_id="notes",
        suffix="Notes",
        keys=schema.KeySchema("userId", "noteId"),
        attributes={"userId": "S"},
    )
    with pytest.raises(pulumi.RunError, match=r"use \['noteId', 'userId'\]"):
        validate_definitions([definition])


def test_validate_rejects_duplicate_suffix() -> None:
    with pytest.raises(pulumi.RunError, match=r"\['UserProfiles'\] appear more"):
        validate_definitions([schema.USER_PROFILES, schema.USER_PROFILES])


def test_validate_accepts_schema() -> None:
    validate_definitions(schema.TABLES)
