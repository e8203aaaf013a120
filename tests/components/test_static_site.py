"""StaticSite under Pulumi mocks: bucket, CloudFront, custom domain and uploads."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.settings import ConfigError
from components.site_files import SPA_ROUTING_FUNCTION_JS, object_name
from components.static_site import CACHING_OPTIMIZED_POLICY_ID
from tools.mock_runtime import (
    ACCOUNT_ID,
    PROJECT_ROOT,
    RecordedResource,
    StackRun,
    run_stack,
)

COMPONENT = "pfmon:components:StaticSite"
BUCKET = "aws:s3/bucket:Bucket"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:"
    "BucketServerSideEncryptionConfiguration"
)
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
HEADERS = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
FUNCTION = "aws:cloudfront/function:Function"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
PROVIDER = "pulumi:providers:aws"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"


def _resolve(output: pulumi.Output[Any]) -> Any:
    """Return the value of an output that the finished mock run already resolved."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(output.future())
    finally:
        loop.close()


@contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Collect the warnings that pulumi.log.warn sends to the mock engine's logger."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = _Collect(level=logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield messages
    finally:
        root.removeHandler(handler)


def _site_objects(run: StackRun) -> list[RecordedResource]:
    return [record for record in run.of_type(OBJECT) if record.name != "site-config"]


def _policy_statements(run: StackRun) -> dict[str, dict[str, Any]]:
    policy = json.loads(run.one(POLICY).inputs["policy"])
    return {statement["Sid"]: statement for statement in policy["Statement"]}


# --- bucket ----------------------------------------------------------------------


def test_bucket_name_has_account(stack_run: StackRun) -> None:
    bucket = stack_run.one(BUCKET, "site-bucket")

    assert bucket.inputs["bucket"] == f"pfmon-{stack_run.stack}-site-{ACCOUNT_ID}"


def test_bucket_force_destroy_per_tier(stack_runs: dict[str, StackRun]) -> None:
    assert stack_runs["dev"].one(BUCKET).inputs["forceDestroy"] is True
    assert stack_runs["test"].one(BUCKET).inputs["forceDestroy"] is True
    assert stack_runs["prod"].one(BUCKET).inputs["forceDestroy"] is False


def test_bucket_owner_enforced(stack_run: StackRun) -> None:
    ownership = stack_run.one(OWNERSHIP, "site-ownership")

    assert ownership.inputs["bucket"] == stack_run.one(BUCKET).inputs["bucket"]
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


@pytest.mark.parametrize(
    "flag",
    [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ],
)
def test_public_access_flag_set(stack_run: StackRun, flag: str) -> None:
    block = stack_run.one(PUBLIC_ACCESS_BLOCK, "site-public-access-block")

    assert block.inputs[flag] is True


def test_bucket_encryption_aes256(stack_run: StackRun) -> None:
    encryption = stack_run.one(ENCRYPTION, "site-encryption")

    assert encryption.inputs["bucket"] == stack_run.one(BUCKET).inputs["bucket"]
    assert encryption.inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]


# --- bucket policy ---------------------------------------------------------------


def test_policy_denies_insecure_transport(stack_run: StackRun) -> None:
    bucket_arn = f"arn:aws:s3:::pfmon-{stack_run.stack}-site-{ACCOUNT_ID}"

    assert _policy_statements(stack_run)["DenyInsecureTransport"] == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_policy_allows_only_distribution(stack_run: StackRun) -> None:
    bucket_arn = f"arn:aws:s3:::pfmon-{stack_run.stack}-site-{ACCOUNT_ID}"
    distribution_arn = stack_run.one(DISTRIBUTION).outputs["arn"]

    assert _policy_statements(stack_run)["AllowCloudFrontRead"] == {
        "Sid": "AllowCloudFrontRead",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def test_policy_has_two_statements(stack_run: StackRun) -> None:
    assert sorted(_policy_statements(stack_run)) == [
        "AllowCloudFrontRead",
        "DenyInsecureTransport",
    ]


def test_policy_after_public_access_block(stack_run: StackRun) -> None:
    policy = stack_run.one(POLICY, "site-bucket-policy")
    block = stack_run.one(PUBLIC_ACCESS_BLOCK)

    assert block.urn in policy.depends_on


# --- versioning and lifecycle ----------------------------------------------------


def test_versioning_prod_only(stack_runs: dict[str, StackRun]) -> None:
    versioning = stack_runs["prod"].one(VERSIONING, "site-versioning")

    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert stack_runs["dev"].of_type(VERSIONING) == []
    assert stack_runs["test"].of_type(VERSIONING) == []


def test_lifecycle_prod_only(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    lifecycle = prod.one(LIFECYCLE, "site-lifecycle")

    assert lifecycle.inputs["rules"] == [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrentVersionExpiration": {"noncurrentDays": 30},
        },
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        },
    ]
    assert prod.one(VERSIONING).urn in lifecycle.depends_on
    assert stack_runs["dev"].of_type(LIFECYCLE) == []
    assert stack_runs["test"].of_type(LIFECYCLE) == []


