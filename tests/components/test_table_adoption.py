"""DataTables adopting existing tables: import ids, options and unchanged keys."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import pulumi
import pytest

from components.data_tables import TOLERATED_INPUTS, validate_adoptions
from components.settings import (
    ADOPTION_TOLERANCES,
    TABLE_SUFFIXES,
    ConfigError,
    StackSettings,
    TableAdoption,
    build_settings,
)
from pfmon_api import tables as schema
from tools.mock_runtime import RecordedResource, StackRun, run_stack, stack_config

TABLE = "aws:dynamodb/table:Table"
EVERY_TOLERANCE = "+".join(ADOPTION_TOLERANCES)
# UserCredentials is created; the other tables are adopted with and without tolerances.
PARTIAL = f"UserProfiles,JournalEntries:indexes+pitr,AccountData:{EVERY_TOLERANCE}"
# Inputs that decide a table's keys; adoption must never change them.
KEY_INPUTS = ("hashKey", "rangeKey", "attributes")


def table_of(run: StackRun, definition: schema.TableDefinition) -> RecordedResource:
    return run.one(TABLE, f"data-{definition.logical_id}")


def index_keys(resource: RecordedResource) -> list[object]:
    indexes = resource.inputs.get("globalSecondaryIndexes", [])
    return [(index["name"], index["keySchemas"]) for index in indexes]


class WarningCollector(logging.Handler):
    """Collect the warnings that the mock engine logs for pulumi.log.warn."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_collecting_warnings(adopt_tables: str) -> tuple[StackRun, list[str]]:
    collector = WarningCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        run = run_stack("test", {"adoptTables": adopt_tables})
    finally:
        root.removeHandler(collector)
    return run, [m for m in collector.messages if "adoptTables" in m]


@pytest.fixture(scope="module")
def adopted_with_warnings() -> tuple[StackRun, list[str]]:
    return run_collecting_warnings("all")


@pytest.fixture(scope="module")
def partial_with_warnings() -> tuple[StackRun, list[str]]:
    return run_collecting_warnings(PARTIAL)


@pytest.fixture(scope="module")
def adopted(adopted_with_warnings: tuple[StackRun, list[str]]) -> StackRun:
    return adopted_with_warnings[0]


@pytest.fixture(scope="module")
def partial(partial_with_warnings: tuple[StackRun, list[str]]) -> StackRun:
    return partial_with_warnings[0]


@pytest.fixture(scope="module")
def created() -> StackRun:
    return run_stack("test", {"adoptTables": ""})


@pytest.fixture(scope="module")
def other_tiers() -> Iterator[dict[str, StackRun]]:
    """Return dev and prod with every table adopted."""
    yield {stack: run_stack(stack, {"adoptTables": "all"}) for stack in ("dev", "prod")}


# Import ids


def test_import_id_is_physical_name(adopted: StackRun) -> None:
    for definition in schema.TABLES:
        table = table_of(adopted, definition)
        assert table.import_id == f"pfmon-test-{definition.suffix}"
        assert table.import_id == table.inputs["name"]


def test_created_tables_no_import_id(created: StackRun) -> None:
    for definition in schema.TABLES:
        assert table_of(created, definition).import_id is None, definition.suffix


def test_partial_adoption_import_ids(partial: StackRun) -> None:
    import_ids = {d.suffix: table_of(partial, d).import_id for d in schema.TABLES}
    assert import_ids == {
        "UserProfiles": "pfmon-test-UserProfiles",
        "JournalEntries": "pfmon-test-JournalEntries",
        "UserCredentials": None,
        "AccountData": "pfmon-test-AccountData",
    }


def test_only_tables_imported(adopted: StackRun) -> None:
    imported = [r.name for r in adopted.resources if r.import_id is not None]
    assert sorted(imported) == sorted(f"data-{d.logical_id}" for d in schema.TABLES)


# Keys and inputs


@pytest.mark.parametrize("definition", schema.TABLES, ids=lambda d: d.suffix)
def test_key_schema_same_when_adopted(
    adopted: StackRun, created: StackRun, definition: schema.TableDefinition
) -> None:
    # GIVEN the same table created and adopted, THEN every key input is identical
    adopted_table = table_of(adopted, definition)
    created_table = table_of(created, definition)
    for key in KEY_INPUTS:
        assert adopted_table.inputs.get(key) == created_table.inputs.get(key), key
    assert index_keys(adopted_table) == index_keys(created_table)


@pytest.mark.parametrize("definition", schema.TABLES, ids=lambda d: d.suffix)
def test_key_schema_matches_definition(
    adopted: StackRun, definition: schema.TableDefinition
) -> None:
    inputs = table_of(adopted, definition).inputs
    assert inputs["hashKey"] == definition.keys.hash_key
    assert inputs.get("rangeKey") == definition.keys.range_key
    declared = {a["name"]: a["type"] for a in inputs["attributes"]}
    assert declared == definition.attributes


@pytest.mark.parametrize("definition", schema.TABLES, ids=lambda d: d.suffix)
def test_inputs_same_when_adopted(
    adopted: StackRun, created: StackRun, definition: schema.TableDefinition
) -> None:
    # Adoption changes options only, so the import deploy declares the same table.
    assert table_of(adopted, definition).inputs == table_of(created, definition).inputs


# Options


def test_adopted_tables_retained_test(adopted: StackRun) -> None:
    for definition in schema.TABLES:
        assert table_of(adopted, definition).retain_on_delete is True, definition.suffix


def test_created_tables_not_retained_test(created: StackRun) -> None:
    for definition in schema.TABLES:
        table = table_of(created, definition)
        assert table.retain_on_delete is False, definition.suffix


