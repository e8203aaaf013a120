"""Stack settings: tier selection, overrides, AWS limits, the prod floor and errors."""

from __future__ import annotations

import pytest

from components.settings import (
    MAXIMUM,
    MODERATE,
    RELAXED,
    TABLE_SUFFIXES,
    ConfigError,
    TableAdoption,
    build_settings,
)
from tools.mock_runtime import PROJECT_ROOT, run_stack, stack_config

REGION = "us-east-1"


def settings_for(stack: str, **overrides: str):  # type: ignore[no-untyped-def]
    """Build the settings a stack file yields, with `key=value` overrides."""
    config = stack_config(stack, overrides)
    values = {
        key.split(":", 1)[1]: value
        for key, value in config.items()
        if key.startswith("pfmon:")
    }
    return build_settings(values, stack, config.get("aws:region", REGION))


def config_error(stack: str, **overrides: str) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_for(stack, **overrides)
    return str(caught.value)


# The tier table of the deployment plan, row by row: (field, dev, test, prod).
TIER_TABLE = [
    ("mfa", "optional", "optional", "required"),
    ("password_min_length", 8, 8, 12),
    ("password_require_symbols", False, False, True),
    ("token_validity_minutes", 24 * 60, 24 * 60, 60),
    ("backups", False, False, True),
    ("customer_managed_keys", False, False, True),
    ("deletion_protection", False, False, True),
    ("site_versioning", False, False, True),
    ("reserved_concurrency", 10, 10, 100),
    ("monitoring", "logs", "logs", "alarms"),
    ("custom_domain", False, False, True),
    ("deploy_from_main_branch", True, True, False),
]


@pytest.mark.parametrize(("field", "dev", "test", "prod"), TIER_TABLE)
def test_tier_table_per_stack(
    field: str, dev: object, test: object, prod: object
) -> None:
    assert getattr(settings_for("dev").tier, field) == dev
    assert getattr(settings_for("test").tier, field) == test
    assert getattr(settings_for("prod").tier, field) == prod


def test_stack_files_select_tiers() -> None:
    assert settings_for("dev").tier == RELAXED
    assert settings_for("test").tier == MODERATE
    assert settings_for("prod").tier == MAXIMUM


def test_naming_contract() -> None:
    settings = settings_for("prod")
    assert settings.table_name("UserProfiles") == "pfmon-prod-UserProfiles"
    assert settings.function_name("profile") == "pfmon-profile-prod"
    assert settings.role_name("profile") == "pfmon-profile-prod-role"
    assert settings.resource_name("api") == "pfmon-prod-api"
    assert settings.site_domain == "app.pfmon.com"


def test_project_name_changes_prefix() -> None:
    settings = settings_for("dev", projectName="tj")
    assert settings.table_name("AccountData") == "tj-dev-AccountData"
    assert settings.function_name("entries") == "tj-entries-dev"


def test_overrides_apply_in_dev() -> None:
    settings = settings_for(
        "dev",
        mfa="required",
        passwordMinLength="10",
        tokenValidity="30m",
        reservedConcurrency="none",
        monitoring="alarms",
        alarmEmail="dev-alerts@pfmon.com",
    )
    assert settings.tier.mfa == "required"
    assert settings.tier.password_min_length == 10
    assert settings.tier.token_validity_minutes == 30
    assert settings.tier.reserved_concurrency is None
    assert settings.tier.alarms
    assert settings.alarm_email == "dev-alerts@pfmon.com"


def test_prod_override_above_floor_allowed() -> None:
    settings = settings_for("prod", passwordMinLength="16", tokenValidity="15m")
    assert settings.tier.password_min_length == 16
    assert settings.tier.token_validity_minutes == 15


def test_prod_may_skip_reserved_concurrency() -> None:
    assert (
        settings_for("prod", reservedConcurrency="none").tier.reserved_concurrency
        is None
    )


