"""Stack settings: stack config turned into a validated, immutable security tier.

Every component reads a `StackSettings`, never the environment name, so a tier decides
what a stack gets. Config values arrive as the strings stored in `Pulumi.<stack>.yaml`;
`Pulumi.yaml` declares each key with its default. A bad value raises `ConfigError`, a
`pulumi.RunError`, whose one-line message names the key, the value, what is allowed and
the command that fixes it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import pulumi

CONFIG_NAMESPACE = "pfmon"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

MfaMode = Literal["optional", "required"]
Monitoring = Literal["logs", "alarms"]

# Cognito limits for access and ID tokens: 5 minutes to 1 day.
TOKEN_VALIDITY_MINUTES = (5, 24 * 60)
# Cognito limits for the minimum password length.
PASSWORD_LENGTH = (6, 99)
# Reserved concurrency above 1000 exceeds the default regional quota of every account.
RESERVED_CONCURRENCY = (1, 1000)
# Suffixes of the tables in pfmon_api.tables, repeated here because `python -m tools.*`
# imports this module without `functions/` on sys.path. A test keeps the two equal.
TABLE_SUFFIXES = ("UserProfiles", "JournalEntries", "UserCredentials", "AccountData")
# Differences between a live table and its definition that adoptTables may tolerate
# during the import deploy. DataTables maps each one to the Table inputs it ignores.
ADOPTION_TOLERANCES = (
    "indexes",
    "billing",
    "pitr",
    "deletionProtection",
    "encryption",
    "stream",
    "tags",
    "tableClass",
    "replicas",
)


class ConfigError(pulumi.RunError):
    """A config value that is invalid, outside AWS limits or below the prod floor."""


@dataclass(frozen=True)
class SecurityTier:
    """Security and reliability settings that differ between dev, test and prod."""

    name: str
    mfa: MfaMode
    password_min_length: int
    password_require_symbols: bool
    token_validity_minutes: int
    refresh_token_validity_days: int
    backups: bool
    # A customer-managed KMS key with rotation encrypts the credentials table at rest.
    customer_managed_keys: bool
    deletion_protection: bool
    site_versioning: bool
    reserved_concurrency: int | None
    monitoring: Monitoring
    custom_domain: bool
    log_retention_days: int
    throttle_burst_limit: int
    throttle_rate_limit: int
    # Lets a React dev server on localhost call the API (CORS).
    cors_localhost: bool
    # The deploy role also trusts workflow jobs on main that name no GitHub
    # environment. Without it, only jobs in the stack's environment may deploy.
    deploy_from_main_branch: bool

    @property
    def alarms(self) -> bool:
        return self.monitoring == "alarms"

    @property
    def tracing(self) -> bool:
        return self.monitoring == "alarms"


RELAXED = SecurityTier(
    name="relaxed",
    mfa="optional",
    password_min_length=8,
    password_require_symbols=False,
    token_validity_minutes=24 * 60,
    refresh_token_validity_days=30,
    backups=False,
    customer_managed_keys=False,
    deletion_protection=False,
    site_versioning=False,
    reserved_concurrency=10,
    monitoring="logs",
    custom_domain=False,
    log_retention_days=14,
    throttle_burst_limit=100,
    throttle_rate_limit=50,
    cors_localhost=True,
    deploy_from_main_branch=True,
)
MODERATE = replace(
    RELAXED, name="moderate", log_retention_days=30, cors_localhost=False
)
MAXIMUM = SecurityTier(
    name="maximum",
    mfa="required",
    password_min_length=12,
    password_require_symbols=True,
    token_validity_minutes=60,
    refresh_token_validity_days=7,
    backups=True,
    customer_managed_keys=True,
    deletion_protection=True,
    site_versioning=True,
    reserved_concurrency=100,
    monitoring="alarms",
    custom_domain=True,
    # 365 days matches Checkov CKV_AWS_338 and the AWS Config rule default.
    log_retention_days=365,
    throttle_burst_limit=1000,
    throttle_rate_limit=500,
    cors_localhost=False,
    # Deploys need a job in the GitHub environment prod, which required reviewers guard.
    deploy_from_main_branch=False,
)
TIERS: Mapping[str, SecurityTier] = {"dev": RELAXED, "test": MODERATE, "prod": MAXIMUM}

# The weakest value each prod setting may be overridden to.
PROD_FLOOR: Mapping[str, object] = {
    "mfa": "required",
    "password_min_length": 12,
    "password_require_symbols": True,
    "token_validity_minutes": 60,
    "backups": True,
    "customer_managed_keys": True,
    "deletion_protection": True,
    "site_versioning": True,
    "monitoring": "alarms",
}


@dataclass(frozen=True)
class TableAdoption:
    """An existing table that DataTables imports, with the differences it tolerates."""

    suffix: str
    # Entries of ADOPTION_TOLERANCES in that order. Empty once the import is verified.
    tolerated: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeployAccessSettings:
    """The GitHub repository whose workflows deploy the stack, and what they reach."""

    repository: str
    # "create", or the ARN of the account's existing OIDC provider for GitHub.
    oidc_provider: str
    # S3 bucket of a self-managed Pulumi backend, or None for Pulumi Cloud.
    state_bucket: str | None = None
    # KMS alias (alias/...) or key ARN of Pulumi's awskms secrets provider.
    secrets_key: str | None = None

    @property
    def creates_oidc_provider(self) -> bool:
        return self.oidc_provider == "create"


@dataclass(frozen=True)
class StackSettings:
    """Everything the components read: names, region, site build and the tier."""

    environment: str
    project_name: str
    domain_name: str
    github_repo: str | None
    region: str
    alarm_email: str | None
    site_build_dir: Path
    powertools_layer_version: int
    tier: SecurityTier
    adopted_tables: tuple[TableAdoption, ...] = ()
    # The CI roles that GitHub Actions assumes, or None for a stack without them.
    deploy_access: DeployAccessSettings | None = None

    def adoption(self, suffix: str) -> TableAdoption | None:
        """Return how the table with this suffix is adopted, or None to create it."""
        for adoption in self.adopted_tables:
            if adoption.suffix == suffix:
                return adoption
        return None

    @property
    def prefix(self) -> str:
        return f"{self.project_name}-{self.environment}"

    def table_name(self, suffix: str) -> str:
        """Return the fixed table name, such as pfmon-dev-UserProfiles."""
        return f"{self.prefix}-{suffix}"

    def function_name(self, family: str) -> str:
        """Return the fixed function name, such as pfmon-profile-dev."""
        return f"{self.project_name}-{family}-{self.environment}"

    def role_name(self, family: str) -> str:
        """Return a function's execution role name, such as pfmon-profile-dev-role."""
        return f"{self.function_name(family)}-role"

    def resource_name(self, suffix: str) -> str:
        """Return the name of any other resource, such as pfmon-dev-api."""
        return f"{self.prefix}-{suffix}"

    @property
    def site_domain(self) -> str:
        """Return the site's host name when the custom domain is on.

        Prod serves app.<domainName>. Another stack gets app-<env>.<domainName>, so a
        dev or test stack with customDomain on never claims the prod host name.
        """
        if self.environment == "prod":
            return f"app.{self.domain_name}"
        return f"app-{self.environment}.{self.domain_name}"


