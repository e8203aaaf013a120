"""Fuzz every operation of docs/openapi.json against the local API with schemathesis.

A user signs up at the emulated pool, and the test creates two accounts and an entry
so that generated account and entry ids sometimes name real items. Schemathesis then
generates valid and invalid requests for each operation of the document and sends
them with the user's token. No response may be a 5xx, and each must match the
document: a documented status, content type and headers, and a body that conforms to
the schema. Hypothesis runs derandomized, so every run draws the same cases, and only
the user's token and ids differ.

The cases come from `APIOperation.as_strategy`, because the fixture-based loader
`schemathesis.pytest.from_fixture` fails under pytest 9.2: schemathesis 4.32.5 reads
and sets `Function._nodeid`, which pytest 9.2 items no longer have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pfmon_api import routes
from tests.tools.local.conftest import (
    PROJECT_ROOT,
    RunningEnvironment,
    bearer,
    http,
    sign_in,
    sign_up,
    unique_email,
)

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"
# Per operation, both generation modes together: 25 keep this file at about 15 s on
# a 2-core machine.
EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ACCOUNT = {
    "name": "Fuzz cash",
    "broker": "Local",
    "currency": "USD",
    "startingBalance": 1000,
    "accountType": "cash",
}
ENTRY = {
    "instrument": {"kind": "stock", "symbol": "AAPL"},
    "executions": [
        {
            "side": "buy",
            "quantity": 100,
            "price": 10,
            "executedAt": "2026-01-05T14:30:00Z",
            "fees": 1,
        },
        {
            "side": "sell",
            "quantity": 100,
            "price": 12,
            "executedAt": "2026-01-05T15:30:00Z",
            "fees": "1.25",
        },
    ],
    "tags": ["breakout"],
}


@dataclass(frozen=True)
class FuzzUser:
    """The fuzzed user's token and the ids that generated requests can name."""

    token: str
    account_id: str
    # Only POST /accounts/{accountId}/archive names this one, so the other account
    # stays open for entries.
    account_to_archive: str
    entry_id: str


def create(env: RunningEnvironment, token: str, path: str, body: object) -> Any:
    response = http(
        f"{env.endpoints.api_url}{path}",
        "POST",
        {**bearer(token), "Content-Type": "application/json"},
        body,
    )
    assert response.status == 201, response.body
    return response.json()


@pytest.fixture(scope="module")
def fuzz_user(local_env: RunningEnvironment) -> FuzzUser:
    email = unique_email("fuzz")
    sign_up(local_env.endpoints, email)
    token = sign_in(local_env.endpoints, email)["IdToken"]
    account = create(local_env, token, "/accounts", ACCOUNT)
    to_archive = create(local_env, token, "/accounts", {**ACCOUNT, "name": "Old"})
    entry = create(
        local_env, token, "/entries", {**ENTRY, "accountId": account["accountId"]}
    )
    return FuzzUser(
        token=token,
        account_id=account["accountId"],
        account_to_archive=to_archive["accountId"],
        entry_id=entry["entryId"],
    )


def fuzz_config(user: FuzzUser) -> schemathesis.Config:
    """Return the config that draws account and entry ids from the user's items."""
    return schemathesis.Config.from_dict(
        {
            "dictionaries": {
                "accounts": {"values": [user.account_id]},
                "accounts-to-archive": {"values": [user.account_to_archive]},
                "entries": {"values": [user.entry_id]},
            },
            "parameters": {
                "path.accountId": {"dictionary": "accounts", "probability": 0.5},
                "query.accountId": {"dictionary": "accounts", "probability": 0.5},
                "body.accountId": {"dictionary": "accounts", "probability": 0.8},
                "path.entryId": {"dictionary": "entries", "probability": 0.5},
            },
            "operations": [
                {
                    "include-name": "POST /accounts/{accountId}/archive",
                    "parameters": {
                        "path.accountId": {
                            "dictionary": "accounts-to-archive",
                            "probability": 0.5,
                        }
                    },
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def api_schema(local_env: RunningEnvironment, fuzz_user: FuzzUser) -> BaseSchema:
    schema = schemathesis.openapi.from_path(DOCUMENT, config=fuzz_config(fuzz_user))
    schema.config.update(
        base_url=local_env.endpoints.api_url, headers=bearer(fuzz_user.token)
    )
    return schema


@pytest.mark.parametrize("route", routes.ROUTES, ids=lambda route: route.route_key)
def test_operation_conforms(api_schema: BaseSchema, route: routes.Route) -> None:
    operation = api_schema[route.path][route.method]
    cases = strategies.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    # Health checks would reject the slow, heavily filtered body strategies.
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def call_and_validate(case: Case[Any]) -> None:
        case.call_and_validate(checks=CHECKS)

    call_and_validate()