# --- CloudFront ------------------------------------------------------------------


def test_origin_access_control_inputs(stack_run: StackRun) -> None:
    oac = stack_run.one(OAC, "site-origin-access-control")

    assert oac.inputs["name"] == f"pfmon-{stack_run.stack}-site-oac"
    assert oac.inputs["originAccessControlOriginType"] == "s3"
    assert oac.inputs["signingBehavior"] == "always"
    assert oac.inputs["signingProtocol"] == "sigv4"


def test_distribution_origin_uses_oac(stack_run: StackRun) -> None:
    distribution = stack_run.one(DISTRIBUTION, "site-distribution")
    bucket = stack_run.one(BUCKET)

    assert distribution.inputs["origins"] == [
        {
            "originId": "site-bucket",
            "domainName": bucket.outputs["bucketRegionalDomainName"],
            "originAccessControlId": stack_run.one(OAC).id,
        }
    ]


def test_headers_policy_hsts(stack_run: StackRun) -> None:
    headers = stack_run.one(HEADERS, "site-security-headers")
    hsts = headers.inputs["securityHeadersConfig"]["strictTransportSecurity"]

    assert hsts["accessControlMaxAgeSec"] == 63072000
    assert hsts["includeSubdomains"] is True
    assert hsts["override"] is True


def test_headers_policy_other_headers(stack_run: StackRun) -> None:
    config = stack_run.one(HEADERS).inputs["securityHeadersConfig"]

    assert config["contentTypeOptions"] == {"override": True}
    assert config["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert config["referrerPolicy"] == {
        "referrerPolicy": "strict-origin-when-cross-origin",
        "override": True,
    }
    assert config["contentSecurityPolicy"]["override"] is True


def test_csp_allows_api_and_cognito(stack_run: StackRun) -> None:
    config = stack_run.one(HEADERS).inputs["securityHeadersConfig"]
    directives = config["contentSecurityPolicy"]["contentSecurityPolicy"].split("; ")

    assert (
        "connect-src 'self' https://*.execute-api.us-east-1.amazonaws.com "
        "https://cognito-idp.us-east-1.amazonaws.com"
    ) in directives
    assert "default-src 'self'" in directives
    assert "frame-ancestors 'none'" in directives


def test_distribution_behaviour(stack_run: StackRun) -> None:
    distribution = stack_run.one(DISTRIBUTION).inputs
    behaviour = distribution["defaultCacheBehavior"]

    assert distribution["enabled"] is True
    assert distribution["defaultRootObject"] == "index.html"
    assert behaviour["targetOriginId"] == "site-bucket"
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["allowedMethods"] == ["GET", "HEAD"]
    assert behaviour["cachedMethods"] == ["GET", "HEAD"]
    assert behaviour["compress"] is True
    assert behaviour["cachePolicyId"] == CACHING_OPTIMIZED_POLICY_ID
    assert behaviour["responseHeadersPolicyId"] == stack_run.one(HEADERS).id


def test_distribution_edge_settings(stack_run: StackRun) -> None:
    distribution = stack_run.one(DISTRIBUTION).inputs

    assert distribution["priceClass"] == "PriceClass_100"
    assert distribution["httpVersion"] == "http2and3"
    assert distribution["isIpv6Enabled"] is True
    assert distribution["restrictions"] == {
        "geoRestriction": {"restrictionType": "none"}
    }


def test_caching_optimized_policy_id() -> None:
    # The AWS managed policy CachingOptimized has this fixed ID in every account.
    assert CACHING_OPTIMIZED_POLICY_ID == "658327ea-f89d-4fab-a63d-7e88639e58f6"


def test_no_error_response_to_index(stack_run: StackRun) -> None:
    # A 403/404 mapped to index.html would serve HTML for a missing script.
    distribution = stack_run.one(DISTRIBUTION).inputs

    assert distribution.get("customErrorResponses", []) == []


