"""Canonical item encoding and an order-independent table digest.

Items are DynamoDB AttributeValue maps as the low-level client returns them
(`{"price": {"N": "187.45"}}`). The canonical form makes two items that DynamoDB treats
as equal encode to the same bytes: numbers compare as decimals ("1.50" equals "1.5"),
sets compare without order, binary values are base64 and map keys are sorted.

The table digest is the sum, modulo 2**256, of the SHA-256 of every item's canonical
JSON. A sum does not depend on scan order, segments or pages, and, unlike XOR, two
equal hashes do not cancel out.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

Item = dict[str, Any]

_MODULUS = 1 << 256
# DynamoDB numbers have up to 38 significant digits, but Decimal's default context
# keeps only 28 when normalizing, so a wider context keeps every digit.
_EXACT = Context(prec=100)


def canonical_number(text: str) -> str:
    """Return a number in one fixed-point spelling: "1.50" and "1.5" give "1.5"."""
    number = Decimal(text)
    if number == 0:
        return "0"
    return f"{number.normalize(_EXACT):f}"


def canonical_value(value: Mapping[str, Any]) -> Any:
    """Return the canonical JSON-ready form of one AttributeValue."""
    ((kind, content),) = value.items()
    encode = _ENCODERS.get(kind)
    # S, BOOL and NULL are already canonical.
    return [kind, content if encode is None else encode(content)]


def canonical_json(item: Mapping[str, Any], ignore: Iterable[str] = ()) -> str:
    """Return an item's canonical JSON, leaving out the attributes in `ignore`."""
    skipped = frozenset(ignore)
    canonical = {
        name: canonical_value(value)
        for name, value in item.items()
        if name not in skipped
    }
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))


def item_hash(item: Mapping[str, Any], ignore: Iterable[str] = ()) -> bytes:
    """Return the SHA-256 of an item's canonical JSON."""
    return hashlib.sha256(canonical_json(item, ignore).encode()).digest()


def key_string(item: Mapping[str, Any], key_attributes: Iterable[str]) -> str:
    """Return an item's primary key as readable JSON, such as {"userId":"u-1"}."""
    key = {}
    for name in key_attributes:
        ((kind, content),) = item[name].items()
        if kind == "N":
            key[name] = canonical_number(content)
        elif kind == "B":
            key[name] = _base64(content)
        else:
            key[name] = content
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


@dataclass
class TableDigest:
    """Item count and the sum of item hashes of one table or one scan segment."""

    count: int = 0
    total: int = field(default=0, repr=False)

    def add(self, digest: bytes) -> None:
        self.count += 1
        self.total = (self.total + int.from_bytes(digest, "big")) % _MODULUS

    def merge(self, other: TableDigest) -> None:
        self.count += other.count
        self.total = (self.total + other.total) % _MODULUS

    @property
    def hexdigest(self) -> str:
        return f"{self.total:064x}"


def _base64(blob: bytes | bytearray) -> str:
    return base64.b64encode(bytes(blob)).decode()


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "N": canonical_number,
    "B": _base64,
    "SS": sorted,
    "NS": lambda numbers: [canonical_number(n) for n in sorted(numbers, key=Decimal)],
    "BS": lambda blobs: sorted(_base64(blob) for blob in blobs),
    "L": lambda elements: [canonical_value(element) for element in elements],
    "M": lambda members: {
        name: canonical_value(member) for name, member in members.items()
    },
}
