"""The whole program per stack: components, naming contract and stack outputs."""

from __future__ import annotations

import re

from pfmon_api import routes, tables
from tools.mock_runtime import StackRun, run_stack

COMPONENT_TYPES = {
    "pfmon:components:DataTables",
    "pfmon:components:AuthPool",
    "pfmon:components:ApiFunctions",
    "pfmon:components:StaticSite",
    "pfmon:components:DeployAccess",
}
OUTPUTS = {
    "apiUrl",
    "siteUrl",
    "region",
    "userPoolId",
    "userPoolClientId",
    "tableNames",
    "tier",
}
# Exported when githubOidcProvider gives the stack its CI roles.
DEPLOY_ACCESS_OUTPUTS = {"deployRoleArn", "previewRoleArn"}


def test_each_component_once(stack_run: StackRun) -> None:
    components = [r for r in stack_run.resources if not r.custom]
    top_level = [r for r in components if r.type in COMPONENT_TYPES]
    assert sorted(r.type for r in top_level) == sorted(COMPONENT_TYPES)


def test_every_resource_has_component_parent(stack_run: StackRun) -> None:
    for resource in stack_run.resources:
        if resource.type in COMPONENT_TYPES:
            continue
        assert "$pfmon:components:" in resource.parent, (
            f"{resource.type} {resource.name} is not inside a component"
        )


def test_child_names_carry_component_prefix(stack_run: StackRun) -> None:
    components = {
        r.urn: r.name for r in stack_run.resources if r.type in COMPONENT_TYPES
    }
    for resource in stack_run.resources:
        owner = next(
            (name for urn, name in components.items() if resource.parent == urn), None
        )
        if owner is not None:
            assert resource.name.startswith(f"{owner}-"), resource.name


def test_table_names_contract(stack_run: StackRun) -> None:
    env = stack_run.stack
    names = sorted(
        r.inputs["name"] for r in stack_run.of_type("aws:dynamodb/table:Table")
    )
    expected = sorted(f"pfmon-{env}-{t.suffix}" for t in tables.TABLES)
    assert names == expected


def test_function_names_contract(stack_run: StackRun) -> None:
    env = stack_run.stack
    names = sorted(
        r.inputs["name"] for r in stack_run.of_type("aws:lambda/function:Function")
    )
    assert names == sorted(f"pfmon-{spec.family}-{env}" for spec in routes.FUNCTIONS)


# Resource types whose `name` input is not a physical name under the contract.
UNPREFIXED_NAME_TYPES = {
    # The HTTP API's only stage is named "$default".
    "aws:apigatewayv2/stage:Stage",
    # DNS record names are host names such as app.pfmon.com.
    "aws:route53/record:Record",
}


def test_physical_names_carry_prefix(stack_run: StackRun) -> None:
    env = stack_run.stack
    pattern = re.compile(rf"(^|/)pfmon-({env}-|[a-z-]+-{env}\b)")
    for resource in stack_run.resources:
        name = resource.inputs.get("name")
        if not isinstance(name, str) or resource.type in UNPREFIXED_NAME_TYPES:
            continue
        if resource.type.startswith("aws:"):
            assert pattern.search(name), f"{resource.type} has name {name!r}"


def test_stack_outputs(stack_run: StackRun) -> None:
    outputs = stack_run.outputs
    env = stack_run.stack
    assert set(outputs) == OUTPUTS
    assert outputs["tableNames"] == {
        t.suffix: f"pfmon-{env}-{t.suffix}" for t in tables.TABLES
    }
    assert outputs["apiUrl"].startswith("https://")
    assert not outputs["apiUrl"].endswith("/")
    assert outputs["region"] == "us-east-1"
    assert outputs["tier"]["environment"] == env


def test_stack_outputs_with_deploy_access() -> None:
    run = run_stack(
        "test", {"githubRepo": "pfmon/pfmon-infra", "githubOidcProvider": "create"}
    )
    assert set(run.outputs) == OUTPUTS | DEPLOY_ACCESS_OUTPUTS
    assert run.outputs["deployRoleArn"].endswith(":role/pfmon-test-deploy")
    assert run.outputs["previewRoleArn"].endswith(":role/pfmon-test-preview")


def test_outputs_match_resources(stack_run: StackRun) -> None:
    pool = stack_run.one("aws:cognito/userPool:UserPool")
    client = stack_run.one("aws:cognito/userPoolClient:UserPoolClient")
    assert stack_run.outputs["userPoolId"] == pool.id
    assert stack_run.outputs["userPoolClientId"] == client.id


def test_site_url_per_tier(stack_runs: dict[str, StackRun]) -> None:
    assert stack_runs["prod"].outputs["siteUrl"] == "https://app.pfmon.com"
    for stack in ("dev", "test"):
        assert stack_runs[stack].outputs["siteUrl"].endswith(".cloudfront.net")


def test_dev_custom_domain_not_prod_host() -> None:
    # GIVEN a dev stack that turns the custom domain on
    run = run_stack("dev", {"customDomain": "true"})
    # THEN it serves its own host name, never prod's app.pfmon.com
    distribution = run.one("aws:cloudfront/distribution:Distribution")
    assert distribution.inputs["aliases"] == ["app-dev.pfmon.com"]
    assert run.outputs["siteUrl"] == "https://app-dev.pfmon.com"