def test_spa_function_associated(stack_run: StackRun) -> None:
    function = stack_run.one(FUNCTION, "site-spa-routing")
    behaviour = stack_run.one(DISTRIBUTION).inputs["defaultCacheBehavior"]

    assert behaviour["functionAssociations"] == [
        {"eventType": "viewer-request", "functionArn": function.outputs["arn"]}
    ]


def test_spa_function_inputs(stack_run: StackRun) -> None:
    function = stack_run.one(FUNCTION, "site-spa-routing")

    assert function.inputs["name"] == f"pfmon-{stack_run.stack}-site-spa-routing"
    assert function.inputs["runtime"] == "cloudfront-js-2.0"
    assert function.inputs["code"] == SPA_ROUTING_FUNCTION_JS
    assert function.inputs["publish"] is True


# --- domain and certificate ------------------------------------------------------


def test_prod_aliases_site_domain(stack_runs: dict[str, StackRun]) -> None:
    distribution = stack_runs["prod"].one(DISTRIBUTION).inputs

    assert distribution["aliases"] == ["app.pfmon.com"]


def test_prod_viewer_certificate(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    validation = prod.one(VALIDATION, "site-certificate-validation")

    assert prod.one(DISTRIBUTION).inputs["viewerCertificate"] == {
        "acmCertificateArn": validation.outputs["certificateArn"],
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert validation.outputs["certificateArn"] == prod.one(CERTIFICATE).outputs["arn"]


def test_prod_certificate_in_us_east_1(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    provider = prod.one(PROVIDER, "site-us-east-1")
    certificate = prod.one(CERTIFICATE, "site-certificate")
    validation = prod.one(VALIDATION)

    assert provider.inputs["region"] == "us-east-1"
    assert provider.parent == prod.one(COMPONENT).urn
    assert certificate.provider == f"{provider.urn}::{provider.id}"
    assert validation.provider == f"{provider.urn}::{provider.id}"
    assert certificate.inputs["domainName"] == "app.pfmon.com"
    assert certificate.inputs["validationMethod"] == "DNS"


def test_prod_validation_record(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    option = prod.one(CERTIFICATE).outputs["domainValidationOptions"][0]
    record = prod.one(RECORD, "site-certificate-validation-record")
    validation = prod.one(VALIDATION)

    assert record.inputs["zoneId"] == "Z0MOCKZONE"
    assert record.inputs["name"] == option["resourceRecordName"]
    assert record.inputs["type"] == option["resourceRecordType"]
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    assert record.provider == ""
    assert record.urn in validation.depends_on


@pytest.mark.parametrize("record_type", ["A", "AAAA"])
def test_prod_alias_record(stack_runs: dict[str, StackRun], record_type: str) -> None:
    prod = stack_runs["prod"]
    distribution = prod.one(DISTRIBUTION)
    record = prod.one(RECORD, f"site-alias-{record_type.lower()}")

    assert record.inputs["zoneId"] == "Z0MOCKZONE"
    assert record.inputs["name"] == "app.pfmon.com"
    assert record.inputs["type"] == record_type
    assert record.inputs["aliases"] == [
        {
            "name": distribution.outputs["domainName"],
            "zoneId": distribution.outputs["hostedZoneId"],
            "evaluateTargetHealth": False,
        }
    ]


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_default_certificate_off_prod(
    stack_runs: dict[str, StackRun], stack: str
) -> None:
    run = stack_runs[stack]
    distribution = run.one(DISTRIBUTION).inputs

    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert distribution["aliases"] == []
    assert run.of_type(CERTIFICATE) == []
    assert run.of_type(VALIDATION) == []
    assert run.of_type(RECORD) == []
    assert [r for r in run.of_type(PROVIDER) if r.name.startswith("site-")] == []


def test_site_url_per_tier(stack_runs: dict[str, StackRun]) -> None:
    assert stack_runs["prod"].outputs["siteUrl"] == "https://app.pfmon.com"
    for stack in ("dev", "test"):
        domain = stack_runs[stack].one(DISTRIBUTION).outputs["domainName"]
        assert stack_runs[stack].outputs["siteUrl"] == f"https://{domain}"


def test_allowed_origins_per_tier(stack_runs: dict[str, StackRun]) -> None:
    origins = {
        stack: _resolve(run.program["site"].allowed_origins)
        for stack, run in stack_runs.items()
    }
    dev_url = stack_runs["dev"].outputs["siteUrl"]
    test_url = stack_runs["test"].outputs["siteUrl"]

    assert origins["dev"] == [dev_url, "http://localhost:3000", "http://localhost:5173"]
    assert origins["test"] == [test_url]
    assert origins["prod"] == ["https://app.pfmon.com"]


def test_children_named_from_component(stack_run: StackRun) -> None:
    component = stack_run.one(COMPONENT, "site")
    children = list(stack_run.children_of(component))

    assert len(children) >= 10
    for child in children:
        assert child.name.startswith("site-"), child.name


# --- region ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def frankfurt_prod() -> StackRun:
    """Return a prod run in eu-central-1, whose certificate stays in us-east-1."""
    return run_stack("prod", {"aws:region": "eu-central-1"})


def test_csp_follows_region(frankfurt_prod: StackRun) -> None:
    config = frankfurt_prod.one(HEADERS).inputs["securityHeadersConfig"]
    csp = config["contentSecurityPolicy"]["contentSecurityPolicy"]

    assert "https://*.execute-api.eu-central-1.amazonaws.com" in csp
    assert "https://cognito-idp.eu-central-1.amazonaws.com" in csp
    assert "us-east-1" not in csp


def test_certificate_region_fixed(frankfurt_prod: StackRun) -> None:
    provider = frankfurt_prod.one(PROVIDER, "site-us-east-1")

    assert provider.inputs["region"] == "us-east-1"
    assert frankfurt_prod.one(CERTIFICATE).provider.startswith(provider.urn)


def test_config_region_follows_stack(frankfurt_prod: StackRun) -> None:
    config = json.loads(frankfurt_prod.one(OBJECT, "site-config").inputs["content"])

    assert config["region"] == "eu-central-1"


# --- config.json -----------------------------------------------------------------


def test_config_json_content(stack_run: StackRun) -> None:
    config_object = stack_run.one(OBJECT, "site-config")

    assert json.loads(config_object.inputs["content"]) == {
        "apiUrl": stack_run.outputs["apiUrl"],
        "region": stack_run.outputs["region"],
        "userPoolId": stack_run.outputs["userPoolId"],
        "userPoolClientId": stack_run.outputs["userPoolClientId"],
    }


def test_config_json_headers(stack_run: StackRun) -> None:
    config_object = stack_run.one(OBJECT, "site-config")

    assert config_object.inputs["key"] == "config.json"
    assert config_object.inputs["bucket"] == stack_run.one(BUCKET).inputs["bucket"]
    assert config_object.inputs["contentType"] == "application/json"
    assert config_object.inputs["cacheControl"] == "no-cache"


# --- absent or invalid build directory -------------------------------------------


def test_absent_build_uploads_only_config(stack_run: StackRun) -> None:
    # GIVEN the default siteBuildDir, frontend/build, which the repository lacks
    assert not (PROJECT_ROOT / stack_run.config["pfmon:siteBuildDir"]).exists()

    # THEN config.json is the only object in the bucket
    assert [record.name for record in stack_run.of_type(OBJECT)] == ["site-config"]


def test_absent_build_logs_warning(tmp_path: Path) -> None:
    missing = tmp_path / "never-built"

    with _captured_warnings() as warnings:
        run = run_stack("dev", {"siteBuildDir": str(missing)})

    site_warnings = [message for message in warnings if str(missing) in message]
    assert len(site_warnings) == 1
    assert "siteBuildDir" in site_warnings[0]
    assert "does not exist" in site_warnings[0]
    assert [record.name for record in run.of_type(OBJECT)] == ["site-config"]


def test_build_path_file_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "build.zip"
    archive.write_bytes(b"PK")

    with pytest.raises(ConfigError, match=r"siteBuildDir = '.*build\.zip' is invalid"):
        run_stack("dev", {"siteBuildDir": str(archive)})


# --- uploads ---------------------------------------------------------------------

BUILD_FILES = {
    "index.html": "<!doctype html><script src='/assets/index-BX3k_9aZ.js'></script>",
    "about/index.html": "<!doctype html>",
    "assets/index-BX3k_9aZ.js": "console.log(1)",
    "assets/index-C1d2E3f4.css": "body{}",
    "assets/logo.svg": "<svg/>",
    "favicon.ico": "ico",
    "manifest.webmanifest": "{}",
    "robots.txt": "User-agent: *",
    "static/media/font.6ce24c58023cc2f8fd88.woff2": "font",
    # The stack publishes its own config.json, so the build's copy is skipped.
    "config.json": '{"apiUrl": "http://localhost:8000"}',
}
EXPECTED_HEADERS = {
    "about/index.html": ("text/html; charset=utf-8", "no-cache"),
    "assets/index-BX3k_9aZ.js": (
        "text/javascript; charset=utf-8",
        "public, max-age=31536000, immutable",
    ),
    "assets/index-C1d2E3f4.css": (
        "text/css; charset=utf-8",
        "public, max-age=31536000, immutable",
    ),
    "assets/logo.svg": ("image/svg+xml", "public, max-age=3600"),
    "favicon.ico": ("image/x-icon", "public, max-age=3600"),
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "manifest.webmanifest": ("application/manifest+json", "public, max-age=3600"),
    "robots.txt": ("text/plain; charset=utf-8", "public, max-age=3600"),
    "static/media/font.6ce24c58023cc2f8fd88.woff2": (
        "font/woff2",
        "public, max-age=31536000, immutable",
    ),
}


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[StackRun, list[str]]:
    """Return a dev run with a build directory, and the warnings it logged."""
    root = tmp_path_factory.mktemp("site")
    build = root / "build"
    for key, text in BUILD_FILES.items():
        path = build / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    secret = root / "secret.env"
    secret.write_text("TOKEN=1")
    (build / "assets" / "leak.txt").symlink_to(secret)

    with _captured_warnings() as warnings:
        run = run_stack("dev", {"siteBuildDir": str(build)})
    return run, warnings


def test_upload_keys(uploaded: tuple[StackRun, list[str]]) -> None:
    run, _ = uploaded

    assert sorted(record.inputs["key"] for record in _site_objects(run)) == sorted(
        EXPECTED_HEADERS
    )


def test_upload_logical_names(uploaded: tuple[StackRun, list[str]]) -> None:
    run, _ = uploaded

    for record in _site_objects(run):
        assert record.name == object_name("site-file", record.inputs["key"])


@pytest.mark.parametrize("key", sorted(EXPECTED_HEADERS))
def test_upload_headers(uploaded: tuple[StackRun, list[str]], key: str) -> None:
    run, _ = uploaded
    record = run.one(OBJECT, object_name("site-file", key))
    content_type, cache_control = EXPECTED_HEADERS[key]

    assert record.inputs["contentType"] == content_type
    assert record.inputs["cacheControl"] == cache_control
    assert record.inputs["bucket"] == f"pfmon-dev-site-{ACCOUNT_ID}"


def test_upload_source_file(uploaded: tuple[StackRun, list[str]]) -> None:
    run, _ = uploaded
    record = run.one(OBJECT, object_name("site-file", "assets/index-BX3k_9aZ.js"))
    source = record.inputs["source"]

    assert isinstance(source, pulumi.FileAsset)
    assert Path(source.path).read_text() == BUILD_FILES["assets/index-BX3k_9aZ.js"]


def test_html_depends_on_assets(uploaded: tuple[StackRun, list[str]]) -> None:
    run, _ = uploaded
    objects = _site_objects(run)
    asset_urns = {r.urn for r in objects if not r.inputs["key"].endswith(".html")}
    pages = [r for r in objects if r.inputs["key"].endswith(".html")]

    assert len(pages) == 2
    assert len(asset_urns) == 7
    for page in pages:
        assert asset_urns <= set(page.depends_on), page.inputs["key"]


def test_assets_not_after_html(uploaded: tuple[StackRun, list[str]]) -> None:
    run, _ = uploaded
    objects = _site_objects(run)
    page_urns = {r.urn for r in objects if r.inputs["key"].endswith(".html")}

    for asset in objects:
        if not asset.inputs["key"].endswith(".html"):
            assert not page_urns & set(asset.depends_on), asset.inputs["key"]


def test_config_after_uploads(uploaded: tuple[StackRun, list[str]]) -> None:
    run, _ = uploaded
    config_object = run.one(OBJECT, "site-config")

    assert {r.urn for r in _site_objects(run)} <= set(config_object.depends_on)


def test_build_config_json_skipped(uploaded: tuple[StackRun, list[str]]) -> None:
    run, warnings = uploaded
    config_objects = [
        r for r in run.of_type(OBJECT) if r.inputs["key"] == "config.json"
    ]

    assert [r.name for r in config_objects] == ["site-config"]
    assert "localhost:8000" not in config_objects[0].inputs["content"]
    assert any("config.json is not uploaded" in message for message in warnings)


def test_outside_symlink_warned(uploaded: tuple[StackRun, list[str]]) -> None:
    _, warnings = uploaded

    assert any("Skipped 1 symlinks" in m and "assets/leak.txt" in m for m in warnings)
