"""Route table of PFMON's HTTP API and the Lambda function behind each route family.

`ApiFunctions` builds one function, role and policy per `FunctionSpec` and one API route
per `Route`; the handlers in `pfmon_api.handlers` serve the same routes. The table is
plain data so that the program, the tests and the local environment read one copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from pfmon_api import tables

# The `purpose` value of the KMS encryption context of every broker credential. The
# credentials function's IAM policy lets it use the key only with this context.
CREDENTIALS_KEY_PURPOSE = "broker-credential"

READ = ("dynamodb:GetItem",)
QUERY = ("dynamodb:Query",)
WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem")
DELETE = ("dynamodb:DeleteItem",)


@dataclass(frozen=True)
class TableAccess:
    """DynamoDB actions one function may call on one table (and its indexes)."""

    table: tables.TableDefinition
    actions: tuple[str, ...]
    indexes: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: a route family or a Cognito trigger."""

    family: str
    handler: str
    description: str
    memory_mb: int
    timeout_seconds: int
    access: tuple[TableAccess, ...]
    uses_credentials_key: bool = False


@dataclass(frozen=True)
class Route:
    """One HTTP API route and the function family that serves it."""

    method: str
    path: str
    family: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


PROFILE = FunctionSpec(
    family="profile",
    handler="pfmon_api.handlers.profile.handler",
    description="GET and PUT of the caller's profile",
    memory_mb=256,
    timeout_seconds=10,
    access=(
        TableAccess(tables.USER_PROFILES, READ + WRITE),
        # PUT reads the account that defaultAccountId names, to check it.
        TableAccess(tables.ACCOUNT_DATA, READ),
    ),
)
POST_CONFIRMATION = FunctionSpec(
    family="post-confirmation",
    handler="pfmon_api.handlers.post_confirmation.handler",
    description="Cognito post-confirmation trigger that creates the user's profile",
    memory_mb=256,
    timeout_seconds=5,
    access=(TableAccess(tables.USER_PROFILES, ("dynamodb:PutItem",)),),
)
ACCOUNTS = FunctionSpec(
    family="accounts",
    handler="pfmon_api.handlers.accounts.handler",
    description="Create, list, read, update and archive the caller's broker accounts",
    memory_mb=256,
    timeout_seconds=10,
    access=(TableAccess(tables.ACCOUNT_DATA, READ + QUERY + WRITE),),
)
ENTRIES = FunctionSpec(
    family="entries",
    handler="pfmon_api.handlers.entries.handler",
    description="Create, read, update, delete and list the caller's journal entries",
    memory_mb=512,
    timeout_seconds=10,
    access=(
        TableAccess(
            tables.JOURNAL_ENTRIES, READ + QUERY + WRITE + DELETE, indexes=True
        ),
        TableAccess(tables.ACCOUNT_DATA, READ),
        TableAccess(tables.USER_PROFILES, READ),
    ),
)
STATISTICS = FunctionSpec(
    family="statistics",
    handler="pfmon_api.handlers.statistics.handler",
    description="Trading statistics of the caller, by date range and account",
    memory_mb=1024,
    timeout_seconds=25,
    access=(
        TableAccess(tables.JOURNAL_ENTRIES, QUERY, indexes=True),
        TableAccess(tables.USER_PROFILES, READ),
    ),
)
CREDENTIALS = FunctionSpec(
    family="credentials",
    handler="pfmon_api.handlers.credentials.handler",
    description="Store, list and delete the caller's encrypted broker credentials",
    memory_mb=256,
    timeout_seconds=10,
    access=(
        TableAccess(tables.USER_CREDENTIALS, READ + QUERY + WRITE + DELETE),
        TableAccess(tables.ACCOUNT_DATA, READ),
    ),
    uses_credentials_key=True,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    PROFILE,
    POST_CONFIRMATION,
    ACCOUNTS,
    ENTRIES,
    STATISTICS,
    CREDENTIALS,
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/profile", PROFILE.family),
    Route("PUT", "/profile", PROFILE.family),
    Route("GET", "/accounts", ACCOUNTS.family),
    Route("POST", "/accounts", ACCOUNTS.family),
    Route("GET", "/accounts/{accountId}", ACCOUNTS.family),
    Route("PUT", "/accounts/{accountId}", ACCOUNTS.family),
    Route("POST", "/accounts/{accountId}/archive", ACCOUNTS.family),
    Route("GET", "/entries", ENTRIES.family),
    Route("POST", "/entries", ENTRIES.family),
    Route("GET", "/entries/{entryId}", ENTRIES.family),
    Route("PUT", "/entries/{entryId}", ENTRIES.family),
    Route("DELETE", "/entries/{entryId}", ENTRIES.family),
    Route("GET", "/statistics", STATISTICS.family),
    Route("GET", "/credentials", CREDENTIALS.family),
    Route("POST", "/credentials", CREDENTIALS.family),
    Route("DELETE", "/credentials/{credentialId}", CREDENTIALS.family),
)

API_FAMILIES = tuple(sorted({route.family for route in ROUTES}))


def function_spec(family: str) -> FunctionSpec:
    """Return the spec of a function family; raise KeyError for an unknown one."""
    for spec in FUNCTIONS:
        if spec.family == family:
            return spec
    raise KeyError(family)
