"""Enforcement levels: which rules each environment relaxes, and why.

Every rule checks the prod standard in every stack. In prod every rule is mandatory.
In dev and test a rule is advisory only where the security tier of that environment
(`components/settings.py`) deliberately differs from prod. A relaxed rule still shows
its finding as a warning, and every other rule still blocks the deployment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pulumi_policy import EnforcementLevel

ENVIRONMENTS = ("dev", "test", "prod")
# With no environment to read (`pulumi policy publish` runs the pack without a stack),
# the pack enforces the strictest one.
DEFAULT_ENVIRONMENT = "prod"
# The stack config key that names the environment, as `Pulumi.<stack>.yaml` sets it.
ENVIRONMENT_CONFIG_KEY = "pfmon:environment"

DEV_AND_TEST = frozenset({"dev", "test"})


@dataclass(frozen=True)
class Relaxation:
    """Environments where a rule is advisory, and the tier setting that explains it."""

    environments: frozenset[str]
    reason: str


# Rule name -> the environments whose tier relaxes it. Each entry mirrors one setting
# of the tier table, and the tests assert that dev and test report advisory findings
# for exactly these rules.
TIER_RELAXATIONS: Mapping[str, Relaxation] = {
    "apigw-cors-https-origins": Relaxation(
        frozenset({"dev"}),
        "the dev API also allows http://localhost origins, so that a React dev "
        "server on a developer's machine can call it",
    ),
    "lambda-tracing-active": Relaxation(
        DEV_AND_TEST,
        "monitoring is logs only in dev and test, and X-Ray tracing is prod only",
    ),
    "lambda-error-alarms": Relaxation(
        DEV_AND_TEST,
        "monitoring is logs only in dev and test, and alarms to an SNS topic are "
        "prod only",
    ),
    "log-group-retention-one-year": Relaxation(
        DEV_AND_TEST,
        "dev keeps logs 14 days and test 30 days to save cost, while prod keeps 365",
    ),
    "dynamodb-pitr": Relaxation(
        DEV_AND_TEST,
        "DynamoDB backups (point-in-time recovery and the AWS Backup plan) are off "
        "in dev and test",
    ),
    "dynamodb-backup-plan": Relaxation(
        DEV_AND_TEST,
        "DynamoDB backups (point-in-time recovery and the AWS Backup plan) are off "
        "in dev and test",
    ),
    "dynamodb-deletion-protection": Relaxation(
        DEV_AND_TEST,
        "deletion protection and Pulumi protect are off in dev and test, so that "
        "`pulumi destroy` can tear those stacks down",
    ),
    "dynamodb-credentials-cmk": Relaxation(
        DEV_AND_TEST,
        "dev and test encrypt the tables with the AWS owned key, because "
        "customer-managed table keys are prod only",
    ),
    "cognito-mfa-required": Relaxation(
        DEV_AND_TEST,
        "MFA is optional (TOTP) in dev and test, so that automated end-to-end tests "
        "can sign in",
    ),
    "cognito-password-strength": Relaxation(
        DEV_AND_TEST,
        "dev and test passwords need 8 characters and no symbol, while prod needs "
        "12 and a symbol",
    ),
    "cognito-deletion-protection": Relaxation(
        DEV_AND_TEST,
        "deletion protection and Pulumi protect are off in dev and test, so that "
        "`pulumi destroy` can tear those stacks down",
    ),
    "cognito-client-token-validity": Relaxation(
        DEV_AND_TEST,
        "access and ID tokens are valid 24 hours in dev and test, and 1 hour in prod",
    ),
    "kms-key-protected": Relaxation(
        DEV_AND_TEST,
        "deletion protection and Pulumi protect are off in dev and test, so that "
        "`pulumi destroy` can tear those stacks down",
    ),
    "s3-bucket-versioning-lifecycle": Relaxation(
        DEV_AND_TEST,
        "S3 versioning and lifecycle rules on the site bucket are a prod setting",
    ),
    "cloudfront-custom-certificate-tls": Relaxation(
        DEV_AND_TEST,
        "dev and test serve the site on its CloudFront domain with the default "
        "certificate, while prod serves app.<domainName> with an ACM certificate",
    ),
}

# Rule name -> why the rule is advisory in every environment, prod included.
ADVISORY_RULES: Mapping[str, str] = {
    "lambda-reserved-concurrency": (
        "a stack may set reservedConcurrency to none, because a new account's "
        "concurrency quota can be too small to reserve any"
    ),
}


def enforcement_level(rule_name: str, environment: str) -> EnforcementLevel:
    """Return how a finding of `rule_name` counts in `environment`.

    Raises ValueError for an environment other than dev, test or prod.
    """
    if environment not in ENVIRONMENTS:
        raise ValueError(
            f"environment {environment!r} is invalid: expected one of "
            f"{', '.join(ENVIRONMENTS)}"
        )
    if rule_name in ADVISORY_RULES:
        return EnforcementLevel.ADVISORY
    relaxation = TIER_RELAXATIONS.get(rule_name)
    if relaxation is not None and environment in relaxation.environments:
        return EnforcementLevel.ADVISORY
    return EnforcementLevel.MANDATORY


def resolve_environment(environ: Mapping[str, str]) -> str:
    """Return the environment of the stack that the Pulumi CLI runs the pack for.

    The CLI starts a policy pack with the stack's config as JSON in PULUMI_CONFIG and
    the stack name in PULUMI_STACK. The `pfmon:environment` config value wins, then a
    stack named dev, test or prod. Anything else, such as `pulumi policy publish`
    without a stack, gets prod, the strictest environment.
    """
    raw_config = environ.get("PULUMI_CONFIG") or "{}"
    try:
        config = json.loads(raw_config)
    except json.JSONDecodeError:
        config = {}
    if isinstance(config, dict):
        configured = config.get(ENVIRONMENT_CONFIG_KEY)
        if configured in ENVIRONMENTS:
            return str(configured)
    stack = environ.get("PULUMI_STACK", "")
    if stack in ENVIRONMENTS:
        return stack
    return DEFAULT_ENVIRONMENT