# Tier override keys in Pulumi.yaml and the tier field each one sets.
OVERRIDE_KEYS: Mapping[str, str] = {
    "mfa": "mfa",
    "passwordMinLength": "password_min_length",
    "passwordRequireSymbols": "password_require_symbols",
    "tokenValidity": "token_validity_minutes",
    "backups": "backups",
    "customerManagedKeys": "customer_managed_keys",
    "deletionProtection": "deletion_protection",
    "siteVersioning": "site_versioning",
    "reservedConcurrency": "reserved_concurrency",
    "monitoring": "monitoring",
    "customDomain": "custom_domain",
}
PLAIN_KEYS = (
    "environment",
    "projectName",
    "domainName",
    "githubRepo",
    "githubOidcProvider",
    "pulumiStateBucket",
    "pulumiSecretsKey",
    "alarmEmail",
    "siteBuildDir",
    "powertoolsLayerVersion",
    "adoptTables",
)
KNOWN_KEYS = frozenset(PLAIN_KEYS) | frozenset(OVERRIDE_KEYS)

_PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
_DOMAIN_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_DOMAIN_LABEL}\.)+[a-z]{{2,63}}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}$", re.IGNORECASE)
_GITHUB_REPO = re.compile(
    r"^(?:https://github\.com/)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$"
)
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:oidc-provider/"
    r"token\.actions\.githubusercontent\.com$"
)
# S3's rules for a bucket name, except that dots are allowed anywhere in between.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KMS_KEY = re.compile(
    r"^(?:alias/(?!aws/)[A-Za-z0-9/_-]{1,250}"
    r"|arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,64})$"
)
_TOKEN_VALIDITY = re.compile(r"^(\d{1,4})([mh])$")
# The CLI passes a YAML boolean of a stack file as "true" or "false". The mock runtime
# passes Python's "True" or "False", so the case is ignored.
_TRUE = {"true"}
_FALSE = {"false"}


