"""Rules for the static site: the private S3 bucket and the CloudFront distribution.

pulumi-aws 7 splits a bucket's settings into side-by-side resources (public access
block, ownership controls, policy, versioning, lifecycle), so the bucket rules are
stack rules that match those resources to their bucket by bucket name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, Severity

from .properties import (
    Statement,
    actions,
    condition_values,
    get_path,
    mappings,
    number,
    parse_document,
    principals,
    resources,
    service_principals,
    show_number,
    statements,
)
from .registry import (
    Finding,
    ResourceRule,
    ResourceView,
    StackRule,
    resources_of_type,
)

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RESPONSE_HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"

PUBLIC_ACCESS_FLAGS = (
    ("blockPublicAcls", "block_public_acls"),
    ("blockPublicPolicy", "block_public_policy"),
    ("ignorePublicAcls", "ignore_public_acls"),
    ("restrictPublicBuckets", "restrict_public_buckets"),
)
HTTPS_VIEWER_POLICIES = ("redirect-to-https", "https-only")
TLS_POLICY = "TLSv1.2_2021"
# One year, the shortest max-age that browsers' HSTS preload lists accept.
MIN_HSTS_MAX_AGE_SECONDS = 365 * 24 * 60 * 60
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"


def check_public_access_block(resource: ResourceView) -> Iterator[Finding]:
    for key, argument in PUBLIC_ACCESS_FLAGS:
        if resource.props.get(key) is not True:
            yield Finding(
                f"{key} is not true, so public access is not fully blocked.",
                f"set {argument}=True.",
            )


def check_owner_enforced(resource: ResourceView) -> Iterator[Finding]:
    ownership = get_path(resource.props, "rule", "objectOwnership")
    if ownership != "BucketOwnerEnforced":
        yield Finding(
            f"objectOwnership is {ownership!r}, so ACLs still grant access.",
            'set rule={"object_ownership": "BucketOwnerEnforced"}.',
        )


def _for_bucket(
    resources: Sequence[PolicyResource], resource_type: str, bucket: PolicyResource
) -> list[PolicyResource]:
    """Return the resources of a type whose `bucket` property names this bucket."""
    name = bucket.props.get("bucket")
    return [
        r
        for r in resources_of_type(resources, resource_type)
        if r.props.get("bucket") == name
    ]


def check_bucket_access_controls(
    resources: Sequence[PolicyResource],
) -> Iterator[tuple[PolicyResource, Finding]]:
    for bucket in resources_of_type(resources, BUCKET):
        if not _for_bucket(resources, PUBLIC_ACCESS_BLOCK, bucket):
            yield (
                bucket,
                Finding(
                    "the bucket has no BucketPublicAccessBlock.",
                    "create an aws.s3.BucketPublicAccessBlock for it with all four "
                    "flags True.",
                ),
            )
        if not _for_bucket(resources, OWNERSHIP_CONTROLS, bucket):
            yield (
                bucket,
                Finding(
                    "the bucket has no BucketOwnershipControls, so ACLs stay enabled.",
                    "create an aws.s3.BucketOwnershipControls for it with "
                    "BucketOwnerEnforced.",
                ),
            )


def _is_tls_deny(statement: Statement, bucket_arn: str) -> bool:
    return (
        statement.get("Effect") == "Deny"
        and "*" in principals(statement)
        and bool({"s3:*", "*"} & set(actions(statement)))
        and {bucket_arn, f"{bucket_arn}/*"} <= set(resources(statement))
        and condition_values(statement, "Bool", "aws:SecureTransport") == ["false"]
    )


def _is_cloudfront_read(statement: Statement, distribution_arns: set[str]) -> bool:
    source_arns = condition_values(statement, "StringEquals", "AWS:SourceArn")
    return (
        service_principals(statement) == [CLOUDFRONT_SERVICE]
        and len(principals(statement)) == 1
        and bool(source_arns)
        and set(source_arns) <= distribution_arns
    )


def _bucket_policy_findings(
    document: Mapping[str, Any], bucket_arn: str, distribution_arns: set[str]
) -> Iterator[Finding]:
    found = statements(document)
    if not any(_is_tls_deny(statement, bucket_arn) for statement in found):
        yield Finding(
            "the bucket policy has no statement that denies requests without TLS.",
            'add a Deny of "s3:*" for Principal "*" on the bucket and bucket/* with '
            'Condition {"Bool": {"aws:SecureTransport": "false"}}.',
        )
    allows = [s for s in found if s.get("Effect") == "Allow"]
    if not any(_is_cloudfront_read(s, distribution_arns) for s in allows):
        yield Finding(
            "the bucket policy does not let this stack's CloudFront distribution read "
            "through origin access control.",
            'allow "s3:GetObject" on bucket/* to the service principal '
            f"{CLOUDFRONT_SERVICE} with Condition "
            '{"StringEquals": {"AWS:SourceArn": <distribution ARN>}}.',
        )
    for statement in allows:
        if not _is_cloudfront_read(statement, distribution_arns):
            yield Finding(
                f"the bucket policy statement {statement.get('Sid', '')!r} allows "
                f"{principals(statement)}, not only this stack's distribution.",
                "remove the statement, or limit it to the CloudFront service "
                "principal with the distribution's AWS:SourceArn.",
            )


def check_bucket_policy(
    resources: Sequence[PolicyResource],
) -> Iterator[tuple[PolicyResource, Finding]]:
    distribution_arns = {
        str(d.props.get("arn")) for d in resources_of_type(resources, DISTRIBUTION)
    }
    for bucket in resources_of_type(resources, BUCKET):
        policies = _for_bucket(resources, BUCKET_POLICY, bucket)
        if not policies:
            yield (
                bucket,
                Finding(
                    "the bucket has no bucket policy.",
                    "create an aws.s3.BucketPolicy with a TLS-only deny and a "
                    "CloudFront origin access control read statement.",
                ),
            )
        bucket_arn = str(bucket.props.get("arn"))
        for policy in policies:
            document = parse_document(policy.props.get("policy"))
            if document is None:
                yield (
                    policy,
                    Finding(
                        "policy is not a JSON policy document.",
                        "build the document as a dict and pass json.dumps(document).",
                    ),
                )
                continue
            for finding in _bucket_policy_findings(
                document, bucket_arn, distribution_arns
            ):
                yield policy, finding


def _has_noncurrent_expiry(lifecycle: PolicyResource) -> bool:
    return any(
        rule.get("status") == "Enabled" and rule.get("noncurrentVersionExpiration")
        for rule in mappings(lifecycle.props.get("rules"))
    )


def check_versioning_and_lifecycle(
    resources: Sequence[PolicyResource],
) -> Iterator[tuple[PolicyResource, Finding]]:
    for bucket in resources_of_type(resources, BUCKET):
        versioning = _for_bucket(resources, VERSIONING, bucket)
        if not any(
            get_path(v.props, "versioningConfiguration", "status") == "Enabled"
            for v in versioning
        ):
            yield (
                bucket,
                Finding(
                    "versioning is not enabled, so an overwritten or deleted object "
                    "cannot be restored.",
                    "create an aws.s3.BucketVersioning with status Enabled (the "
                    "tier's site_versioning).",
                ),
            )
        lifecycles = _for_bucket(resources, LIFECYCLE, bucket)
        if not any(_has_noncurrent_expiry(lifecycle) for lifecycle in lifecycles):
            yield (
                bucket,
                Finding(
                    "no lifecycle rule expires noncurrent versions, so every "
                    "overwritten object is stored forever.",
                    "create an aws.s3.BucketLifecycleConfiguration with an enabled "
                    "noncurrent_version_expiration rule.",
                ),
            )


def _cache_behaviors(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    behaviors: list[tuple[str, Mapping[str, Any]]] = []
    default = props.get("defaultCacheBehavior")
    if isinstance(default, Mapping):
        behaviors.append(("defaultCacheBehavior", default))
    for index, ordered in enumerate(mappings(props.get("orderedCacheBehaviors"))):
        behaviors.append((f"orderedCacheBehaviors[{index}]", ordered))
    return behaviors


def check_https_only(resource: ResourceView) -> Iterator[Finding]:
    for where, behavior in _cache_behaviors(resource.props):
        policy = behavior.get("viewerProtocolPolicy")
        if policy not in HTTPS_VIEWER_POLICIES:
            yield Finding(
                f"{where}.viewerProtocolPolicy is {policy!r}, so viewers may use "
                "plain HTTP.",
                f'set viewer_protocol_policy="redirect-to-https" on {where}.',
            )


def check_origin_access_control(resource: ResourceView) -> Iterator[Finding]:
    for origin in mappings(resource.props.get("origins")):
        domain = str(origin.get("domainName"))
        if ".s3." not in domain:
            continue
        origin_id = origin.get("originId")
        if not origin.get("originAccessControlId"):
            yield Finding(
                f"the S3 origin {origin_id!r} has no origin access control.",
                "set origin_access_control_id to an aws.cloudfront."
                "OriginAccessControl with signing_behavior always.",
            )
        if get_path(origin, "s3OriginConfig", "originAccessIdentity"):
            yield Finding(
                f"the S3 origin {origin_id!r} uses a legacy origin access identity.",
                "remove s3_origin_config and use origin_access_control_id.",
            )


def check_response_headers_policy(resource: ResourceView) -> Iterator[Finding]:
    for where, behavior in _cache_behaviors(resource.props):
        if not behavior.get("responseHeadersPolicyId"):
            yield Finding(
                f"{where} has no response headers policy, so responses carry no "
                "HSTS or other security headers.",
                f"set response_headers_policy_id on {where}.",
            )


def check_hsts(resource: ResourceView) -> Iterator[Finding]:
    hsts = get_path(resource.props, "securityHeadersConfig", "strictTransportSecurity")
    fix = (
        "set security_headers_config.strict_transport_security with "
        f"access_control_max_age_sec >= {MIN_HSTS_MAX_AGE_SECONDS}, "
        "include_subdomains=True and override=True."
    )
    if not isinstance(hsts, Mapping):
        yield Finding("the policy sends no Strict-Transport-Security header.", fix)
        return
    max_age = number(hsts.get("accessControlMaxAgeSec"))
    if max_age is None or max_age < MIN_HSTS_MAX_AGE_SECONDS:
        yield Finding(
            f"the HSTS max-age is {show_number(max_age)} seconds, under one year.", fix
        )
    if hsts.get("includeSubdomains") is not True:
        yield Finding("HSTS does not include subdomains.", fix)
    if hsts.get("override") is not True:
        yield Finding("HSTS does not override the origin's header.", fix)


def check_default_root_object(resource: ResourceView) -> Iterator[Finding]:
    if not resource.props.get("defaultRootObject"):
        yield Finding(
            "defaultRootObject is not set, so a request for / reaches the bucket's "
            "root, which S3 answers with an error instead of the app.",
            'set default_root_object="index.html".',
        )


def check_custom_certificate(resource: ResourceView) -> Iterator[Finding]:
    certificate = resource.props.get("viewerCertificate")
    certificate = certificate if isinstance(certificate, Mapping) else {}
    if certificate.get("cloudfrontDefaultCertificate") is True or not certificate.get(
        "acmCertificateArn"
    ):
        yield Finding(
            "the distribution uses the default *.cloudfront.net certificate, whose "
            "minimum protocol stays TLSv1.",
            "serve the site on a custom domain with an ACM certificate from "
            "us-east-1 (the tier's custom_domain).",
        )
        return
    if certificate.get("sslSupportMethod") != "sni-only":
        yield Finding(
            f"sslSupportMethod is {certificate.get('sslSupportMethod')!r}.",
            'set ssl_support_method="sni-only".',
        )
    if certificate.get("minimumProtocolVersion") != TLS_POLICY:
        yield Finding(
            f"minimumProtocolVersion is {certificate.get('minimumProtocolVersion')!r}.",
            f'set minimum_protocol_version="{TLS_POLICY}".',
        )


RULES = (
    ResourceRule(
        name="s3-public-access-block",
        description="Every bucket public access block sets all four flags.",
        resource_types=frozenset({PUBLIC_ACCESS_BLOCK}),
        severity=Severity.CRITICAL,
        check=check_public_access_block,
    ),
    ResourceRule(
        name="s3-bucket-owner-enforced",
        description="Every bucket's ownership controls disable ACLs "
        "(BucketOwnerEnforced).",
        resource_types=frozenset({OWNERSHIP_CONTROLS}),
        severity=Severity.HIGH,
        check=check_owner_enforced,
    ),
    ResourceRule(
        name="cloudfront-https-only",
        description="Every CloudFront cache behavior redirects HTTP to HTTPS.",
        resource_types=frozenset({DISTRIBUTION}),
        severity=Severity.CRITICAL,
        check=check_https_only,
    ),
    ResourceRule(
        name="cloudfront-origin-access-control",
        description="Every S3 origin is read through origin access control.",
        resource_types=frozenset({DISTRIBUTION}),
        severity=Severity.HIGH,
        check=check_origin_access_control,
    ),
    ResourceRule(
        name="cloudfront-response-headers-policy",
        description="Every CloudFront cache behavior attaches a response headers "
        "policy.",
        resource_types=frozenset({DISTRIBUTION}),
        severity=Severity.MEDIUM,
        check=check_response_headers_policy,
    ),
    ResourceRule(
        name="cloudfront-hsts",
        description="Every response headers policy sends HSTS for at least a year, "
        "subdomains included.",
        resource_types=frozenset({RESPONSE_HEADERS_POLICY}),
        severity=Severity.MEDIUM,
        check=check_hsts,
    ),
    ResourceRule(
        name="cloudfront-default-root-object",
        description="Every CloudFront distribution has a default root object.",
        resource_types=frozenset({DISTRIBUTION}),
        severity=Severity.HIGH,
        check=check_default_root_object,
    ),
    ResourceRule(
        name="cloudfront-custom-certificate-tls",
        description=f"Every distribution uses an ACM certificate with sni-only and "
        f"{TLS_POLICY}.",
        resource_types=frozenset({DISTRIBUTION}),
        severity=Severity.HIGH,
        check=check_custom_certificate,
    ),
)

STACK_RULES = (
    StackRule(
        name="s3-bucket-access-controls",
        description="Every bucket has a public access block and ownership controls.",
        severity=Severity.CRITICAL,
        check=check_bucket_access_controls,
    ),
    StackRule(
        name="s3-bucket-policy-tls-and-oac",
        description="Every bucket policy denies requests without TLS and lets only "
        "this stack's CloudFront distribution read, by AWS:SourceArn.",
        severity=Severity.CRITICAL,
        check=check_bucket_policy,
    ),
    StackRule(
        name="s3-bucket-versioning-lifecycle",
        description="Every bucket is versioned and expires noncurrent versions.",
        severity=Severity.MEDIUM,
        check=check_versioning_and_lifecycle,
    ),
)
