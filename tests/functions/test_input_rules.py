"""Input rules shared by the request models: ASCII digits, one-line text, date windows,
time zone names, bounded echoes of rejected numbers and the archive route's body."""

from __future__ import annotations

from typing import Any

import pytest

from pfmon_api import errors, json_codec
from pfmon_api.handlers import accounts, profile
from pfmon_api.models.accounts import parse_account_create
from pfmon_api.models.credentials import parse_credential_create
from pfmon_api.models.entries import parse_entry_create
from pfmon_api.models.profile import parse_profile_update, time_zone_names
from tests.functions.events import http_event, invoke
from tests.functions.journal_requests import (
    ACCOUNT,
    MICRO_FUTURE,
    OPTION,
    account_request,
    create_account,
    entry_body,
    error_of,
    fill,
    post_account,
)

PROFILE: dict[str, Any] = {
    "displayName": "Alice",
    "baseCurrency": "USD",
    "timeZone": "UTC",
    "defaultAccountId": None,
    "preferences": {},
    "version": 1,
}
CREDENTIAL: dict[str, Any] = {
    "accountId": "acc-1",
    "label": "IBKR read-only",
    "apiKey": "AKIA-EXAMPLE-0001",
    "apiSecret": "secret-example-0001",
}
# Non-ASCII digits that Python's Decimal() and int() read as digits.
FULLWIDTH_ONE = "\uff11"
ARABIC_INDIC_ONE = "\u0661"
ARABIC_INDIC_SIX = "\u0666"
HIDDEN = {
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first strong isolate": "\u2068",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "lone zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "line separator": "\u2028",
    "escape": "\x1b",
}


def rejected_field(parse: Any, document: dict[str, Any]) -> str | None:
    with pytest.raises(errors.ValidationError) as raised:
        parse(document)
    return raised.value.field


def stock_entry(**execution: Any) -> dict[str, Any]:
    body = entry_body("acc-1")
    body["executions"] = [
        {**fill("buy", 100, "10.00", "2026-01-05T14:30:00Z"), **execution}
    ]
    return body


class TestAsciiDigits:
    @pytest.mark.parametrize("digit", [FULLWIDTH_ONE, ARABIC_INDIC_ONE])
    def test_decimal_string_rejects_digit(self, digit: str) -> None:
        body = stock_entry(quantity=digit)

        assert rejected_field(parse_entry_create, body) == "executions[0].quantity"

    def test_balance_rejects_fullwidth(self) -> None:
        body = {**ACCOUNT, "startingBalance": f"2{FULLWIDTH_ONE}.50"}

        assert rejected_field(parse_account_create, body) == "startingBalance"

    @pytest.mark.parametrize(
        "month",
        [f"Z{ARABIC_INDIC_SIX}", "\u0662\u0660\u0662\u0666-01", "2026-\u0660\u0661"],
    )
    def test_contract_month_rejects_digit(self, month: str) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {**MICRO_FUTURE, "contractMonth": month}

        assert rejected_field(parse_entry_create, body) == "instrument.contractMonth"

    def test_timestamp_rejects_digit(self) -> None:
        body = stock_entry(executedAt=f"2026-01-05T14:3{ARABIC_INDIC_ONE}:00Z")

        assert rejected_field(parse_entry_create, body) == "executions[0].executedAt"

    def test_expiry_rejects_digit(self) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {**OPTION, "expiry": f"2026-03-2{FULLWIDTH_ONE}"}

        assert rejected_field(parse_entry_create, body) == "instrument.expiry"

    def test_ascii_digits_still_parse(self) -> None:
        entry = parse_entry_create(stock_entry(quantity="1"))

        assert entry.executions[0].quantity == 1


