"""Exact-number JSON: parsing request bodies and writing responses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfmon_api import errors, json_codec

# dumps writes magnitudes from 1E-130 to 9.99...E+125, the range DynamoDB stores.
finite_decimals = st.decimals(allow_nan=False, allow_infinity=False).filter(
    lambda value: value.is_zero() or -130 <= value.adjusted() <= 125
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | finite_decimals
    | st.text(st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_dumps_round_trips(value: Any) -> None:
    text = json_codec.dumps(value)

    assert json.loads(text, parse_float=Decimal) == value


@given(finite_decimals)
def test_dumps_keeps_decimal_digits(value: Decimal) -> None:
    text = json_codec.dumps({"price": value})

    parsed = json.loads(text, parse_float=Decimal, parse_int=Decimal)["price"]
    assert str(parsed) == str(value)


def test_dumps_writes_number_not_string() -> None:
    assert json_codec.dumps({"price": Decimal("12.50")}) == '{"price":12.50}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E-10"), "0.0000000001"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-2.5E-7"), "-0.00000025"),
        (Decimal("999999999999.9999999999"), "999999999999.9999999999"),
        (Decimal("0E-20"), "0.00000000000000000000"),
    ],
)
def test_dumps_writes_plain_notation(value: Decimal, text: str) -> None:
    assert json_codec.dumps([value]) == f"[{text}]"


@given(finite_decimals)
def test_dumps_never_writes_exponent(value: Decimal) -> None:
    assert "E" not in json_codec.dumps([value]).upper()


@pytest.mark.parametrize("value", [Decimal("1E+126"), Decimal("1E-131")])
def test_dumps_rejects_extreme_magnitude(value: Decimal) -> None:
    with pytest.raises(ValueError, match="magnitude"):
        json_codec.dumps([value])


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Inf")]
)
def test_dumps_rejects_non_finite(value: Decimal) -> None:
    with pytest.raises(ValueError, match="JSON number"):
        json_codec.dumps([value])


@pytest.mark.parametrize("value", [1.5, b"bytes", {1: "int key"}, object()])
def test_dumps_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        json_codec.dumps(value)


def test_parse_makes_decimals() -> None:
    document = json_codec.parse_object('{"price": 0.1, "lots": 3}')

    assert document == {"price": Decimal("0.1"), "lots": 3}
    assert isinstance(document["price"], Decimal)
    assert isinstance(document["lots"], int)


def test_parse_error_gives_position() -> None:
    with pytest.raises(errors.ValidationError) as raised:
        json_codec.parse_object('{"a": 1,\n "b": }')

    assert raised.value.field == "body"
    assert "line 2" in raised.value.message


def test_parse_names_duplicate_key() -> None:
    with pytest.raises(errors.ValidationError, match="duplicate key 'lots'"):
        json_codec.parse_object('{"lots": 1, "lots": 2}')


def test_parse_rejects_surrogate_key() -> None:
    with pytest.raises(errors.ValidationError, match="surrogate"):
        json_codec.parse_object('{"\\udc00": 1}')


def test_parse_rejects_surrogate_in_list() -> None:
    with pytest.raises(errors.ValidationError, match="surrogate"):
        json_codec.parse_object('{"tags": ["ok", "\\ud83d"]}')


def test_parse_accepts_surrogate_pair() -> None:
    # A valid pair is one character outside the Basic Multilingual Plane.
    document = json_codec.parse_object('{"emoji": "\\ud83d\\ude00"}')

    assert document == {"emoji": "\U0001f600"}


def test_parse_names_json_type() -> None:
    with pytest.raises(errors.ValidationError, match="not an array"):
        json_codec.parse_object("[]")