def test_partial_adoption_retains_adopted(partial: StackRun) -> None:
    retained = {d.suffix: table_of(partial, d).retain_on_delete for d in schema.TABLES}
    assert retained == {
        "UserProfiles": True,
        "JournalEntries": True,
        "UserCredentials": False,
        "AccountData": True,
    }


def test_adopted_tables_retained_dev(other_tiers: dict[str, StackRun]) -> None:
    # GIVEN the relaxed tier, which retains nothing it creates
    run = other_tiers["dev"]
    for definition in schema.TABLES:
        table = table_of(run, definition)
        assert table.retain_on_delete is True, definition.suffix
        assert table.protect is False, definition.suffix
        assert table.import_id == f"pfmon-dev-{definition.suffix}"


def test_adopted_protect_follows_tier(
    adopted: StackRun, other_tiers: dict[str, StackRun]
) -> None:
    prod = other_tiers["prod"]
    for definition in schema.TABLES:
        assert table_of(adopted, definition).protect is False, definition.suffix
        assert table_of(prod, definition).protect is True, definition.suffix
        assert table_of(prod, definition).retain_on_delete is True, definition.suffix


def test_adoption_ignores_nothing(adopted: StackRun) -> None:
    for definition in schema.TABLES:
        assert table_of(adopted, definition).ignore_changes == (), definition.suffix


def test_tolerated_changes_ignored(partial: StackRun) -> None:
    journal = table_of(partial, schema.JOURNAL_ENTRIES)
    assert journal.ignore_changes == (
        "globalSecondaryIndexes",
        "attributes",
        "pointInTimeRecovery",
    )
    assert table_of(partial, schema.USER_PROFILES).ignore_changes == ()


def test_every_tolerance_ignores_inputs(partial: StackRun) -> None:
    account_data = table_of(partial, schema.ACCOUNT_DATA)
    expected = tuple(
        name for change in ADOPTION_TOLERANCES for name in TOLERATED_INPUTS[change]
    )
    assert account_data.ignore_changes == expected


def test_tolerance_never_ignores_keys(partial: StackRun) -> None:
    ignored = set(table_of(partial, schema.ACCOUNT_DATA).ignore_changes)
    assert ignored.isdisjoint({"hashKey", "rangeKey", "name", "localSecondaryIndexes"})


def test_tolerances_all_mapped() -> None:
    assert set(TOLERATED_INPUTS) == set(ADOPTION_TOLERANCES)


def test_tolerance_warning_logged(
    partial_with_warnings: tuple[StackRun, list[str]],
) -> None:
    # GIVEN two tables with tolerated changes, THEN each deploy warns once per table
    _, warnings = partial_with_warnings
    assert len(warnings) == 2
    [journal] = [w for w in warnings if w.startswith("pfmon-test-JournalEntries")]
    assert journal.startswith(
        "pfmon-test-JournalEntries ignores changes to globalSecondaryIndexes, "
        "attributes, pointInTimeRecovery because adoptTables tolerates indexes+pitr"
    )
    assert "remove ':indexes+pitr' from adoptTables" in journal
    assert not [w for w in warnings if w.startswith("pfmon-test-UserProfiles")]


def test_no_warning_without_tolerance(
    adopted_with_warnings: tuple[StackRun, list[str]],
) -> None:
    _, warnings = adopted_with_warnings
    assert warnings == []


# Stack files


def test_test_stack_adopts_all(stack_runs: dict[str, StackRun]) -> None:
    # Pulumi.test.yaml adopts the existing tables without tolerated changes.
    run = stack_runs["test"]
    for definition in schema.TABLES:
        table = table_of(run, definition)
        assert table.import_id == f"pfmon-test-{definition.suffix}"
        assert table.ignore_changes == ()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_other_stacks_not_adopted(stack_runs: dict[str, StackRun], stack: str) -> None:
    for definition in schema.TABLES:
        table = table_of(stack_runs[stack], definition)
        assert table.import_id is None, definition.suffix
        assert table.ignore_changes == (), definition.suffix


def test_prod_retain_unchanged(stack_runs: dict[str, StackRun]) -> None:
    for definition in schema.TABLES:
        table = table_of(stack_runs["prod"], definition)
        assert table.protect is True, definition.suffix
        assert table.retain_on_delete is True, definition.suffix


# Invalid adoptions


def test_invalid_adoption_stops_program() -> None:
    with pytest.raises(ConfigError, match=r"unknown table 'Journal'") as caught:
        run_stack("test", {"adoptTables": "Journal"})
    assert ", ".join(TABLE_SUFFIXES) in str(caught.value)


def settings_with(*adoptions: TableAdoption) -> StackSettings:
    config = stack_config("dev")
    values = {
        k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("pfmon:")
    }
    settings = build_settings(values, "dev", "us-east-1")
    return dataclasses.replace(settings, adopted_tables=adoptions)


def test_validate_rejects_unknown_table() -> None:
    settings = settings_with(TableAdoption("Notes"))
    with pytest.raises(pulumi.RunError, match=r"adoptTables names table Notes"):
        validate_adoptions(settings, schema.TABLES)


def test_validate_rejects_unmapped_change() -> None:
    settings = settings_with(TableAdoption("UserProfiles", ("ttl",)))
    with pytest.raises(pulumi.RunError, match=r"tolerates \['ttl'\] for UserProfiles"):
        validate_adoptions(settings, schema.TABLES)


def test_validate_accepts_every_table() -> None:
    adoptions = [TableAdoption(s, ADOPTION_TOLERANCES) for s in TABLE_SUFFIXES]
    validate_adoptions(settings_with(*adoptions), schema.TABLES)


def test_suffixes_match_schema() -> None:
    assert tuple(d.suffix for d in schema.TABLES) == TABLE_SUFFIXES