def test_misspelt_environment_is_one_line() -> None:
    message = config_error("dev", environment="dve")
    assert message == (
        "pfmon:environment = 'dve' is invalid: expected one of dev, test, prod. "
        "Fix: pulumi config set environment <value> -s dev"
    )
    assert "\n" not in message


def test_token_validity_48h_rejected() -> None:
    message = config_error("test", tokenValidity="48h")
    assert message.startswith(
        "pfmon:tokenValidity = '48h' is invalid: expected <n>m or <n>h"
    )
    assert "5m to 24h" in message
    assert message.endswith("Fix: pulumi config set tokenValidity <value> -s test")


def test_prod_optional_mfa_rejected() -> None:
    message = config_error("prod", mfa="optional")
    assert message == (
        "pfmon:mfa = 'optional' is invalid: prod requires required. "
        "Fix: pulumi config set mfa <value> -s prod"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("passwordMinLength", "8", "prod requires at least 12"),
        ("passwordRequireSymbols", "false", "prod requires true"),
        ("tokenValidity", "2h", "prod allows at most 60 minutes"),
        ("backups", "false", "prod requires true"),
        ("customerManagedKeys", "false", "prod requires true"),
        ("deletionProtection", "false", "prod requires true"),
        ("siteVersioning", "false", "prod requires true"),
        ("monitoring", "logs", "prod requires alarms"),
    ],
)
def test_prod_floor_per_key(key: str, value: str, expected: str) -> None:
    message = config_error("prod", **{key: value})
    assert message.startswith(f"pfmon:{key} = '{value}' is invalid: {expected}.")


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("passwordMinLength", "5", "from 6 to 99"),
        ("passwordMinLength", "100", "from 6 to 99"),
        ("passwordMinLength", "twelve", "from 6 to 99"),
        ("tokenValidity", "4m", "5m to 24h"),
        ("tokenValidity", "25h", "5m to 24h"),
        ("tokenValidity", "1d", "5m to 24h"),
        ("tokenValidity", "-1h", "5m to 24h"),
        ("reservedConcurrency", "0", "from 1 to 1000, or none"),
        ("reservedConcurrency", "1001", "from 1 to 1000, or none"),
        ("mfa", "off", "expected one of optional, required"),
        ("monitoring", "xray", "expected one of logs, alarms"),
        ("backups", "maybe", "expected true or false"),
        ("backups", "yes", "expected true or false"),
        ("siteVersioning", "on", "expected true or false"),
        ("passwordMinLength", " 12", "from 6 to 99"),
        ("projectName", "PFMON", "lowercase letters"),
        ("projectName", "p", "lowercase letters"),
        ("domainName", "not a domain", "DNS name"),
        ("githubRepo", "not/a/repo/path", "owner/name"),
        ("alarmEmail", "ops-at-pfmon", "e-mail address"),
        ("powertoolsLayerVersion", "0", "from 1 to 9999"),
        ("githubOidcProvider", "yes", "expected create, or the ARN"),
        (
            "githubOidcProvider",
            "arn:aws:iam::123456789012:oidc-provider/gitlab.com",
            "expected create, or the ARN",
        ),
        ("pulumiStateBucket", "Pulumi_State", "S3 bucket name"),
        ("pulumiStateBucket", "s3://pfmon-state", "S3 bucket name"),
        ("pulumiSecretsKey", "pfmon-pulumi", "KMS alias"),
        ("pulumiSecretsKey", "alias/aws/s3", "KMS alias"),
    ],
)
def test_invalid_values_name_key_and_range(key: str, value: str, allowed: str) -> None:
    message = config_error("dev", **{key: value})
    assert message.startswith(f"pfmon:{key} = {value!r} is invalid:")
    assert allowed in message
    assert message.endswith(f"Fix: pulumi config set {key} <value> -s dev")


def test_unknown_key_suggests_spelling() -> None:
    message = config_error("dev", passwordMinLenght="12")
    assert message == (
        "pfmon:passwordMinLenght is not a known config key: did you mean "
        "passwordMinLength? Fix: pulumi config rm passwordMinLenght -s dev"
    )


