"""The adoption checker against moto tables: findings, commands and exit status."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from components.settings import ConfigError, build_settings
from pfmon_api import tables
from tools import adopt
from tools.mock_runtime import StackRun, stack_config

REGION = "us-east-1"
TABLE = "aws:dynamodb/table:Table"
READ_OPERATIONS = {
    "DescribeTable",
    "DescribeContinuousBackups",
    "DescribeTimeToLive",
    "ListTagsOfResource",
}
Request = dict[str, Any]


@pytest.fixture(scope="module", autouse=True)
def aws_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point boto3 at fake credentials and no configuration files."""
    missing = tmp_path_factory.mktemp("aws") / "missing"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_SESSION_TOKEN", "testing")
        patch.setenv("AWS_CONFIG_FILE", str(missing))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
        for variable in (
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_DYNAMODB",
        ):
            patch.delenv(variable, raising=False)
        yield


@pytest.fixture(scope="module")
def moto_client(aws_credentials: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def delete_tables(client: Any) -> None:
    for name in client.list_tables()["TableNames"]:
        client.update_table(TableName=name, DeletionProtectionEnabled=False)
        client.delete_table(TableName=name)


@pytest.fixture
def client(moto_client: Any) -> Iterator[Any]:
    """Return a moto client with no tables, and delete the test's tables after it."""
    delete_tables(moto_client)
    yield moto_client
    delete_tables(moto_client)


def request_for(suffix: str, prefix: str = "pfmon-test") -> Request:
    definition = next(d for d in tables.TABLES if d.suffix == suffix)
    return tables.create_table_request(definition, f"{prefix}-{suffix}")


def create_tables(
    client: Any,
    prefix: str = "pfmon-test",
    change: dict[str, Callable[[Request], None]] | None = None,
    skip: tuple[str, ...] = (),
) -> None:
    """Create the four tables as pfmon_api.tables defines them, with changes."""
    for definition in tables.TABLES:
        if definition.suffix in skip:
            continue
        request = request_for(definition.suffix, prefix)
        edit = (change or {}).get(definition.suffix)
        if edit is not None:
            edit(request)
        client.create_table(**request)


def run_check(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = adopt.main(["check", *args], out=out)
    return code, out.getvalue()


def usage_exit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as caught:
        adopt.main(list(args), out=io.StringIO())
    code = caught.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err


def drop_indexes(request: Request) -> None:
    request.pop("GlobalSecondaryIndexes")
    request["AttributeDefinitions"] = [
        {"AttributeName": "userId", "AttributeType": "S"},
        {"AttributeName": "entryId", "AttributeType": "S"},
    ]


def settings_for(stack: str) -> Any:
    config = stack_config(stack)
    values = {
        k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("pfmon:")
    }
    return build_settings(values, stack, REGION)


# Matching tables


def test_matching_tables_exit_zero(client: Any) -> None:
    create_tables(client)
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_OK
    assert "  pulumi config set adoptTables all -s test\n" in output
    assert "No follow-up deploy is needed" in output


def test_matching_tables_import_as_is(client: Any) -> None:
    create_tables(client)
    _, output = run_check("--env", "test")
    for definition in tables.TABLES:
        name = f"pfmon-test-{definition.suffix}"
        assert f"{name}: can be imported as it is" in output
    assert "  change [" not in output
    assert "  blocking:" not in output


def test_check_only_reads(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a client that records every operation the checker sends
    create_tables(client, change={"JournalEntries": drop_indexes})
    operations: list[str] = []
    real_client = adopt._client

    def recording_client(region: str, endpoint_url: str | None) -> Any:
        dynamodb = real_client(region, endpoint_url)
        dynamodb.meta.events.register(
            "before-call.dynamodb",
            lambda model, **_: operations.append(model.name),
        )
        return dynamodb

    monkeypatch.setattr(adopt, "_client", recording_client)
    # WHEN the check runs, THEN it sent only read operations
    run_check("--env", "test")
    assert set(operations) == READ_OPERATIONS
    assert operations.count("DescribeTable") == 4


def test_check_leaves_tables_unchanged(client: Any) -> None:
    create_tables(client, change={"JournalEntries": drop_indexes})
    before = client.describe_table(TableName="pfmon-test-JournalEntries")["Table"]
    run_check("--env", "test")
    after = client.describe_table(TableName="pfmon-test-JournalEntries")["Table"]
    assert after == before


# Blocking differences


def range_key_id(request: Request) -> None:
    request["KeySchema"][1]["AttributeName"] = "id"
    request["AttributeDefinitions"] = [
        {"AttributeName": "userId", "AttributeType": "S"},
        {"AttributeName": "id", "AttributeType": "S"},
    ]


def test_key_schema_mismatch_blocks(client: Any) -> None:
    create_tables(client, change={"AccountData": range_key_id})
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_BLOCKED
    assert "pfmon-test-AccountData: BLOCKED, never import it" in output
    assert "live HASH userId (S), RANGE id (S)" in output
    assert "declared HASH userId (S), RANGE accountId (S)" in output


def test_key_schema_mismatch_no_command(client: Any) -> None:
    create_tables(client, change={"AccountData": range_key_id})
    _, output = run_check("--env", "test")
    assert "pulumi config set" not in output
    assert "No command: a blocked table must not be imported" in output


def test_key_type_mismatch_blocks(client: Any) -> None:
    def numeric_user_id(request: Request) -> None:
        request["AttributeDefinitions"] = [
            {"AttributeName": "userId", "AttributeType": "N"}
        ]

    create_tables(client, change={"UserProfiles": numeric_user_id})
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_BLOCKED
    assert "pfmon-test-UserProfiles: BLOCKED" in output
    assert "live HASH userId (N), declared HASH userId (S)" in output


def test_local_index_blocks(client: Any) -> None:
    def with_local_index(request: Request) -> None:
        request["AttributeDefinitions"].append(
            {"AttributeName": "createdAt", "AttributeType": "S"}
        )
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": "byCreated",
                "KeySchema": [
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": "createdAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]

    create_tables(client, change={"UserCredentials": with_local_index})
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_BLOCKED
    assert "blocking: local secondary indexes byCreated are not declared" in output


# Changes the follow-up deploy applies


def test_missing_indexes_follow_up(client: Any) -> None:
    # GIVEN a JournalEntries table created before its GSIs existed
    create_tables(client, change={"JournalEntries": drop_indexes})
    # WHEN checked, THEN it can be imported and each GSI is a follow-up change
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_OK
    for index in ("byDate", "bySymbol", "byAccount"):
        assert f"change [indexes]: GSI {index} (" in output
    assert "pfmon-test-JournalEntries: can be imported, and the follow-up" in output


def test_missing_indexes_commands(client: Any) -> None:
    create_tables(client, change={"JournalEntries": drop_indexes})
    _, output = run_check("--env", "test")
    import_value = "UserProfiles,JournalEntries:indexes,UserCredentials,AccountData"
    assert f"  pulumi config set adoptTables {import_value} -s test\n" in output
    follow_up = output.split("Follow-up deploy", 1)[1]
    assert "  pulumi config set adoptTables all -s test\n" in follow_up


def test_missing_indexes_one_at_a_time(client: Any) -> None:
    create_tables(client, change={"JournalEntries": drop_indexes})
    _, output = run_check("--env", "test")
    assert "UpdateTable creates or deletes one GSI per call" in output
    assert "builds these 3 indexes one after another" in output


def test_index_projection_recreated(client: Any) -> None:
    def keys_only_by_date(request: Request) -> None:
        request["GlobalSecondaryIndexes"][0]["Projection"] = {
            "ProjectionType": "KEYS_ONLY"
        }

    create_tables(client, change={"JournalEntries": keys_only_by_date})
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_OK
    assert "GSI byDate differs: live HASH userId (S), RANGE openedAtKey (S)" in output
    assert "projection KEYS_ONLY" in output
    assert "deletes and re-creates it" in output
    assert "GSI bySymbol" not in output


def test_undeclared_index_deleted(client: Any) -> None:
    def extra_index(request: Request) -> None:
        request["AttributeDefinitions"].append(
            {"AttributeName": "email", "AttributeType": "S"}
        )
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "byEmail",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]

    create_tables(client, change={"UserProfiles": extra_index})
    _, output = run_check("--env", "test")
    expected = "change [indexes]: GSI byEmail is not declared: the follow-up update"
    assert expected in output
    assert "adoptTables UserProfiles:indexes,JournalEntries," in output


def test_pitr_enabled_tolerated(client: Any) -> None:
    create_tables(client)
    client.update_continuous_backups(
        TableName="pfmon-test-UserProfiles",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_OK
    assert "change [pitr]: point-in-time recovery is enabled and the moderate" in output
    assert "adoptTables UserProfiles:pitr,JournalEntries," in output


def test_provisioned_billing_tolerated(client: Any) -> None:
    def provisioned(request: Request) -> None:
        request["BillingMode"] = "PROVISIONED"
        request["ProvisionedThroughput"] = {
            "ReadCapacityUnits": 5,
            "WriteCapacityUnits": 2,
        }

    create_tables(client, change={"AccountData": provisioned})
    _, output = run_check("--env", "test")
    assert "change [billing]: billing mode is PROVISIONED (read 5, write 2" in output
    assert "switches it to PAY_PER_REQUEST" in output
    assert "AccountData:billing -s test" in output


def test_deletion_protection_tolerated(client: Any) -> None:
    def protected(request: Request) -> None:
        request["DeletionProtectionEnabled"] = True

    create_tables(client, change={"UserCredentials": protected})
    _, output = run_check("--env", "test")
    assert "change [deletionProtection]: deletion protection is enabled" in output
    assert "UserCredentials:deletionProtection" in output


def test_stream_tolerated(client: Any) -> None:
    def streamed(request: Request) -> None:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_IMAGE",
        }

    create_tables(client, change={"UserProfiles": streamed})
    _, output = run_check("--env", "test")
    assert "change [stream]: the stream is enabled (NEW_IMAGE)" in output
    assert "UserProfiles:stream" in output


def test_cloudformation_owner_warned(client: Any) -> None:
    def cloudformation_tags(request: Request) -> None:
        request["Tags"] = [
            {"Key": "aws:cloudformation:stack-name", "Value": "pfmon-test"},
            {"Key": "team", "Value": "journal"},
        ]

    create_tables(client, change={"AccountData": cloudformation_tags})
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_OK
    assert "warning: CloudFormation stack pfmon-test still manages this" in output
    assert "change [tags]: tag keys team are not declared" in output
    assert "AccountData:tags -s test" in output


def test_ttl_kept_note(client: Any) -> None:
    create_tables(client)
    client.update_time_to_live(
        TableName="pfmon-test-UserCredentials",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"},
    )
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_OK
    assert "note: TTL on attribute expiresAt is not declared" in output
    assert "pulumi config set adoptTables all -s test" in output


def test_prod_follow_up_changes(client: Any) -> None:
    # GIVEN prod tables that match the keys but not the maximum tier
    create_tables(client, prefix="pfmon-prod")
    code, output = run_check("--env", "prod")
    assert code == adopt.EXIT_OK
    assert "change [pitr]: point-in-time recovery is disabled" in output
    assert "change [deletionProtection]: deletion protection is disabled" in output
    assert "switches it to the program's key alias/pfmon-prod-tables" in output
    tolerated = "pitr+deletionProtection+encryption"
    assert f"adoptTables UserProfiles:{tolerated},JournalEntries:" in output


# Missing tables


def test_missing_table_reported(client: Any) -> None:
    create_tables(client, skip=("UserCredentials",))
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_BLOCKED
    assert "pfmon-test-UserCredentials: not found" in output
    expected = "DescribeTable found no table pfmon-test-UserCredentials in us-east-1"
    assert expected in output


def test_missing_table_left_out(client: Any) -> None:
    create_tables(client, skip=("UserCredentials",))
    _, output = run_check("--env", "test")
    value = "UserProfiles,JournalEntries,AccountData"
    assert f"  pulumi config set adoptTables {value} -s test\n" in output


def test_no_tables_no_command(client: Any) -> None:
    code, output = run_check("--env", "test")
    assert code == adopt.EXIT_BLOCKED
    assert "No command: none of the tables exists." in output


def test_project_override_names(client: Any) -> None:
    create_tables(client, prefix="tj-test")
    code, output = run_check("--env", "test", "--project", "tj")
    assert code == adopt.EXIT_OK
    assert "tj-test-UserProfiles: can be imported as it is" in output
    assert "warning: the stack config sets projectName pfmon" in output


def test_region_option_used(client: Any) -> None:
    create_tables(client)
    code, output = run_check("--env", "test", "--region", "eu-west-1")
    assert code == adopt.EXIT_BLOCKED
    assert "found no table pfmon-test-UserProfiles in eu-west-1" in output


# AWS failures and arguments


def test_aws_error_exit_three(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class DeniedClient:
        def describe_table(self, **_: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
                "DescribeTable",
            )

    monkeypatch.setattr(adopt, "_client", lambda region, url: DeniedClient())
    code, _ = run_check("--env", "test")
    assert code == adopt.EXIT_AWS_ERROR
    assert (
        "error: reading table pfmon-test-UserProfiles failed" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required: command"),
        (("check",), "the following arguments are required: --env"),
        (("check", "--env", "staging"), "invalid choice: 'staging'"),
        (("verify", "--env", "test"), "invalid choice: 'verify'"),
        (
            ("check", "--env", "test", "--endpoint-url", "127.0.0.1:5000"),
            "--endpoint-url '127.0.0.1:5000' is not an HTTP URL",
        ),
        (
            ("check", "--env", "test", "--project", "PFMON"),
            "--project 'PFMON' is invalid: expected 2 to 20 lowercase letters",
        ),
        (
            ("check", "--env", "test", "--project", "BAD NAME"),
            "--project 'BAD NAME' is invalid",
        ),
        (
            ("check", "--env", "test", "--region", "moon-1"),
            "--region 'moon-1' is invalid: expected an AWS region such as us-east-1",
        ),
    ],
)
def test_bad_arguments_exit_two(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, error = usage_exit(capsys, *args)
    assert code == adopt.EXIT_USAGE
    assert message in error


@pytest.mark.parametrize(
    ("option", "value", "fix"),
    [
        (
            "--project",
            "BAD NAME",
            "or leave out --project to use projectName of the stack config",
        ),
        (
            "--region",
            "mars-1",
            "or leave out --region to use aws:region of the stack config",
        ),
    ],
)
def test_bad_flag_names_flag(
    capsys: pytest.CaptureFixture[str], option: str, value: str, fix: str
) -> None:
    # WHEN a flag, not the stack config, carries the invalid value
    code, error = usage_exit(capsys, "check", "--env", "test", option, value)
    # THEN the message names the flag and its fix, not a config key
    assert code == adopt.EXIT_USAGE
    assert f"error: {option} {value!r} is invalid" in error
    assert fix in error
    assert "pulumi config set" not in error
    assert "pfmon:projectName" not in error
    assert "aws:region" not in error.split("Fix:")[0]


def test_flag_rules_match_settings() -> None:
    # GIVEN values that build_settings accepts and rejects as the test stack's config
    values = {
        key.split(":", 1)[1]: value
        for key, value in stack_config("test").items()
        if key.startswith("pfmon:")
    }
    for project in ("pfmon", "tj", "a1-b2", "BAD NAME", "pfmon-", "1pfmon", "p"):
        accepted = not adopt.option_errors(project, None)
        assert accepted == _settings_accept(values, project, REGION), project
    for region in ("us-east-1", "us-gov-west-1", "mars-1", "us-east-1a", "EU-WEST-1"):
        accepted = not adopt.option_errors(None, region)
        assert accepted == _settings_accept(values, "pfmon", region), region


def _settings_accept(values: dict[str, str], project: str, region: str) -> bool:
    try:
        build_settings({**values, "projectName": project}, "test", region)
    except ConfigError:
        return False
    return True


# An emulator reached through --endpoint-url


def test_endpoint_url_reaches_emulator() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        emulator = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
        create_tables(emulator, change={"JournalEntries": drop_indexes})
        code, output = run_check("--env", "test", "--endpoint-url", endpoint)
    finally:
        server.stop()
    assert code == adopt.EXIT_OK
    assert "JournalEntries:indexes" in output


# The checker's declaration against the program's


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_declaration_matches_program(
    stack_runs: dict[str, StackRun], stack: str
) -> None:
    # GIVEN what the checker expects and what DataTables registered under mocks
    declared = {
        table.name: table for table in adopt.declared_tables(settings_for(stack))
    }
    for resource in stack_runs[stack].of_type(TABLE):
        inputs = resource.inputs
        table = declared[inputs["name"]]
        # THEN keys, billing, PITR, deletion protection and encryption agree
        keys = [(name, kind) for name, kind, _ in table.keys]
        expected_keys = [(inputs["hashKey"], "HASH")]
        if inputs.get("rangeKey"):
            expected_keys.append((inputs["rangeKey"], "RANGE"))
        assert keys == expected_keys, table.name
        types = {a["name"]: a["type"] for a in inputs["attributes"]}
        assert all(types[name] == kind for name, _, kind in table.keys), table.name
        assert inputs["billingMode"] == table.billing_mode
        assert inputs["pointInTimeRecovery"] == {"enabled": table.pitr}
        assert inputs["deletionProtectionEnabled"] is table.deletion_protection
        has_key = inputs.get("serverSideEncryption") is not None
        assert has_key is table.customer_managed_key, table.name


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_declared_indexes_match_program(
    stack_runs: dict[str, StackRun], stack: str
) -> None:
    declared = {
        table.name: table for table in adopt.declared_tables(settings_for(stack))
    }
    for resource in stack_runs[stack].of_type(TABLE):
        table = declared[resource.inputs["name"]]
        program = [
            (
                index["name"],
                [(k["attributeName"], k["keyType"]) for k in index["keySchemas"]],
                index["projectionType"],
            )
            for index in resource.inputs.get("globalSecondaryIndexes", [])
        ]
        checker = [
            (index.name, [(n, kind) for n, kind, _ in index.keys], index.projection)
            for index in table.indexes
        ]
        assert checker == program, table.name


# The comparison on descriptions moto cannot produce


def live_table(client: Any, suffix: str, **changes: Any) -> adopt.LiveTable:
    client.create_table(**request_for(suffix))
    live = adopt.read_table(client, f"pfmon-test-{suffix}")
    assert live is not None
    return adopt.LiveTable(
        description={**live.description, **changes},
        pitr_enabled=live.pitr_enabled,
        ttl=live.ttl,
        tags=live.tags,
    )


def findings_for(live: adopt.LiveTable, suffix: str) -> list[adopt.Finding]:
    settings = settings_for("test")
    declared = next(t for t in adopt.declared_tables(settings) if t.suffix == suffix)
    return adopt.compare(declared, live, settings)


def test_table_not_active_blocks(client: Any) -> None:
    live = live_table(client, "UserProfiles", TableStatus="UPDATING")
    [blocking] = [
        f for f in findings_for(live, "UserProfiles") if f.severity == "blocking"
    ]
    assert blocking.message.startswith("table status is UPDATING: wait until")


def test_table_class_tolerated(client: Any) -> None:
    live = live_table(
        client,
        "UserProfiles",
        TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"},
    )
    changes = [f for f in findings_for(live, "UserProfiles") if f.severity == "change"]
    assert [f.tolerance for f in changes] == ["tableClass"]
    assert "switches it to STANDARD" in changes[0].message


def test_replicas_tolerated(client: Any) -> None:
    replicas = [{"RegionName": "eu-west-1"}, {"RegionName": "us-west-2"}]
    live = live_table(client, "AccountData", Replicas=replicas)
    changes = [f for f in findings_for(live, "AccountData") if f.severity == "change"]
    assert [f.tolerance for f in changes] == ["replicas"]
    assert "replicas in eu-west-1, us-west-2 are not declared" in changes[0].message


def test_adopt_value_forms() -> None:
    settings = settings_for("test")
    declared = adopt.declared_tables(settings)
    reports = [adopt.TableReport(table, found=True) for table in declared]
    assert adopt.adopt_value(reports, tolerate=True) == "all"
    reports[1].findings.append(adopt.Finding("change", "x", "pitr"))
    reports[1].findings.append(adopt.Finding("change", "y", "indexes"))
    tolerant = "UserProfiles,JournalEntries:indexes+pitr,UserCredentials,AccountData"
    assert adopt.adopt_value(reports, tolerate=True) == tolerant
    assert adopt.adopt_value(reports, tolerate=False) == "all"
