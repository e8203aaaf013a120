"""docs/openapi.json: generated from the route table and the models, and kept current.

`tools.openapi` builds the document. These tests check the committed file against a
fresh build, the document against `routes.ROUTES` and the OpenAPI 3.1 rules, and the
schemas against what the models and the logic accept and return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version
from pydantic import AfterValidator, PlainValidator
from pydantic_core import PydanticCustomError

from pfmon_api import json_codec, routes
from pfmon_api.logic import trade_records
from pfmon_api.logic.journal_statistics import statistics_document
from pfmon_api.logic.statistics import JournalTrade, compute_statistics
from pfmon_api.models import entries, fields, profile
from pfmon_api.models.base import ApiModel
from pfmon_api.models.statistics import StatisticsQuery
from tools import openapi

Document = dict[str, Any]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def document() -> Document:
    return openapi.build_document()


def operations(document: Document) -> Iterator[tuple[str, str, Document]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def resolve(document: Document, schema: Document) -> Document:
    """Follow a local $ref to the schema it names."""
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def object_schemas(document: Document, schema: Document) -> Iterator[Document]:
    """Yield every object schema with properties reachable from `schema`."""
    seen: set[int] = set()
    pending = [schema]
    while pending:
        node = resolve(document, pending.pop())
        if id(node) in seen:
            continue
        seen.add(id(node))
        if "properties" in node:
            yield node
            pending.extend(node["properties"].values())
        for key in ("anyOf", "oneOf", "allOf"):
            pending.extend(node.get(key, []))
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                pending.append(node[key])


def validator(document: Document, schema: Document) -> OAS31Validator:
    """Return an OpenAPI 3.1 validator of a schema, with the document's $refs."""
    root = {**schema, "components": document["components"]}
    return OAS31Validator(root, format_checker=oas31_format_checker)


def component(name: str) -> Document:
    return {"$ref": f"#/components/schemas/{name}"}


def as_sent(value: object) -> Any:
    """Return a response body as a client parses it: numbers written, then read."""
    return json.loads(json_codec.dumps(value))


# --- the committed file -----------------------------------------------------------


def test_committed_document_current(document: Document) -> None:
    committed = openapi.DOCUMENT_PATH.read_text(encoding="utf-8")
    assert committed == openapi.render(document), (
        "docs/openapi.json is out of date: run make openapi"
    )


def test_check_flags_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a document path with a stale file
    path = tmp_path / "openapi.json"
    path.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(openapi, "DOCUMENT_PATH", path)
    # THEN --check fails until --write has rewritten it
    assert openapi.main(["--check"]) == 1
    assert openapi.main(["--write"]) == 0
    assert openapi.main(["--check"]) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["openapi"] == "3.1.0"


# --- the document against the route table and OpenAPI 3.1 --------------------------


def test_operations_match_routes(document: Document) -> None:
    documented = {(method, path) for method, path, _ in operations(document)}
    expected = {(route.method, route.path) for route in routes.ROUTES}
    assert documented == expected


def test_document_is_openapi_31(document: Document) -> None:
    assert document["openapi"] == "3.1.0"
    assert str(get_spec_version(document)) == "OpenAPIV3.1"
    validate(document)


def test_jwt_on_every_operation(document: Document) -> None:
    scheme = document["components"]["securitySchemes"][openapi.SECURITY_SCHEME]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert document["security"] == [{openapi.SECURITY_SCHEME: []}]
    for method, path, operation in operations(document):
        assert operation["security"] == [{openapi.SECURITY_SCHEME: []}], (method, path)


def test_request_schemas_closed(document: Document) -> None:
    bodies = 0
    for method, path, operation in operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        bodies += 1
        schema = body["content"]["application/json"]["schema"]
        for node in object_schemas(document, schema):
            assert node.get("additionalProperties") is False, (method, path, node)
    assert bodies == 6


def test_path_parameters_declared(document: Document) -> None:
    for method, path, operation in operations(document):
        names = re.findall(r"\{(\w+)\}", path)
        declared = [
            parameter["name"]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "path"
        ]
        assert declared == names, (method, path)
        for parameter in operation.get("parameters", []):
            assert parameter["required"] is (parameter["in"] == "path")


def test_query_parameters_match_handlers(document: Document) -> None:
    def query_names(path: str, method: str) -> list[str]:
        parameters = document["paths"][path][method]["parameters"]
        return [item["name"] for item in parameters if item["in"] == "query"]

    assert query_names("/entries", "get") == list(entries.LIST_PARAMETERS)
    assert query_names("/statistics", "get") == ["from", "to", "accountId"]
    assert query_names("/accounts", "get") == ["includeArchived"]
    assert query_names("/entries/{entryId}", "delete") == ["version"]


def test_error_statuses_documented(document: Document) -> None:
    common = {"401", "429", "500", "501", "503"}
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert common <= set(responses), (method, path)
        success = [status for status in responses if status.startswith("2")]
        assert len(success) == 1, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= set(responses), (method, path)