def test_stack_name_must_match_environment() -> None:
    message = config_error("prod", environment="dev")
    assert "stack prod must use environment prod" in message


def test_other_stack_names_choose_environment() -> None:
    values = {"environment": "test", "projectName": "pfmon", "domainName": "pfmon.com"}
    values |= {"siteBuildDir": "frontend/build", "powertoolsLayerVersion": "27"}
    settings = build_settings(values, "alice-sandbox", REGION)
    assert settings.environment == "test"


def test_alarms_need_email() -> None:
    message = config_error("prod", alarmEmail="")
    assert message.startswith("pfmon:alarmEmail is missing: monitoring alarms needs")


def test_invalid_region_rejected() -> None:
    message = config_error("dev", **{"aws:region": "mars-1"})
    assert message.startswith("aws:region = 'mars-1' is invalid")


def test_github_repo_url_normalised() -> None:
    url = "https://github.com/pfmon/pfmon-infra.git"
    assert settings_for("dev", githubRepo=url).github_repo == "pfmon/pfmon-infra"
    assert settings_for("dev", githubRepo="pfmon/infra").github_repo == "pfmon/infra"
    assert settings_for("dev").github_repo is None


def test_site_build_dir_relative_to_project() -> None:
    assert settings_for("dev").site_build_dir == PROJECT_ROOT / "frontend" / "build"
    assert settings_for("dev", siteBuildDir="/srv/app").site_build_dir.as_posix() == (
        "/srv/app"
    )


def test_booleans_ignore_case() -> None:
    assert settings_for("dev", backups="True").tier.backups
    assert not settings_for("prod", customDomain="FALSE").tier.custom_domain


def test_site_domain_per_environment() -> None:
    # Only prod may claim app.<domainName>; other stacks get their own host name.
    assert settings_for("prod").site_domain == "app.pfmon.com"
    assert settings_for("dev", customDomain="true").site_domain == "app-dev.pfmon.com"
    assert settings_for("test").site_domain == "app-test.pfmon.com"


def test_settings_are_immutable() -> None:
    settings = settings_for("prod")
    with pytest.raises(AttributeError):
        settings.tier.mfa = "optional"  # type: ignore[misc]


def test_program_stops_on_bad_config() -> None:
    # GIVEN a prod stack whose config sets MFA to optional
    # WHEN the real program runs under the mock runtime
    # THEN it stops with the ConfigError and registers nothing past the settings
    with pytest.raises(ConfigError, match="pfmon:mfa = 'optional'"):
        run_stack("prod", {"mfa": "optional"})


# adoptTables: existing tables that DataTables imports


def test_adopt_tables_default_empty() -> None:
    assert settings_for("dev").adopted_tables == ()
    assert settings_for("prod").adopted_tables == ()
    assert settings_for("dev").adoption("UserProfiles") is None


def test_adopt_tables_all() -> None:
    adopted = settings_for("dev", adoptTables="all").adopted_tables
    assert adopted == tuple(TableAdoption(suffix) for suffix in TABLE_SUFFIXES)


def test_adopt_tables_list_and_tolerances() -> None:
    # GIVEN changes in any order and spaces around entries
    settings = settings_for(
        "dev", adoptTables="JournalEntries:pitr+indexes, AccountData"
    )
    # THEN the tolerances follow ADOPTION_TOLERANCES order
    assert settings.adopted_tables == (
        TableAdoption("JournalEntries", ("indexes", "pitr")),
        TableAdoption("AccountData"),
    )
    assert settings.adoption("AccountData") == TableAdoption("AccountData")
    assert settings.adoption("UserProfiles") is None


def test_test_stack_file_adopts_all() -> None:
    assert len(settings_for("test").adopted_tables) == len(TABLE_SUFFIXES)