class _Reader:
    """Read raw config strings and build errors that name the stack and the fix."""

    def __init__(self, values: Mapping[str, str], stack: str) -> None:
        self.values = values
        self.stack = stack

    def raw(self, key: str) -> str:
        return self.values.get(key, "")

    def fail(self, key: str, value: str, allowed: str) -> ConfigError:
        fix = f"pulumi config set {key} <value> -s {self.stack}"
        if value:
            return ConfigError(
                f"{CONFIG_NAMESPACE}:{key} = {value!r} is invalid: {allowed}. "
                f"Fix: {fix}"
            )
        return ConfigError(
            f"{CONFIG_NAMESPACE}:{key} is missing: {allowed}. Fix: {fix}"
        )

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise self.fail(key, value, "expected true or false")

    def integer(self, key: str, low: int, high: int, unit: str = "") -> int:
        value = self.raw(key)
        allowed = f"expected a whole number from {low} to {high}{unit}"
        if not re.fullmatch(r"\d{1,9}", value):
            raise self.fail(key, value, allowed)
        number = int(value)
        if not low <= number <= high:
            raise self.fail(key, value, allowed)
        return number

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in allowed:
            raise self.fail(key, value, f"expected one of {', '.join(allowed)}")
        return value


def _token_minutes(reader: _Reader, key: str) -> int:
    value = reader.raw(key)
    low, high = TOKEN_VALIDITY_MINUTES
    allowed = (
        "expected <n>m or <n>h from 5m to 24h, "
        "the Cognito limits for access and ID tokens"
    )
    match = _TOKEN_VALIDITY.fullmatch(value)
    if match is None:
        raise reader.fail(key, value, allowed)
    minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
    if not low <= minutes <= high:
        raise reader.fail(key, value, allowed)
    return minutes


def _reserved_concurrency(reader: _Reader, key: str) -> int | None:
    if reader.raw(key).lower() == "none":
        return None
    low, high = RESERVED_CONCURRENCY
    return reader.integer(key, low, high, unit=", or none")


# Parsers of the non-boolean override keys; every other override key is a boolean.
_OVERRIDE_PARSERS: Mapping[str, Callable[[_Reader, str], object]] = {
    "mfa": lambda reader, key: reader.choice(key, ("optional", "required")),
    "passwordMinLength": lambda reader, key: reader.integer(
        key, *PASSWORD_LENGTH, unit=" (Cognito limits)"
    ),
    "tokenValidity": _token_minutes,
    "reservedConcurrency": _reserved_concurrency,
    "monitoring": lambda reader, key: reader.choice(key, ("logs", "alarms")),
}


def _override_value(reader: _Reader, key: str) -> object:
    parse = _OVERRIDE_PARSERS.get(key, _Reader.boolean)
    return parse(reader, key)


def _apply_overrides(reader: _Reader, tier: SecurityTier) -> SecurityTier:
    changes: dict[str, Any] = {
        OVERRIDE_KEYS[key]: _override_value(reader, key)
        for key in OVERRIDE_KEYS
        if reader.raw(key)
    }
    return replace(tier, **changes)


def _describe_floor(field: str, floor: object) -> str:
    if field == "token_validity_minutes":
        return f"prod allows at most {floor} minutes"
    if isinstance(floor, bool):
        return f"prod requires {str(floor).lower()}"
    if isinstance(floor, int):
        return f"prod requires at least {floor}"
    return f"prod requires {floor}"


def _check_prod_floor(reader: _Reader, tier: SecurityTier) -> None:
    keys_by_field = {field: key for key, field in OVERRIDE_KEYS.items()}
    for field, floor in PROD_FLOOR.items():
        value = getattr(tier, field)
        if field == "token_validity_minutes":
            weaker = value > floor
        elif field == "password_min_length":
            weaker = value < floor
        else:
            weaker = value != floor
        if weaker:
            key = keys_by_field[field]
            raise reader.fail(key, reader.raw(key), _describe_floor(field, floor))


