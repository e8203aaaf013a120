"""Realistic PFMON items for the migration tests and the benchmark.

Items are AttributeValue maps shaped like the API's records: decimal prices with
trailing zeros, nested maps and lists, string, number and binary sets, NULL and empty
values. The same seed always gives the same items.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pfmon_api import tables
from tools.migrate.batch_write import BatchWriter, batches
from tools.migrate.digest import Item

SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA", "SPY", "QQQ", "EURUSD", "BTCUSD", "ES", "NQ")
SETUPS = ("breakout", "pullback", "earnings", "gap-fill", "range", "news")
BROKERS = ("interactive-brokers", "alpaca", "tradier", "oanda")
START = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)
FAKE_KEY_ARN = (
    "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000001"
)

# Returns (encrypted data key, key ARN) for a credential's userId and credentialId.
DataKeySource = Callable[[str, str], tuple[bytes, str]]


class SampleData:
    """Deterministic generator of the four tables' items."""

    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)  # noqa: S311

    def fake_data_key(self, user_id: str, credential_id: str) -> tuple[bytes, str]:
        """Return random bytes in place of a KMS-encrypted data key, and a key ARN."""
        del user_id, credential_id
        return self._rng.randbytes(184), FAKE_KEY_ARN

    def identifier(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def price(self, low: float, high: float, places: int = 4) -> str:
        # Four places with trailing zeros, as brokers report prices: "187.4500".
        return f"{self._rng.uniform(low, high):.{places}f}"

    def user_profile(self, user_id: str) -> Item:
        favourites = self._rng.sample(SYMBOLS, 3)
        return {
            "userId": {"S": user_id},
            "email": {"S": f"trader-{user_id[:8]}@example.com"},
            "displayName": {"S": f"Trader {user_id[:4].upper()}"},
            "createdAt": {"S": START.isoformat()},
            "baseCurrency": {"S": "USD"},
            "riskPerTrade": {"N": "0.0150"},
            "startingBalance": {"N": self.price(5_000, 250_000, 2)},
            "favouriteSymbols": {"SS": favourites},
            "preferences": {
                "M": {
                    "theme": {"S": self._rng.choice(("dark", "light"))},
                    "timezone": {"S": "America/New_York"},
                    "weeklyReport": {"BOOL": self._rng.choice((True, False))},
                }
            },
        }

    def journal_entry(self, user_id: str, account_id: str, number: int) -> Item:
        entry_id = self.identifier()
        symbol = self._rng.choice(SYMBOLS)
        opened = START + timedelta(minutes=37 * number)
        item: Item = {
            "userId": {"S": user_id},
            "entryId": {"S": entry_id},
            "openedAtKey": {"S": f"{opened.isoformat()}#{entry_id}"},
            "userSymbol": {"S": f"{user_id}#{symbol}"},
            "userAccount": {"S": f"{user_id}#{account_id}"},
            "symbol": {"S": symbol},
            "side": {"S": self._rng.choice(("long", "short"))},
            "quantity": {"N": str(self._rng.randint(1, 500))},
            "entryPrice": {"N": self.price(10, 900)},
            "tags": {"SS": self._rng.sample(SETUPS, 2)},
        }
        # Optional attributes appear on a share of the entries, as in real journals.
        if number % 3 == 0:
            item["closedAt"] = {"NULL": True}  # an open trade
        else:
            item["exitPrice"] = {"N": self.price(10, 900)}
            item["pnl"] = {"N": self.price(-2_500, 2_500, 2)}
        if number % 4 == 0:
            item["plan"] = {
                "M": {
                    "stopLoss": {"N": self.price(5, 800)},
                    "takeProfit": {"N": self.price(20, 950)},
                    "riskReward": {"N": self.price(0.5, 4, 2)},
                }
            }
        if number % 5 == 0:
            item["notes"] = {"S": ""}
        elif number % 5 == 1:
            item["notes"] = {
                "S": "Followed the plan and scaled out at the first target."
            }
        if number % 6 == 0:
            item["partialExits"] = {"NS": [self.price(10, 900) for _ in range(2)]}
        if number % 7 == 0:
            screenshot = {
                "key": {"S": f"{entry_id}/chart.png"},
                "width": {"N": "1280"},
            }
            item["screenshots"] = {"L": [{"M": screenshot}]}
            item["thumbnail"] = {"B": self._rng.randbytes(48)}
            item["attachmentHashes"] = {
                "BS": [self._rng.randbytes(8), self._rng.randbytes(8)]
            }
        return item

    def account(self, user_id: str, account_id: str) -> Item:
        return {
            "userId": {"S": user_id},
            "accountId": {"S": account_id},
            "broker": {"S": self._rng.choice(BROKERS)},
            "name": {"S": "Margin account"},
            "currency": {"S": "USD"},
            # A 31-digit balance checks that numbers keep every digit.
            "balance": {"N": "1234567890123456789012345.678900"},
            "equityHistory": {
                "L": [{"N": self.price(1_000, 90_000, 2)} for _ in range(3)]
            },
            "settings": {
                "M": {"autoSync": {"BOOL": True}, "commission": {"N": "0.005"}}
            },
        }

    def credential(
        self, user_id: str, credential_id: str, data_key: DataKeySource
    ) -> Item:
        """Return a credential laid out as pfmon_api.data.user_credentials writes it."""
        blob, key_arn = data_key(user_id, credential_id)
        return {
            "userId": {"S": user_id},
            "credentialId": {"S": credential_id},
            "accountId": {"S": self.identifier()},
            "label": {"S": "Trading API key"},
            "apiKeyHint": {"S": "...7Q2F"},
            "createdAt": {"S": START.isoformat()},
            "version": {"N": "1"},
            "algorithm": {"S": "kms-envelope-aes-256-gcm-v1"},
            "keyArn": {"S": key_arn},
            "encryptedDataKey": {"B": blob},
            # AES-GCM ciphertexts with their 16-byte tags, and 12-byte nonces.
            "apiKeyCiphertext": {"B": self._rng.randbytes(36)},
            "apiKeyNonce": {"B": self._rng.randbytes(12)},
            "apiSecretCiphertext": {"B": self._rng.randbytes(56)},
            "apiSecretNonce": {"B": self._rng.randbytes(12)},
        }


def sample_tables(
    counts: Mapping[str, int],
    data_key: DataKeySource | None = None,
    seed: int = 7,
) -> dict[str, list[Item]]:
    """Return `counts[suffix]` items for each table suffix (0 when not given).

    Items of all four tables share one set of user ids: as many users as profiles
    (at least one), each owning accounts, credentials and journal entries.
    """
    data = SampleData(seed)
    keys = data_key or data.fake_data_key
    users = [data.identifier() for _ in range(max(counts.get("UserProfiles", 0), 1))]
    accounts: dict[str, list[str]] = {user: [] for user in users}

    def account_of(user: str, number: int) -> str:
        while len(accounts[user]) <= number:
            accounts[user].append(data.identifier())
        return accounts[user][number]

    def owner(index: int) -> str:
        return users[index % len(users)]

    def count(definition: tables.TableDefinition) -> int:
        return counts.get(definition.suffix, 0)

    return {
        tables.USER_PROFILES.suffix: [
            data.user_profile(user) for user in users[: count(tables.USER_PROFILES)]
        ],
        tables.ACCOUNT_DATA.suffix: [
            data.account(owner(index), account_of(owner(index), index // len(users)))
            for index in range(count(tables.ACCOUNT_DATA))
        ],
        tables.USER_CREDENTIALS.suffix: [
            data.credential(owner(index), data.identifier(), keys)
            for index in range(count(tables.USER_CREDENTIALS))
        ],
        tables.JOURNAL_ENTRIES.suffix: [
            data.journal_entry(owner(index), account_of(owner(index), index % 2), index)
            for index in range(count(tables.JOURNAL_ENTRIES))
        ],
    }


def create_tables(client: Any, project: str, environments: Iterable[str]) -> None:
    """Create the four tables of each environment, as DataTables declares them."""
    for environment in environments:
        for definition in tables.TABLES:
            name = definition.physical_name(project, environment)
            client.create_table(**tables.create_table_request(definition, name))


def load_items(client: Any, table_name: str, items: Iterable[Item]) -> None:
    """Write items into a table with BatchWriteItem."""
    writer = BatchWriter(client)
    for batch in batches(list(items)):
        writer.write(table_name, batch)