class TestDisplayText:
    @pytest.mark.parametrize("character", HIDDEN.values(), ids=HIDDEN.keys())
    @pytest.mark.parametrize(
        ("parse", "base", "field"),
        [
            (parse_account_create, ACCOUNT, "name"),
            (parse_account_create, ACCOUNT, "broker"),
            (parse_profile_update, PROFILE, "displayName"),
            (parse_credential_create, CREDENTIAL, "label"),
        ],
        ids=["account name", "broker", "display name", "credential label"],
    )
    def test_hidden_character_rejected(
        self, parse: Any, base: dict[str, Any], field: str, character: str
    ) -> None:
        document = {**base, field: f"Main{character}margin"}

        with pytest.raises(errors.ValidationError) as raised:
            parse(document)

        assert raised.value.field == field
        assert f"U+{ord(character):04X}" in raised.value.message

    @pytest.mark.parametrize("character", HIDDEN.values(), ids=HIDDEN.keys())
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"tags": ["breakout{}"]}, "tags[0]"),
            ({"setup": "gap{}fill"}, "setup"),
            ({"mistakes": ["late{}entry"]}, "mistakes[0]"),
        ],
        ids=["tag", "setup", "mistake"],
    )
    def test_entry_text_rejected(
        self, changes: dict[str, Any], field: str, character: str
    ) -> None:
        filled = {
            name: [item.format(character) for item in value]
            if isinstance(value, list)
            else value.format(character)
            for name, value in changes.items()
        }

        body = {**entry_body("acc-1"), **filled}

        assert rejected_field(parse_entry_create, body) == field

    def test_symbol_rejects_override(self) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {"kind": "stock", "symbol": "AA\u202ePL"}

        assert rejected_field(parse_entry_create, body) == "instrument.symbol"

    @pytest.mark.parametrize(
        "name",
        [
            "\U0001f469\u200d\U0001f4bb desk",
            "\U0001f469\U0001f3fd\u200d\U0001f4bb desk",
            "\u2764\ufe0f\u200d\U0001f525 fund",
            "Zo\u00eb \u00c5gren",
            "\u0645\u062d\u0641\u0638\u0629",
        ],
        ids=["emoji zwj", "skin tone zwj", "variation zwj", "latin", "arabic"],
    )
    def test_visible_text_accepted(self, name: str) -> None:
        assert parse_account_create({**ACCOUNT, "name": name}).name == name
        label = parse_credential_create({**CREDENTIAL, "label": name}).label
        assert label == name


class TestDateWindows:
    @pytest.mark.parametrize("expiry", ["0001-01-01", "1969-12-31", "2100-01-01"])
    def test_expiry_outside_rejected(self, expiry: str) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {**OPTION, "expiry": expiry}

        with pytest.raises(errors.ValidationError) as raised:
            parse_entry_create(body)

        assert raised.value.field == "instrument.expiry"
        assert "1970" in raised.value.message

    @pytest.mark.parametrize("expiry", ["1970-01-01", "2099-12-31"])
    def test_expiry_edges_accepted(self, expiry: str) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {**OPTION, "expiry": expiry}

        assert str(parse_entry_create(body).instrument.expiry) == expiry

    @pytest.mark.parametrize("month", ["1969-12", "2100-01", "0001-01", "9999-12"])
    def test_contract_month_outside_rejected(self, month: str) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {**MICRO_FUTURE, "contractMonth": month}

        assert rejected_field(parse_entry_create, body) == "instrument.contractMonth"

    @pytest.mark.parametrize("month", ["1970-01", "2099-12", "Z6", "H26"])
    def test_contract_month_accepted(self, month: str) -> None:
        body = entry_body("acc-1")
        body["instrument"] = {**MICRO_FUTURE, "contractMonth": month}

        assert parse_entry_create(body).instrument.contract_month == month


class TestTimeZone:
    @pytest.mark.parametrize(
        "zone",
        [
            "localtime",
            "Factory",
            "posixrules",
            "posix/Europe/Berlin",
            "right/UTC",
            "EST5EDT",
            "US/Eastern",
            "Etc/GMT+5",
            "Europe/Atlantis",
            "../etc/passwd",
            "",
        ],
    )
    def test_zone_rejected(self, zone: str) -> None:
        with pytest.raises(errors.ValidationError) as raised:
            parse_profile_update({**PROFILE, "timeZone": zone})

        assert raised.value.field == "timeZone"

    @pytest.mark.parametrize(
        "zone",
        ["UTC", "America/New_York", "Europe/Kyiv", "America/Argentina/Buenos_Aires"],
    )
    def test_zone_accepted(self, zone: str) -> None:
        assert parse_profile_update({**PROFILE, "timeZone": zone}).time_zone == zone

    def test_names_come_from_tzdata(self) -> None:
        names = time_zone_names()

        assert "Asia/Tokyo" in names
        assert "Factory" not in names
        assert all(name == "UTC" or "/" in name for name in names)