def _check_unknown_keys(reader: _Reader) -> None:
    for key in sorted(reader.values):
        if key in KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
        hint = f"did you mean {close[0]}?" if close else "see Pulumi.yaml for the keys"
        raise ConfigError(
            f"{CONFIG_NAMESPACE}:{key} is not a known config key: {hint} "
            f"Fix: pulumi config rm {key} -s {reader.stack}"
        )


def _github_repo(reader: _Reader) -> str | None:
    value = reader.raw("githubRepo")
    if not value:
        return None
    match = _GITHUB_REPO.fullmatch(value)
    if match is None:
        raise reader.fail(
            "githubRepo", value, "expected owner/name or https://github.com/owner/name"
        )
    return match.group(1)


def _deploy_access(reader: _Reader) -> DeployAccessSettings | None:
    """Validate the CI role keys: githubOidcProvider and what it needs or allows."""
    provider = reader.raw("githubOidcProvider")
    state_bucket = reader.raw("pulumiStateBucket")
    secrets_key = reader.raw("pulumiSecretsKey")
    if state_bucket and not _BUCKET.fullmatch(state_bucket):
        raise reader.fail(
            "pulumiStateBucket",
            state_bucket,
            "expected an S3 bucket name of 3 to 63 lowercase letters, digits, dots "
            "and hyphens",
        )
    if secrets_key and not _KMS_KEY.fullmatch(secrets_key):
        raise reader.fail(
            "pulumiSecretsKey",
            secrets_key,
            "expected a KMS alias such as alias/pfmon-pulumi, or a key ARN",
        )
    if not provider:
        _check_unused_backend_keys(reader)
        return None
    if provider != "create" and not _OIDC_PROVIDER_ARN.fullmatch(provider):
        raise reader.fail(
            "githubOidcProvider",
            provider,
            "expected create, or the ARN arn:aws:iam::<account id>:oidc-provider/"
            "token.actions.githubusercontent.com of the account's existing provider",
        )
    repository = _github_repo(reader)
    if repository is None:
        raise reader.fail(
            "githubRepo",
            "",
            f"githubOidcProvider = {provider!r} needs the GitHub repository whose "
            "workflows deploy this stack, as owner/name",
        )
    return DeployAccessSettings(
        repository=repository,
        oidc_provider=provider,
        state_bucket=state_bucket or None,
        secrets_key=secrets_key or None,
    )


def _check_unused_backend_keys(reader: _Reader) -> None:
    for key in ("pulumiStateBucket", "pulumiSecretsKey"):
        value = reader.raw(key)
        if value:
            raise ConfigError(
                f"{CONFIG_NAMESPACE}:{key} = {value!r} is set, but "
                f"{CONFIG_NAMESPACE}:githubOidcProvider is empty, so no CI role uses "
                f"it. Fix: pulumi config set githubOidcProvider create -s "
                f"{reader.stack}, or pulumi config rm {key} -s {reader.stack}"
            )


def _alarm_email(reader: _Reader, tier: SecurityTier) -> str | None:
    value = reader.raw("alarmEmail")
    if value and not _EMAIL.fullmatch(value):
        raise reader.fail("alarmEmail", value, "expected an e-mail address")
    if tier.alarms and not value:
        raise reader.fail(
            "alarmEmail", value, "monitoring alarms needs an address to notify"
        )
    return value or None


def _site_build_dir(reader: _Reader) -> Path:
    value = reader.raw("siteBuildDir")
    if not value or "\x00" in value:
        raise reader.fail("siteBuildDir", value, "expected a directory path")
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def _adopted_tables(reader: _Reader) -> tuple[TableAdoption, ...]:
    """Parse adoptTables: empty, all, or entries such as JournalEntries:indexes+pitr."""
    value = reader.raw("adoptTables")
    if not value:
        return ()
    if value == "all":
        return tuple(TableAdoption(suffix) for suffix in TABLE_SUFFIXES)
    adoptions = [_table_adoption(reader, value, entry) for entry in value.split(",")]
    suffixes = [adoption.suffix for adoption in adoptions]
    repeated = sorted({suffix for suffix in suffixes if suffixes.count(suffix) > 1})
    if repeated:
        raise reader.fail(
            "adoptTables",
            value,
            f"{', '.join(repeated)} appears more than once, so name each table once",
        )
    return tuple(adoptions)


