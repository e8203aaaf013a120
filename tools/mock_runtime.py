"""Run the real Pulumi program offline under Pulumi's mock runtime.

`run_stack("prod")` applies the defaults of `Pulumi.yaml` and the values of
`Pulumi.prod.yaml` as the CLI would, runs `__main__.py` with `preview=False`, and
records every resource with its inputs, computed outputs and options (protect,
retainOnDelete, import id, parent). The mocks fill every computed attribute the program
reads, so no output stays unknown and no `apply` is skipped. The tests and `make plan`
use it.
"""

from __future__ import annotations

import hashlib
import os
import runpy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks, rpc

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "pfmon"
ACCOUNT_ID = "123456789012"


@dataclass
class RecordedResource:
    """A registered resource: what the program requested and what the mock returned."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    import_id: str | None = None
    ignore_changes: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    # Explicit provider as "<provider urn>::<provider id>", or "" for the default one.
    provider: str = ""

    @property
    def physical_name(self) -> str | None:
        for key in ("name", "bucket", "domainName", "alias"):
            value = self.inputs.get(key)
            if isinstance(value, str):
                return value
        return None


@dataclass
class StackRun:
    """The result of one offline run: resources, stack outputs and the settings used."""

    stack: str
    config: dict[str, str]
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    program: dict[str, Any]

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> RecordedResource:
        """Return the one resource of a type (and logical name); fail on 0 or many."""
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise LookupError(
                f"expected one {type_token} named {name!r} in stack {self.stack}, "
                f"found {len(found)}; resources of that type: {names}"
            )
        return found[0]

    def named(self, name: str) -> RecordedResource:
        """Return the resource with this logical name, whatever its type."""
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise LookupError(
                f"expected one resource named {name!r}, found {len(found)}"
            )
        return found[0]

    def children_of(self, parent: RecordedResource) -> Iterator[RecordedResource]:
        return (r for r in self.resources if r.parent == parent.urn)

    def descendants_of(self, ancestor: RecordedResource) -> list[RecordedResource]:
        """Return every resource below `ancestor` in the parent tree."""
        found: list[RecordedResource] = []
        pending = [ancestor.urn]
        while pending:
            urn = pending.pop()
            children = [r for r in self.resources if r.parent == urn]
            found.extend(children)
            pending.extend(child.urn for child in children)
        return found


def _arn(service: str, resource: str, region: str, global_service: bool = False) -> str:
    where = "" if global_service else region
    account = "" if service == "s3" else ACCOUNT_ID
    return f"arn:aws:{service}:{where}:{account}:{resource}"


def _fake_id(name: str, length: int = 12) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def computed_outputs(
    type_token: str, name: str, inputs: Mapping[str, Any], region: str
) -> dict[str, Any]:
    """Return the attributes AWS would compute for a resource of this type."""
    physical = inputs.get("name") or f"{name}-{_fake_id(name, 7)}"
    short = _fake_id(name, 10)
    table: dict[str, dict[str, Any]] = {
        "aws:dynamodb/table:Table": {
            "arn": _arn("dynamodb", f"table/{physical}", region),
            "streamArn": None,
        },
        "aws:kms/key:Key": {
            "arn": _arn("kms", f"key/{short}", region),
            "keyId": short,
        },
        "aws:kms/alias:Alias": {"arn": _arn("kms", str(physical), region)},
        "aws:cognito/userPool:UserPool": {
            "arn": _arn("cognito-idp", f"userpool/{region}_{short}", region),
            "endpoint": f"cognito-idp.{region}.amazonaws.com/{region}_{short}",
            "id": f"{region}_{short}",
        },
        "aws:cognito/userPoolClient:UserPoolClient": {"id": f"client{short}"},
        "aws:lambda/function:Function": {
            "arn": _arn("lambda", f"function:{physical}", region),
            "invokeArn": (
                f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
                f"{_arn('lambda', f'function:{physical}', region)}/invocations"
            ),
            "qualifiedArn": _arn("lambda", f"function:{physical}:$LATEST", region),
            "version": "$LATEST",
        },
        "aws:iam/role:Role": {"arn": _arn("iam", f"role/{physical}", "", True)},
        "aws:iam/policy:Policy": {"arn": _arn("iam", f"policy/{physical}", "", True)},
        # IAM names an OIDC provider after its URL without the scheme.
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
            "arn": _arn(
                "iam",
                f"oidc-provider/{str(inputs.get('url', '')).removeprefix('https://')}",
                "",
                True,
            )
        },
        "aws:cloudwatch/logGroup:LogGroup": {
            "arn": _arn("logs", f"log-group:{physical}", region)
        },
        "aws:apigatewayv2/api:Api": {
            "apiEndpoint": f"https://{short}.execute-api.{region}.amazonaws.com",
            "executionArn": _arn("execute-api", short, region),
            "arn": f"arn:aws:apigateway:{region}::/apis/{short}",
            "id": short,
        },
        "aws:apigatewayv2/stage:Stage": {
            "invokeUrl": f"https://{short}.execute-api.{region}.amazonaws.com/",
        },
        "aws:sns/topic:Topic": {"arn": _arn("sns", str(physical), region)},
        "aws:s3/bucket:Bucket": {
            "arn": f"arn:aws:s3:::{inputs.get('bucket') or physical}",
            "bucket": inputs.get("bucket") or physical,
            "bucketRegionalDomainName": (
                f"{inputs.get('bucket') or physical}.s3.{region}.amazonaws.com"
            ),
        },
        "aws:cloudfront/distribution:Distribution": {
            "arn": _arn("cloudfront", f"distribution/E{short.upper()}", "", True),
            "domainName": f"d{short}.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
            "id": f"E{short.upper()}",
        },
        "aws:cloudfront/originAccessControl:OriginAccessControl": {"id": f"OAC{short}"},
        "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": {
            "id": f"rhp-{short}"
        },
        "aws:cloudfront/function:Function": {
            "arn": _arn("cloudfront", f"function/{physical}", "", True)
        },
        "aws:cloudfront/cachePolicy:CachePolicy": {"id": f"cp-{short}"},
        "aws:acm/certificate:Certificate": {
            "arn": _arn("acm", f"certificate/{short}", "us-east-1"),
            "domainValidationOptions": [
                {
                    "domainName": inputs.get("domainName"),
                    "resourceRecordName": f"_{short}.{inputs.get('domainName')}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{short}.acm-validations.aws.",
                }
            ],
        },
        "aws:backup/vault:Vault": {
            "arn": _arn("backup", f"backup-vault:{physical}", region)
        },
        "aws:backup/plan:Plan": {"arn": _arn("backup", f"backup-plan:{short}", region)},
    }
    return {
        "arn": _arn("mock", f"{type_token}/{physical}", region),
        **table.get(type_token, {}),
    }


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str, dict[str, Any]]:
        extra = computed_outputs(args.typ, args.name, args.inputs, self.region)
        resource_id = str(
            extra.pop("id", None) or args.resource_id or f"{args.name}-id"
        )
        return resource_id, {**extra, **args.inputs}

    def call(  # type: ignore[override]
        self, args: pulumi.runtime.MockCallArgs
    ) -> dict[str, Any]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
                "userId": "AIDAMOCK",
                "id": ACCOUNT_ID,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:route53/getZone:getZone":
            return {
                "zoneId": "Z0MOCKZONE",
                "name": args.args.get("name"),
                "id": "Z0MOCKZONE",
            }
        if args.token == "aws:iam/getPolicyDocument:getPolicyDocument":
            raise NotImplementedError(
                "build policy documents as dicts, not with getPolicyDocument"
            )
        return {}


class _RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that also keeps the resource options the engine would see."""

    def __init__(self, mocks_: _Mocks) -> None:
        super().__init__(mocks_)
        self.records: list[RecordedResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        urn = self.make_urn(request.parent, request.type, request.name)
        registration = self.resources[urn]
        self.records.append(
            RecordedResource(
                type=request.type,
                name=request.name,
                urn=urn,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=rpc.deserialize_properties(request.object),
                id=registration.id,
                outputs=dict(registration.state),
                protect=request.HasField("protect") and request.protect,
                retain_on_delete=request.HasField("retainOnDelete")
                and request.retainOnDelete,
                import_id=request.importId or None,
                ignore_changes=tuple(request.ignoreChanges),
                depends_on=tuple(request.dependencies),
                aliases=tuple(
                    alias.urn or alias.spec.name for alias in request.aliases
                ),
                provider=request.provider,
            )
        )
        return response


def _declared_defaults() -> dict[str, str]:
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    values: dict[str, str] = {}
    for key, spec in project.get("config", {}).items():
        if ":" in key:
            values[key] = str(spec["value"])
        elif "default" in spec:
            values[f"{PROJECT}:{key}"] = str(spec["default"])
    return values


def stack_config(
    stack: str, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the config the CLI would pass: declared defaults, then the stack file.

    `overrides` contains extra `key: value` pairs (namespace optional) applied last, as
    `pulumi config set` would.
    """
    values = _declared_defaults()
    stack_file = PROJECT_ROOT / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        stack_values = yaml.safe_load(stack_file.read_text()) or {}
        for key, value in (stack_values.get("config") or {}).items():
            values[key] = str(value)
    for key, value in (overrides or {}).items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        values[full_key] = str(value)
    return values


def run_stack(stack: str, overrides: Mapping[str, str] | None = None) -> StackRun:
    """Run `__main__.py` for a stack under mocks and return what it registered."""
    config = stack_config(stack, overrides)
    region = config.get("aws:region", "us-east-1")
    mocks_ = _Mocks(region)
    monitor = _RecordingMonitor(mocks_)

    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(config)
    pulumi.runtime.set_mocks(
        mocks_, project=PROJECT, stack=stack, preview=False, monitor=monitor
    )

    program: dict[str, Any] = {}
    resolved: dict[str, Any] = {}

    def run() -> pulumi.Output[Any]:
        program.update(
            runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__pfmon__")
        )
        exports = program.get("stack_outputs", {})
        return pulumi.Output.all(**exports).apply(resolved.update)

    previous = Path.cwd()
    os.chdir(PROJECT_ROOT)
    try:
        pulumi.runtime.test(run)()  # type: ignore[no-untyped-call]
    finally:
        os.chdir(previous)
    return StackRun(
        stack=stack,
        config=config,
        resources=monitor.records,
        outputs=resolved,
        program=program,
    )