class TestLongNumbers:
    def test_parser_rejects_long_integer(self) -> None:
        text = '{"startingBalance": ' + "1" * 5001 + "}"

        with pytest.raises(errors.ValidationError) as raised:
            json_codec.parse_object(text)

        assert raised.value.field == "body"
        assert "5001 characters" in raised.value.message
        assert "int_max_str_digits" not in raised.value.message

    def test_parser_rejects_long_decimal(self) -> None:
        text = '{"price": 0.' + "5" * 200 + "}"

        with pytest.raises(errors.ValidationError) as raised:
            json_codec.parse_object(text)

        assert raised.value.field == "body"

    def test_parser_accepts_limit(self) -> None:
        literal = "1" * json_codec.MAX_NUMBER_LENGTH

        assert json_codec.parse_object('{"n": ' + literal + "}") == {"n": int(literal)}

    def test_range_echo_marks_cut(self) -> None:
        balance = "9" * 45

        with pytest.raises(errors.ValidationError) as raised:
            parse_account_create({**ACCOUNT, "startingBalance": int(balance)})

        assert "9" * 40 + "... (45 characters)" in raised.value.message
        assert "9" * 41 not in raised.value.message

    def test_text_echo_marks_cut(self) -> None:
        text = "1" * 50 + "x"

        with pytest.raises(errors.ValidationError) as raised:
            parse_account_create({**ACCOUNT, "startingBalance": text})

        assert "1" * 40 + "... (51 characters)" in raised.value.message

    @pytest.mark.usefixtures("table_names")
    def test_api_long_integer_is_400(self) -> None:
        raw = '{"name": "x", "startingBalance": ' + "1" * 5001 + "}"
        event = http_event("POST", "/accounts", raw_body=raw)

        result = invoke(accounts.handler, event)

        assert result.status == 400
        assert error_of(result)["field"] == "body"
        assert "sys.set_int_max_str_digits" not in error_of(result)["message"]


@pytest.mark.usefixtures("table_names")
class TestArchiveBody:
    @pytest.mark.parametrize("raw", [None, "", "{}", " { } "])
    def test_empty_body_accepted(self, raw: str | None) -> None:
        account_id = create_account()

        result = archive_raw(account_id, raw)

        assert result.status == 200
        assert result.body["archived"] is True

    @pytest.mark.parametrize("raw", ['{"x": 1}', "[]", "null", "x"])
    def test_other_body_rejected(self, raw: str) -> None:
        account_id = create_account()

        result = archive_raw(account_id, raw)

        assert result.status == 400
        assert error_of(result)["field"] == "body"

    def test_rejected_body_not_archived(self) -> None:
        account_id = create_account()

        archive_raw(account_id, '{"archived": false}')

        assert account_request("GET", account_id).body["archived"] is False


def archive_raw(account_id: str, raw: str | None) -> Any:
    event = http_event(
        "POST",
        f"/accounts/{account_id}/archive",
        raw_body=raw,
        path_parameters={"accountId": account_id},
        route_key="POST /accounts/{accountId}/archive",
    )
    return invoke(accounts.handler, event)


@pytest.mark.usefixtures("table_names")
def test_profile_put_rejects_localtime() -> None:
    invoke(profile.handler, http_event("GET", "/profile"))
    event = http_event("PUT", "/profile", body={**PROFILE, "timeZone": "localtime"})

    result = invoke(profile.handler, event)

    assert result.status == 400
    assert error_of(result)["field"] == "timeZone"


@pytest.mark.usefixtures("table_names")
def test_post_account_rejects_override() -> None:
    result = post_account({**ACCOUNT, "name": "Main\u202emargin"})

    assert result.status == 400
    assert error_of(result)["field"] == "name"