def test_adopt_unknown_table_message() -> None:
    message = config_error("test", adoptTables="UserProfile")
    assert message == (
        "pfmon:adoptTables = 'UserProfile' is invalid: unknown table 'UserProfile' "
        "(did you mean UserProfiles?), expected all or a comma-separated list of "
        "UserProfiles, JournalEntries, UserCredentials, AccountData. "
        "Fix: pulumi config set adoptTables <value> -s test"
    )


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("Users", "unknown table 'Users', expected all or a comma-separated list"),
        ("UserProfiles,,AccountData", "unknown table ''"),
        ("all,UserProfiles", "all stands alone"),
        ("all:pitr", "all stands alone"),
        ("JournalEntries:gsi", "'gsi' after JournalEntries: is not a tolerated"),
        ("JournalEntries:", "'' after JournalEntries: is not a tolerated change"),
        ("JournalEntries:pitr+pitr", "a repeated change after JournalEntries:"),
        ("UserProfiles,UserProfiles", "UserProfiles appears more than once"),
        ("ALL", "unknown table 'ALL'"),
    ],
)
def test_adopt_tables_invalid(value: str, allowed: str) -> None:
    message = config_error("dev", adoptTables=value)
    assert message.startswith(f"pfmon:adoptTables = {value!r} is invalid: ")
    assert allowed in message
    assert message.endswith("Fix: pulumi config set adoptTables <value> -s dev")


def test_adopt_tolerance_lists_allowed() -> None:
    message = config_error("dev", adoptTables="JournalEntries:gsi")
    assert (
        "expected one or more of indexes, billing, pitr, deletionProtection, "
        "encryption, stream, tags, tableClass, replicas joined by +"
    ) in message


# githubOidcProvider and the state backend keys: the CI roles of DeployAccess

OIDC_PROVIDER_ARN = (
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
)


def test_deploy_access_off_by_default() -> None:
    for stack in ("dev", "test", "prod"):
        assert settings_for(stack).deploy_access is None


def test_deploy_access_create_provider() -> None:
    settings = settings_for(
        "prod",
        githubRepo="https://github.com/pfmon/pfmon-infra",
        githubOidcProvider="create",
        pulumiStateBucket="pfmon-pulumi-state-123456789012",
        pulumiSecretsKey="alias/pfmon-pulumi",
    )
    access = settings.deploy_access
    assert access is not None
    assert access.repository == "pfmon/pfmon-infra"
    assert access.creates_oidc_provider
    assert access.state_bucket == "pfmon-pulumi-state-123456789012"
    assert access.secrets_key == "alias/pfmon-pulumi"


def test_deploy_access_existing_provider() -> None:
    settings = settings_for(
        "dev", githubRepo="pfmon/infra", githubOidcProvider=OIDC_PROVIDER_ARN
    )
    access = settings.deploy_access
    assert access is not None
    assert access.oidc_provider == OIDC_PROVIDER_ARN
    assert not access.creates_oidc_provider
    assert access.state_bucket is None
    assert access.secrets_key is None


def test_oidc_provider_needs_github_repo() -> None:
    message = config_error("test", githubOidcProvider="create")
    assert message == (
        "pfmon:githubRepo is missing: githubOidcProvider = 'create' needs the GitHub "
        "repository whose workflows deploy this stack, as owner/name. "
        "Fix: pulumi config set githubRepo <value> -s test"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pulumiStateBucket", "pfmon-pulumi-state"),
        ("pulumiSecretsKey", "alias/pfmon-pulumi"),
    ],
)
def test_backend_keys_need_oidc_provider(key: str, value: str) -> None:
    message = config_error("dev", githubRepo="pfmon/infra", **{key: value})
    assert message == (
        f"pfmon:{key} = {value!r} is set, but pfmon:githubOidcProvider is empty, so "
        "no CI role uses it. Fix: pulumi config set githubOidcProvider create -s "
        f"dev, or pulumi config rm {key} -s dev"
    )