def test_gateway_401_body(document: Document) -> None:
    response = document["components"]["responses"]["Unauthorized"]
    schema = response["content"]["application/json"]["schema"]
    check = validator(document, schema)
    assert check.is_valid({"message": "Unauthorized"})
    assert check.is_valid(
        {"error": {"code": "Unauthorized", "message": "no user", "field": None}}
    )
    assert not check.is_valid(
        {"error": {"code": "NotFound", "message": "no user", "field": None}}
    )


# --- numbers, text and times ------------------------------------------------------


def test_decimal_fields_are_numbers(document: Document) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Entry"]["properties"]["netPnl"]["type"] == "number"
    assert schemas["Statistics"]["properties"]["profitFactor"]["type"] == [
        "number",
        "null",
    ]
    balance = schemas["Account"]["properties"]["startingBalance"]
    assert balance["type"] == "number"
    assert balance["exclusiveMaximum"] == 10**12
    quantity = schemas["ExecutionBody"]["properties"]["quantity"]
    assert [option["type"] for option in quantity["anyOf"]] == ["number", "string"]
    assert quantity["anyOf"][0]["exclusiveMinimum"] == 0
    assert "Exact decimals" in document["info"]["description"]


def assert_pattern_agrees(
    pattern: str, check: Callable[[str], object], text: str, accepted: bool
) -> None:
    """Assert that a documented pattern and the API's validator agree on a value."""
    assert (re.search(pattern, text) is not None) is accepted
    if accepted:
        check(text)
    else:
        with pytest.raises(PydanticCustomError):
            check(text)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("12.50", True),
        ("0.0000000001", True),
        ("999999999999.9999999999", True),
        ("0", False),
        ("0.000", False),
        ("-1", False),
        ("1000000000000", False),
        ("1.00000000001", False),
        ("1e5", False),
        ("\uff11", False),
    ],
)
def test_quantity_pattern_agrees(text: str, accepted: bool) -> None:
    pattern = openapi.decimal_text_pattern(
        Decimal(0), True, fields.MAX_AMOUNT, fields.MAX_DECIMAL_PLACES
    )
    parse = openapi.annotated_validator(entries.Quantity)
    assert_pattern_agrees(pattern, parse, text, accepted)


NOT_DISPLAYED = sorted(fields.HIDDEN_CHARACTERS | {"\u2028", "\u2029", "\n", "\x85"})


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("AAPL", True),
        ("Main margin", True),
        ("\u00e9", True),
        ("", False),
        (" AAPL", False),
        ("AAPL\u00a0", False),
        *[(f"A{character}B", False) for character in NOT_DISPLAYED],
    ],
)
def test_single_line_pattern_agrees(text: str, accepted: bool) -> None:
    pattern = openapi.SINGLE_LINE["pattern"]
    assert_pattern_agrees(pattern, fields.check_single_line, text, accepted)


def test_emoji_joiner_outside_pattern() -> None:
    # The API accepts a zero-width joiner between two emoji, and the pattern does not.
    technologist = "\U0001f469\u200d\U0001f4bb"
    assert fields.check_single_line(technologist) == technologist
    assert re.search(openapi.SINGLE_LINE["pattern"], technologist) is None


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("Alice", True),
        (" Alice ", True),
        (" ", False),
        *[(f"A{character}B", False) for character in NOT_DISPLAYED],
    ],
)
def test_display_name_pattern_agrees(text: str, accepted: bool) -> None:
    pattern = openapi.VISIBLE_TEXT["pattern"]
    check = openapi.annotated_validator(profile.DisplayName)
    assert_pattern_agrees(pattern, check, text, accepted)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("2026-01-05T14:30:00Z", True),
        ("2026-01-05T09:30:00.123456-05:00", True),
        ("2099-12-31T23:59:59+23:59", True),
        ("2026-01-05T14:30:00.1234567Z", False),
        ("2026-01-05T14:30:00", False),
        ("2100-01-01T00:00:00Z", False),
        ("1969-12-31T23:59:59Z", False),
        ("\uff12026-01-05T14:30:00Z", False),
    ],
)
def test_time_pattern_agrees(text: str, accepted: bool) -> None:
    assert_pattern_agrees(
        openapi.TIME["pattern"], fields.parse_timestamp, text, accepted
    )


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("1970-01-01", True),
        ("2099-12-31", True),
        ("1969-12-31", False),
        ("2100-01-01", False),
        ("2026-1-05", False),
    ],
)
def test_date_pattern_agrees(text: str, accepted: bool) -> None:
    assert_pattern_agrees(
        openapi.DATE["pattern"], fields.parse_iso_date, text, accepted
    )


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("UTC", True),
        ("America/New_York", True),
        ("US/Eastern", False),
        ("EST5EDT", False),
        ("Etc/GMT+5", False),
    ],
)
def test_time_zone_pattern_agrees(
    document: Document, text: str, accepted: bool
) -> None:
    schemas = document["components"]["schemas"]
    pattern = schemas["ProfileUpdate"]["properties"]["timeZone"]["pattern"]
    check = openapi.annotated_validator(profile.TimeZoneName)
    assert_pattern_agrees(pattern, check, text, accepted)


