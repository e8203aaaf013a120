"""`make demo`: a newcomer's first five minutes with PFMON, against `make local`.

The script does what the React app does, step by step, and prints each request. It
signs up and confirms a new user at the Cognito endpoint of the emulator, signs in and
reads the profile that the post-confirmation trigger created. Then it creates a broker
account, records three trades, lists them and reads the statistics.

It reads the running environment's endpoints from <data dir>/endpoints.json, which
`make local` writes once it is ready, and talks to 127.0.0.1 only.

Exit status: 0 when every step worked, 3 when a route returns 501 because its handler
is not built yet (the message names the route), 2 when no local environment is
running, and 1 for any other failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tools.local.endpoints import (
    DEFAULT_DATA_DIR,
    Endpoints,
    is_listening,
    read_endpoints,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 2
EXIT_NOT_BUILT = 3
LOOPBACK = "127.0.0.1"
DEMO_PASSWORD = "Journal-Demo-42"  # noqa: S105 - printed, local pool only
_TIMEOUT_SECONDS = 30

ACCOUNT = {
    "name": "Demo brokerage",
    "broker": "Interactive Brokers",
    "currency": "USD",
    "startingBalance": "25000.00",
    "accountType": "margin",
}
TRADES = (
    ("AAPL", "100", "187.20", "189.95", "2026-11-02T14:31:05Z", "2026-11-02T19:02:41Z"),
    ("MSFT", "50", "412.10", "405.80", "2026-11-03T14:45:12Z", "2026-11-04T15:10:03Z"),
    ("NVDA", "30", "131.55", "138.40", "2026-11-05T15:02:55Z", "2026-11-06T20:55:30Z"),
)


class StepFailedError(Exception):
    """A step of the demo failed. `exit_status` is the exit status for the shell."""

    def __init__(self, message: str, exit_status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass
class ApiClient:
    """Calls the local HTTP API with the signed-in user's ID token."""

    base_url: str
    token: str

    def request(self, method: str, path: str, body: object | None = None) -> Any:
        """Send one request and return the JSON body; raise StepFailedError."""
        route = f"{method} {path}"
        print(f"  -> {route}")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is checked to be http://127.0.0.1
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            if exc.code == 501:  # noqa: PLR2004 - Not Implemented
                raise StepFailedError(
                    f"{route} is not built yet: the API returned 501 Not Implemented "
                    f"({detail}). The demo stops here; it goes further once that "
                    "route's handler is written.",
                    EXIT_NOT_BUILT,
                ) from exc
            raise StepFailedError(f"{route} failed with {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            raise StepFailedError(f"{route} failed: {exc.reason}") from exc
        return json.loads(text) if text else None


def _require_loopback(url: str) -> str:
    if urlsplit(url).hostname != LOOPBACK:
        raise StepFailedError(
            f"{url} is not on {LOOPBACK}: the demo calls only this machine"
        )
    return url


def show(title: str, document: object) -> None:
    print(f"  <- {title}:")
    for line in json.dumps(document, indent=2).splitlines():
        print(f"     {line}")


def show_entries(listing: dict[str, Any]) -> None:
    """Print one line per entry: symbol, direction, status and net P&L."""
    entries = listing.get("entries", [])
    print(f"  <- {len(entries)} entries:")
    for entry in entries:
        symbol = entry.get("instrument", {}).get("symbol", "?")
        print(
            f"     {symbol:<6} {entry.get('direction', '?'):<6} "
            f"{entry.get('status', '?'):<7} net P&L {entry.get('netPnl')}"
        )


def show_statistics(statistics: dict[str, Any]) -> None:
    """Print the headline statistics, then the whole document."""
    names = ("tradeCount", "winRate", "netPnl", "profitFactor", "maxDrawdown")
    print("  <- statistics:")
    for name in names:
        if name in statistics:
            print(f"     {name:<14} {statistics[name]}")
    show("statistics document", statistics)


def sign_up_and_sign_in(endpoints: Endpoints, email: str) -> str:
    """Sign up, confirm and sign in a user as a browser would; return the ID token."""
    # The browser calls these three Cognito actions unsigned, and so does the demo.
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=_require_loopback(endpoints.emulator_url),
        region_name=endpoints.region,
        config=Config(signature_version=UNSIGNED),
    )
    try:
        print(f"1. Sign up {email} at the Cognito endpoint {endpoints.emulator_url}")
        cognito.sign_up(
            ClientId=endpoints.client_id,
            Username=email,
            Password=DEMO_PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        print(
            "2. Confirm the sign-up (the emulator sends no e-mail and accepts any code)"
        )
        cognito.confirm_sign_up(
            ClientId=endpoints.client_id, Username=email, ConfirmationCode="123456"
        )
        print(
            "3. Sign in with USER_PASSWORD_AUTH (a local-only flow; the app uses SRP)"
        )
        result = cognito.initiate_auth(
            ClientId=endpoints.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
        )
    except (BotoCoreError, ClientError) as exc:
        raise StepFailedError(f"Cognito call failed: {exc}") from exc
    return str(result["AuthenticationResult"]["IdToken"])


def trade_entry(account_id: str, trade: tuple[str, ...]) -> dict[str, Any]:
    """Return the POST /entries body of a round trip: one buy, one sell."""
    symbol, quantity, entry, exit_price, opened, closed = trade
    return {
        "accountId": account_id,
        "instrument": {"kind": "stock", "symbol": symbol},
        "executions": [
            {"side": "buy", "quantity": quantity, "price": entry,
             "executedAt": opened, "fees": "1.00"},
            {"side": "sell", "quantity": quantity, "price": exit_price,
             "executedAt": closed, "fees": "1.00"},
        ],
        "notes": f"Demo trade in {symbol}",
        "tags": ["demo"],
        "setup": "breakout",
        "rating": 4,
    }  # fmt: skip


def run(endpoints: Endpoints, email: str) -> None:
    """Run every step of the demo; raise StepFailedError at the first failure."""
    token = sign_up_and_sign_in(endpoints, email)
    api = ApiClient(_require_loopback(endpoints.api_url), token)

    print("4. Read the profile that the post-confirmation trigger created")
    show("profile", api.request("GET", "/profile"))

    print("5. Create a broker account")
    account = api.request("POST", "/accounts", ACCOUNT)
    show("account", account)
    account_id = str(account.get("accountId", ""))

    print(f"6. Record {len(TRADES)} trades")
    for trade in TRADES:
        api.request("POST", "/entries", trade_entry(account_id, trade))

    print("7. List the journal entries")
    show_entries(api.request("GET", "/entries"))

    print("8. Read the trading statistics")
    show_statistics(api.request("GET", "/statistics"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local.demo",
        description="Walk through sign-up, sign-in and a few trades on make local.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("PFMON_LOCAL_DATA_DIR") or DEFAULT_DATA_DIR),
        help="data directory of the running make local; default .local, or "
        "PFMON_LOCAL_DATA_DIR",
    )
    args = parser.parse_args(argv)

    endpoints = read_endpoints(args.data_dir.resolve())
    if endpoints is None or not is_listening(endpoints.api_url):
        print(
            f"error: no running local environment found in {args.data_dir}: start "
            "`make local` in another terminal first",
            file=sys.stderr,
        )
        return EXIT_NOT_RUNNING

    email = f"trader-{int(time.time())}-{secrets.token_hex(2)}@example.com"
    print(f"PFMON demo against {endpoints.api_url}\n")
    try:
        run(endpoints, email)
    except StepFailedError as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return exc.exit_status
    print(f"\nDone. Sign in as {email} / {DEMO_PASSWORD} to see the same data.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
