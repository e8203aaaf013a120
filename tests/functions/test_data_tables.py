"""Table lookup of the data modules: names come from environment variables."""

from __future__ import annotations

import pytest

from pfmon_api import errors, tables
from pfmon_api.data import (
    account_data,
    journal_entries,
    user_credentials,
    user_profiles,
)

TABLE_MODULES = [user_profiles, journal_entries, account_data, user_credentials]


def test_every_table_has_module() -> None:
    covered = {module.TABLE.suffix for module in TABLE_MODULES}

    assert covered == {definition.suffix for definition in tables.TABLES}


@pytest.mark.parametrize(
    "module",
    [journal_entries, account_data, user_credentials],
    ids=lambda m: m.__name__,
)
def test_table_reads_variable(module: object, table_names: dict[str, str]) -> None:
    definition = module.TABLE  # type: ignore[attr-defined]

    table = module.table()  # type: ignore[attr-defined]

    assert table.name == table_names[definition.suffix]


@pytest.mark.parametrize(
    "module",
    [journal_entries, account_data, user_credentials],
    ids=lambda m: m.__name__,
)
def test_unset_variable_names_it(
    module: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = tables.TABLE_ENV_VARS[module.TABLE.suffix]  # type: ignore[attr-defined]
    monkeypatch.delenv(variable, raising=False)

    with pytest.raises(errors.ConfigurationError, match=variable):
        module.table()  # type: ignore[attr-defined]