def test_unmapped_validator_rejected() -> None:
    # GIVEN a model with a validator that the generator has no schema for
    def check_upper(value: str) -> str:
        return value.upper()

    class Shouty(ApiModel):
        word: Annotated[str, AfterValidator(check_upper)]

    # THEN the build stops and names the validator
    with pytest.raises(ValueError, match="check_upper has no JSON schema"):
        openapi.model_schemas([Shouty], openapi.ModelSchemaGenerator)


def test_unmapped_plain_validator_rejected() -> None:
    # A PlainValidator replaces pydantic's own schema, so it must be mapped too.
    def plain(value: object) -> object:
        return value

    class Loose(ApiModel):
        anything: Annotated[str, PlainValidator(plain)]

    with pytest.raises(ValueError, match="plain has no JSON schema"):
        openapi.model_schemas([Loose], openapi.ModelSchemaGenerator)


def test_field_lists_checked() -> None:
    with pytest.raises(ValueError, match=r"missing \['closedOn'\]"):
        openapi.check_fields("Entry", ["entryId"], ["entryId", "closedOn"])


# --- response schemas against what the logic returns ------------------------------


def closed_entry() -> dict[str, Any]:
    """Return the entry document of a closed option trade, built by the logic."""
    body = entries.EntryCreate.model_validate(
        {
            "accountId": "acc-1",
            "instrument": {
                "kind": "option",
                "symbol": "SPY260320P00500000",
                "underlying": "SPY",
                "expiry": "2026-03-20",
                "strike": 500,
                "right": "put",
            },
            "executions": [
                {
                    "side": "buy",
                    "quantity": 2,
                    "price": "1.50",
                    "executedAt": "2026-01-05T14:30:00Z",
                    "fees": 1,
                },
                {
                    "side": "sell",
                    "quantity": 2,
                    "price": "2.25",
                    "executedAt": "2026-01-06T09:30:00-05:00",
                    "fees": "1.20",
                    "brokerExecutionId": "F-2",
                },
            ],
            "tags": ["breakout"],
            "plannedStop": 1,
        }
    )
    instrument = trade_records.instrument_document(body.instrument)
    executions = trade_records.execution_documents(body.executions)
    zone = ZoneInfo("America/New_York")
    trade = trade_records.derive_entry_trade(instrument, executions, zone)
    timestamp = "2026-01-06T15:00:00.000Z"
    return {
        "entryId": "2f1d6c1e-8b7a-4c3d-9e2f-0a1b2c3d4e5f",
        "accountId": body.account_id,
        "instrument": instrument,
        "executions": executions,
        "notes": body.notes,
        "tags": list(body.tags),
        "setup": body.setup,
        "mistakes": list(body.mistakes),
        "rating": body.rating,
        "plannedStop": body.planned_stop,
        "plannedTarget": body.planned_target,
        "version": 1,
        "createdAt": timestamp,
        "updatedAt": timestamp,
        **trade_records.derived_fields(trade, body.planned_stop, "America/New_York"),
    }


def test_entry_document_conforms(document: Document) -> None:
    entry = as_sent(closed_entry())
    assert entry["netPnl"] == pytest.approx(147.8)
    validator(document, component("Entry")).validate(entry)
    listed = {name: entry[name] for name in entries.LISTED_FIELDS}
    validator(document, component("EntrySummary")).validate(listed)


def test_entry_schema_rejects_index_keys(document: Document) -> None:
    entry = as_sent({**closed_entry(), "userSymbol": "user-1#SPY"})
    assert not validator(document, component("Entry")).is_valid(entry)


def test_statistics_document_conforms(document: Document) -> None:
    zone = ZoneInfo("America/New_York")
    entry = closed_entry()
    trade = trade_records.derive_entry_trade(
        entry["instrument"], entry["executions"], zone
    )
    statistics = compute_statistics([JournalTrade(trade, "acc-1", frozenset({"x"}))])
    query = StatisticsQuery(start=datetime(2026, 1, 1, tzinfo=UTC).date())
    body = as_sent(statistics_document(statistics, query, "America/New_York"))
    assert body["profitFactorReason"] == "no losing trades"
    validator(document, component("Statistics")).validate(body)


def test_empty_statistics_conform(document: Document) -> None:
    body = as_sent(
        statistics_document(compute_statistics([]), StatisticsQuery(), "UTC")
    )
    assert body["profitFactor"] is None
    validator(document, component("Statistics")).validate(body)


def test_default_profile_conforms(document: Document) -> None:
    created = profile.Profile(
        user_id="user-1",
        email=None,
        display_name="Trader",
        base_currency="USD",
        time_zone="UTC",
        default_account_id=None,
        preferences={"compact": True, "pageSize": Decimal(50)},
        version=1,
        created_at="2026-01-05T14:30:00.000Z",
        updated_at="2026-01-05T14:30:00.000Z",
    )
    validator(document, component("Profile")).validate(as_sent(created.model_dump()))