def _table_adoption(reader: _Reader, value: str, entry: str) -> TableAdoption:
    suffix, colon, tolerated = (part.strip() for part in entry.partition(":"))
    if suffix == "all":
        raise reader.fail(
            "adoptTables",
            value,
            "all stands alone, so name each table to tolerate changes for it",
        )
    if suffix not in TABLE_SUFFIXES:
        close = difflib.get_close_matches(suffix, TABLE_SUFFIXES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise reader.fail(
            "adoptTables",
            value,
            f"unknown table {suffix!r}{hint}, expected all or a comma-separated list "
            f"of {', '.join(TABLE_SUFFIXES)}",
        )
    changes = [change.strip() for change in tolerated.split("+")] if colon else []
    unknown = [change for change in changes if change not in ADOPTION_TOLERANCES]
    if unknown or len(set(changes)) != len(changes):
        invalid = repr(unknown[0]) if unknown else "a repeated change"
        raise reader.fail(
            "adoptTables",
            value,
            f"{invalid} after {suffix}: is not a tolerated change, expected one or "
            f"more of {', '.join(ADOPTION_TOLERANCES)} joined by +",
        )
    ordered = tuple(change for change in ADOPTION_TOLERANCES if change in changes)
    return TableAdoption(suffix, ordered)


def build_settings(values: Mapping[str, str], stack: str, region: str) -> StackSettings:
    """Validate raw config strings (keys without namespace) and build the settings.

    `values` contains the declared defaults overlaid with the stack's own values, as the
    Pulumi CLI passes them to the program. Raises `ConfigError` on the first bad value.
    """
    reader = _Reader(values, stack)
    _check_unknown_keys(reader)

    environment = reader.choice("environment", tuple(TIERS))
    if stack in TIERS and stack != environment:
        raise reader.fail(
            "environment", environment, f"stack {stack} must use environment {stack}"
        )
    project_name = reader.raw("projectName")
    if not _PROJECT_NAME.fullmatch(project_name):
        raise reader.fail(
            "projectName",
            project_name,
            "expected 2 to 20 lowercase letters, digits or hyphens, "
            "starting with a letter",
        )
    domain_name = reader.raw("domainName")
    if not _DOMAIN.fullmatch(domain_name):
        raise reader.fail("domainName", domain_name, "expected a lowercase DNS name")
    if not _REGION.fullmatch(region):
        raise ConfigError(
            f"aws:region = {region!r} is invalid: expected an AWS region such as "
            f"us-east-1. Fix: pulumi config set aws:region us-east-1 -s {stack}"
        )

    tier = _apply_overrides(reader, TIERS[environment])
    if environment == "prod":
        _check_prod_floor(reader, tier)

    return StackSettings(
        environment=environment,
        project_name=project_name,
        domain_name=domain_name,
        github_repo=_github_repo(reader),
        region=region,
        alarm_email=_alarm_email(reader, tier),
        site_build_dir=_site_build_dir(reader),
        powertools_layer_version=reader.integer("powertoolsLayerVersion", 1, 9999),
        tier=tier,
        adopted_tables=_adopted_tables(reader),
        deploy_access=_deploy_access(reader),
    )


def read_project_config() -> dict[str, str]:
    """Return this program's config values, keys without the namespace, as strings."""
    prefix = f"{CONFIG_NAMESPACE}:"
    # The CLI passes config in the PULUMI_CONFIG environment variable; tests and the
    # mock runtime set it with set_all_config, which takes precedence as in get_config.
    config = {
        **pulumi.runtime.config.get_config_env(),
        **pulumi.runtime.config.CONFIG.get(),
    }
    return {
        key[len(prefix) :]: "" if value is None else str(value)
        for key, value in config.items()
        if key.startswith(prefix)
    }


def load_settings() -> StackSettings:
    """Build the settings of the running stack from its Pulumi config."""
    region = pulumi.Config("aws").get("region") or ""
    return build_settings(read_project_config(), pulumi.get_stack(), region)


def tier_rows(tier: SecurityTier) -> dict[str, object]:
    """Return the tier as {field: value}, in declaration order."""
    return {field.name: getattr(tier, field.name) for field in fields(tier)}
