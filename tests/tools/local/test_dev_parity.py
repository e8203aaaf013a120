"""The local environment against the dev stack: same tables, pool, functions, CORS.

The dev stack comes from `tools.mock_runtime.run_stack("dev")`, through the
`stack_runs` fixture. The local side is read back from the running emulator with
describe calls, or taken from the functions that build it.
"""

from __future__ import annotations

from typing import Any

import pytest

from components import static_site
from pfmon_api import routes
from tests.tools.local.conftest import RunningEnvironment, aws_client
from tools.local.cognito import LOCAL_AUTH_FLOWS
from tools.local.environment import load_dev_settings
from tools.local.gateway import cors_config
from tools.local.lambda_runtime import CREDENTIALS_KEY_ENV_VAR, function_environment
from tools.local.site import site_config
from tools.mock_runtime import RecordedResource, StackRun

TABLE = "aws:dynamodb/table:Table"
USER_POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"


@pytest.fixture(scope="module")
def dev(stack_runs: dict[str, StackRun]) -> StackRun:
    return stack_runs["dev"]


def declared_table(table: RecordedResource) -> dict[str, Any]:
    """Return keys, attributes and indexes of a table as the dev stack declares it."""
    inputs = table.inputs
    keys = [(inputs["hashKey"], "HASH")]
    if inputs.get("rangeKey"):
        keys.append((inputs["rangeKey"], "RANGE"))
    indexes = []
    for index in inputs.get("globalSecondaryIndexes") or []:
        schema = [(key["attributeName"], key["keyType"]) for key in index["keySchemas"]]
        indexes.append((index["name"], *schema, index["projectionType"]))
    return {
        "keys": keys,
        "attributes": sorted((a["name"], a["type"]) for a in inputs["attributes"]),
        "indexes": sorted(indexes),
    }


def described_table(description: dict[str, Any]) -> dict[str, Any]:
    """Return the same shape from a DescribeTable response of the emulator."""

    def schema(keys: list[dict[str, str]]) -> list[tuple[str, str]]:
        return [(key["AttributeName"], key["KeyType"]) for key in keys]

    return {
        "keys": schema(description["KeySchema"]),
        "attributes": sorted(
            (a["AttributeName"], a["AttributeType"])
            for a in description["AttributeDefinitions"]
        ),
        "indexes": sorted(
            (
                index["IndexName"],
                *schema(index["KeySchema"]),
                index["Projection"]["ProjectionType"],
            )
            for index in description.get("GlobalSecondaryIndexes", [])
        ),
    }


def test_tables_match_dev(dev: StackRun, local_env: RunningEnvironment) -> None:
    dynamodb = aws_client(local_env.endpoints, "dynamodb")
    declared = dev.of_type(TABLE)
    assert sorted(t.inputs["name"] for t in declared) == sorted(
        local_env.endpoints.table_names
    )
    for table in declared:
        name = table.inputs["name"]
        description = dynamodb.describe_table(TableName=name)["Table"]
        assert described_table(description) == declared_table(table), name
        assert (
            description["BillingModeSummary"]["BillingMode"]
            == (table.inputs["billingMode"])
        ), name


