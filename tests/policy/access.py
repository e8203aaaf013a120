"""Stack config that gives each stack its CI roles, as docs/deploy.md bootstraps them.

The stack files set no `githubOidcProvider`, so the default runs have no CI roles. The
pack tests and the IAM lint also run every stack with these overrides.
"""

from __future__ import annotations

from tools.mock_runtime import ACCOUNT_ID

REPOSITORY = "pfmon/pfmon-infra"
OIDC_PROVIDER_ARN = (
    f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
)
# A self-managed state backend adds the state policy group to both roles.
STATE_BACKEND = {
    "pulumiStateBucket": f"pfmon-pulumi-state-{ACCOUNT_ID}",
    "pulumiSecretsKey": "alias/pfmon-pulumi",
}


def deploy_access_config(stack: str) -> dict[str, str]:
    """Return the config overrides that give `stack` its deploy and preview roles.

    One stack of the account creates GitHub's OIDC provider (dev here) and the others
    name its ARN. Every stack keeps its state in the self-managed backend.
    """
    provider = "create" if stack == "dev" else OIDC_PROVIDER_ARN
    return {"githubRepo": REPOSITORY, "githubOidcProvider": provider, **STATE_BACKEND}