def local_pool(env: RunningEnvironment) -> dict[str, Any]:
    cognito = aws_client(env.endpoints, "cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=env.endpoints.user_pool_id)
    return dict(pool["UserPool"])


def test_password_policy_matches_dev(
    dev: StackRun, local_env: RunningEnvironment
) -> None:
    declared = dev.one(USER_POOL).inputs["passwordPolicy"]
    policy = local_pool(local_env)["Policies"]["PasswordPolicy"]
    assert policy == {
        "MinimumLength": declared["minimumLength"],
        "RequireUppercase": declared["requireUppercase"],
        "RequireLowercase": declared["requireLowercase"],
        "RequireNumbers": declared["requireNumbers"],
        "RequireSymbols": declared["requireSymbols"],
        "TemporaryPasswordValidityDays": declared["temporaryPasswordValidityDays"],
    }


def test_mfa_matches_dev(dev: StackRun, local_env: RunningEnvironment) -> None:
    declared = dev.one(USER_POOL).inputs
    mfa = aws_client(local_env.endpoints, "cognito-idp").get_user_pool_mfa_config(
        UserPoolId=local_env.endpoints.user_pool_id
    )
    assert mfa["MfaConfiguration"] == declared["mfaConfiguration"]
    assert (
        mfa["SoftwareTokenMfaConfiguration"]["Enabled"]
        is (declared["softwareTokenMfaConfiguration"]["enabled"])
    )
    assert "SmsMfaConfiguration" not in mfa


def test_sign_in_settings_match_dev(
    dev: StackRun, local_env: RunningEnvironment
) -> None:
    declared = dev.one(USER_POOL).inputs
    pool = local_pool(local_env)
    assert pool["Name"] == declared["name"]
    assert pool["UsernameAttributes"] == declared["usernameAttributes"]
    assert (
        pool["UsernameConfiguration"]["CaseSensitive"]
        is (declared["usernameConfiguration"]["caseSensitive"])
    )
    assert pool["AutoVerifiedAttributes"] == declared["autoVerifiedAttributes"]
    assert pool["DeletionProtection"] == declared["deletionProtection"]
    recovery = declared["accountRecoverySetting"]["recoveryMechanisms"]
    assert pool["AccountRecoverySetting"]["RecoveryMechanisms"] == [
        {"Priority": item["priority"], "Name": item["name"]} for item in recovery
    ]
    function_name = declared["lambdaConfig"]["postConfirmation"].rsplit(":", 1)[-1]
    assert pool["LambdaConfig"]["PostConfirmation"].endswith(f":{function_name}")


def test_client_matches_dev(dev: StackRun, local_env: RunningEnvironment) -> None:
    declared = dev.one(CLIENT).inputs
    client = aws_client(local_env.endpoints, "cognito-idp").describe_user_pool_client(
        UserPoolId=local_env.endpoints.user_pool_id,
        ClientId=local_env.endpoints.client_id,
    )["UserPoolClient"]
    assert client["ClientName"] == declared["name"]
    assert "ClientSecret" not in client
    assert declared["generateSecret"] is False
    # The deployed flows, plus USER_PASSWORD_AUTH for local sign-in only.
    assert client["ExplicitAuthFlows"] == [
        *declared["explicitAuthFlows"],
        "ALLOW_USER_PASSWORD_AUTH",
    ]
    assert client["AccessTokenValidity"] == declared["accessTokenValidity"]
    assert client["IdTokenValidity"] == declared["idTokenValidity"]
    assert client["RefreshTokenValidity"] == declared["refreshTokenValidity"]
    units = declared["tokenValidityUnits"]
    assert client["TokenValidityUnits"] == {
        "AccessToken": units["accessToken"],
        "IdToken": units["idToken"],
        "RefreshToken": units["refreshToken"],
    }
    assert (
        client["PreventUserExistenceErrors"] == declared["preventUserExistenceErrors"]
    )
    assert client["EnableTokenRevocation"] is declared["enableTokenRevocation"]
    assert client["ReadAttributes"] == declared["readAttributes"]
    assert client["WriteAttributes"] == declared["writeAttributes"]


def test_local_flows_extend_deployed(dev: StackRun) -> None:
    declared = dev.one(CLIENT).inputs["explicitAuthFlows"]
    assert list(LOCAL_AUTH_FLOWS) == [*declared, "ALLOW_USER_PASSWORD_AUTH"]


def test_issuer_shape_matches_dev(dev: StackRun, local_env: RunningEnvironment) -> None:
    jwt = dev.one("aws:apigatewayv2/authorizer:Authorizer").inputs["jwtConfiguration"]
    dev_pool = dev.outputs["userPoolId"]
    local = local_env.endpoints
    assert local.issuer == jwt["issuer"].replace(dev_pool, local.user_pool_id)
    assert jwt["audiences"] == [dev.outputs["userPoolClientId"]]


@pytest.mark.parametrize("spec", routes.FUNCTIONS, ids=lambda spec: spec.family)
def test_function_environment_matches_dev(
    dev: StackRun, spec: routes.FunctionSpec
) -> None:
    settings = load_dev_settings()
    function = next(
        f
        for f in dev.of_type("aws:lambda/function:Function")
        if f.inputs["name"] == settings.function_name(spec.family)
    )
    declared = dict(function.inputs["environment"]["variables"])
    local = function_environment(spec, settings, "arn:aws:kms:local")
    # The key's ARN differs by nature, but the variable must be there all the same.
    if CREDENTIALS_KEY_ENV_VAR in declared:
        declared[CREDENTIALS_KEY_ENV_VAR] = "arn:aws:kms:local"
    assert local == declared


def test_cors_matches_dev(dev: StackRun) -> None:
    declared = dev.one("aws:apigatewayv2/api:Api").inputs["corsConfiguration"]
    site_url = dev.outputs["siteUrl"]
    local = cors_config(load_dev_settings(), [])
    assert list(local.allow_origins) == [
        origin for origin in declared["allowOrigins"] if origin != site_url
    ]
    assert list(local.allow_methods) == declared["allowMethods"]
    assert list(local.allow_headers) == declared["allowHeaders"]
    assert local.max_age_seconds == declared["maxAge"]
    assert local.allow_credentials is bool(declared.get("allowCredentials", False))
    assert list(local.expose_headers) == declared.get("exposeHeaders", [])


def test_site_config_keys_match_dev() -> None:
    deployed = static_site.site_config("api", "region", "pool", "client")
    local = site_config("api", "region", "pool", "client", "http://127.0.0.1:5100")
    assert {key: local[key] for key in deployed} == deployed
    assert set(local) - set(deployed) == {"cognitoEndpoint"}
