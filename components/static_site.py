"""StaticSite: the React single-page app, served from a private S3 bucket by CloudFront.

Only this stack's distribution reads the bucket (origin access control, with the
distribution's ARN as `AWS:SourceArn` in the bucket policy), and the bucket policy
rejects any request without TLS. A CloudFront Function rewrites extension-less paths
to /index.html for deep links, and no error response is mapped to index.html, so a
missing asset stays an error. Prod adds bucket versioning with lifecycle rules and
serves the site at app.<domainName> with an ACM certificate from us-east-1.

The app reads its API URL and Cognito ids from /config.json, which `publish_config`
writes once the API and the user pool exist.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.settings import CONFIG_NAMESPACE, ConfigError, StackSettings
from components.site_files import (
    CONFIG_KEY,
    CONTENT_TYPES,
    NO_CACHE,
    SPA_ROUTING_FUNCTION_JS,
    SiteFile,
    object_name,
    walk_build_dir,
)

# AWS managed cache policy CachingOptimized: no cookies or query strings in the cache
# key, TTL 1 s to 1 year from the origin's Cache-Control. Its 1 s minimum TTL means
# CloudFront keeps even no-cache objects for up to one second.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# HSTS max-age of two years, in seconds.
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60
LOCAL_DEV_ORIGINS = ("http://localhost:3000", "http://localhost:5173")
# CloudFront accepts ACM certificates from us-east-1 only.
CERTIFICATE_REGION = "us-east-1"
S3_ORIGIN_ID = "site-bucket"
NONCURRENT_VERSION_DAYS = 30
ABORT_MULTIPART_UPLOAD_DAYS = 7


def content_security_policy(region: str) -> str:
    """Return the Content-Security-Policy that lets the app call the API and Cognito."""
    directives = (
        "default-src 'self'",
        "script-src 'self'",
        # React UI libraries inject <style> elements at run time.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' https://*.execute-api.{region}.amazonaws.com "
        f"https://cognito-idp.{region}.amazonaws.com",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
    return "; ".join(directives)


def bucket_policy(bucket_arn: str, distribution_arn: str) -> dict[str, Any]:
    """Return the bucket policy: TLS only, and reads by one CloudFront distribution."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AllowCloudFrontRead",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
        ],
    }


def site_config(
    api_url: str, region: str, user_pool_id: str, client_id: str
) -> dict[str, str]:
    """Return the body of config.json that the React app reads at start-up."""
    return {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": client_id,
    }


@dataclass(frozen=True)
class StaticSiteArgs:
    settings: StackSettings


class StaticSite(pulumi.ComponentResource):
    """Private S3 bucket, CloudFront distribution and the uploaded React build."""

    site_url: pulumi.Output[str]
    allowed_origins: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: StaticSiteArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pfmon:components:StaticSite", name, None, opts)
        self._name = name
        self._settings = args.settings
        tier = args.settings.tier
        site_files = self._scan_build_dir()

        self.bucket = self._create_bucket()
        public_access_block = self._create_bucket_protection()
        if tier.site_versioning:
            self._create_versioning()
        certificate_arn = self._create_certificate() if tier.custom_domain else None
        self.distribution = self._create_distribution(certificate_arn)
        self._create_bucket_policy(public_access_block)
        if tier.custom_domain:
            self._create_alias_records()

        self.site_url = self._site_url()
        self.allowed_origins = self.site_url.apply(
            lambda url: [url, *LOCAL_DEV_ORIGINS] if tier.cors_localhost else [url]
        )
        self._site_objects = self._upload_files(site_files)

    def _scan_build_dir(self) -> list[SiteFile]:
        build_dir = self._settings.site_build_dir
        stack = pulumi.get_stack()
        if not build_dir.exists():
            pulumi.log.warn(
                f"Site build directory {build_dir} does not exist, so only "
                f"{CONFIG_KEY} is published. Build the React app into it, or set "
                f"{CONFIG_NAMESPACE}:siteBuildDir: pulumi config set siteBuildDir "
                f"<build directory> -s {stack}",
                resource=self,
            )
            return []
        if not build_dir.is_dir():
            raise ConfigError(
                f"{CONFIG_NAMESPACE}:siteBuildDir = {str(build_dir)!r} is invalid: "
                "expected the React build directory, found a file. Fix: pulumi "
                f"config set siteBuildDir <build directory> -s {stack}"
            )
        scan = walk_build_dir(build_dir)
        if scan.skipped:
            pulumi.log.warn(
                f"Skipped {len(scan.skipped)} symlinks in {build_dir} that point "
                f"outside it, to a folder or to nothing: {', '.join(scan.skipped)}",
                resource=self,
            )
        site_files = [
            site_file for site_file in scan.files if site_file.key != CONFIG_KEY
        ]
        if len(site_files) < len(scan.files):
            pulumi.log.warn(
                f"{build_dir / CONFIG_KEY} is not uploaded, because the stack "
                f"publishes its own {CONFIG_KEY} with the API URL and Cognito ids.",
                resource=self,
            )
        return site_files

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _create_bucket(self) -> aws.s3.Bucket:
        # Bucket names are global, so the account id keeps stacks of two accounts apart.
        account_id = aws.get_caller_identity_output().account_id
        prefix = self._settings.resource_name("site")
        return aws.s3.Bucket(
            f"{self._name}-bucket",
            bucket=account_id.apply(lambda account: f"{prefix}-{account}"),
            force_destroy=not self._settings.tier.deletion_protection,
            opts=self._child(),
        )

    def _create_bucket_protection(self) -> aws.s3.BucketPublicAccessBlock:
        aws.s3.BucketOwnershipControls(
            f"{self._name}-ownership",
            bucket=self.bucket.bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(
                object_ownership="BucketOwnerEnforced"
            ),
            opts=self._child(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-encryption",
            bucket=self.bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=self._child(),
        )
        return aws.s3.BucketPublicAccessBlock(
            f"{self._name}-public-access-block",
            bucket=self.bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )

    def _create_versioning(self) -> None:
        versioning = aws.s3.BucketVersioning(
            f"{self._name}-versioning",
            bucket=self.bucket.bucket,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=self._child(),
        )
        # Replaced objects stay 30 days as noncurrent versions, so users on a page of
        # an earlier deploy can still load its hashed assets.
        aws.s3.BucketLifecycleConfiguration(
            f"{self._name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_VERSION_DAYS
                    ),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_MULTIPART_UPLOAD_DAYS
                    ),
                ),
            ],
            # S3 applies noncurrent-version rules only to a versioned bucket.
            opts=self._child(depends_on=[versioning]),
        )

    def _create_certificate(self) -> pulumi.Output[str]:
        settings = self._settings
        # An explicit provider does not read the stack's aws: config, so the profile
        # is passed on to keep the certificate in the same account.
        us_east_1 = aws.Provider(
            f"{self._name}-{CERTIFICATE_REGION}",
            region=CERTIFICATE_REGION,
            profile=pulumi.Config("aws").get("profile"),
            opts=self._child(),
        )
        certificate = aws.acm.Certificate(
            f"{self._name}-certificate",
            domain_name=settings.site_domain,
            validation_method="DNS",
            opts=self._child(provider=us_east_1),
        )
        # The certificate names one domain, so ACM returns one validation record.
        validation_option = certificate.domain_validation_options[0]
        validation_record = aws.route53.Record(
            f"{self._name}-certificate-validation-record",
            zone_id=self._zone_id,
            name=validation_option.resource_record_name,
            type=validation_option.resource_record_type,
            records=[validation_option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=self._child(),
        )
        validation = aws.acm.CertificateValidation(
            f"{self._name}-certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=self._child(provider=us_east_1),
        )
        return validation.certificate_arn

    def _create_distribution(
        self, certificate_arn: pulumi.Output[str] | None
    ) -> aws.cloudfront.Distribution:
        origin_access_control = self._create_origin_access_control()
        headers_policy = self._create_response_headers_policy()
        spa_routing = self._create_spa_routing_function()
        if certificate_arn is None:
            viewer_certificate = aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True
            )
            aliases: list[str] = []
        else:
            viewer_certificate = aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            )
            aliases = [self._settings.site_domain]

        return aws.cloudfront.Distribution(
            f"{self._name}-distribution",
            enabled=True,
            comment=f"{self._settings.prefix} React app",
            default_root_object="index.html",
            aliases=aliases,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=S3_ORIGIN_ID,
                    domain_name=self.bucket.bucket_regional_domain_name,
                    origin_access_control_id=origin_access_control.id,
                )
            ],
            # No custom_error_responses: mapping 403/404 to index.html would return
            # HTML for a missing script, and the browser fails on "Unexpected token <".
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=S3_ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=headers_policy.id,
                function_associations=[
                    aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                        event_type="viewer-request", function_arn=spa_routing.arn
                    )
                ],
            ),
            price_class="PriceClass_100",
            http_version="http2and3",
            is_ipv6_enabled=True,
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=viewer_certificate,
            opts=self._child(),
        )

    def _create_origin_access_control(self) -> aws.cloudfront.OriginAccessControl:
        return aws.cloudfront.OriginAccessControl(
            f"{self._name}-origin-access-control",
            name=self._settings.resource_name("site-oac"),
            description=f"CloudFront reads the {self._settings.prefix} site bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self._child(),
        )

    def _create_response_headers_policy(self) -> aws.cloudfront.ResponseHeadersPolicy:
        return aws.cloudfront.ResponseHeadersPolicy(
            f"{self._name}-security-headers",
            name=self._settings.resource_name("site-security-headers"),
            comment="HSTS, CSP, nosniff, frame and referrer policy for the React app",
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=HSTS_MAX_AGE_SECONDS,
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                    override=True
                ),
                frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option="DENY", override=True
                ),
                referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                    content_security_policy=content_security_policy(
                        self._settings.region
                    ),
                    override=True,
                ),
            ),
            opts=self._child(),
        )

    def _create_spa_routing_function(self) -> aws.cloudfront.Function:
        return aws.cloudfront.Function(
            f"{self._name}-spa-routing",
            name=self._settings.resource_name("site-spa-routing"),
            runtime="cloudfront-js-2.0",
            comment="Rewrite extension-less paths to /index.html for SPA deep links",
            code=SPA_ROUTING_FUNCTION_JS,
            publish=True,
            opts=self._child(),
        )

    def _create_bucket_policy(
        self, public_access_block: aws.s3.BucketPublicAccessBlock
    ) -> None:
        policy = pulumi.Output.all(self.bucket.arn, self.distribution.arn).apply(
            lambda arns: json.dumps(bucket_policy(arns[0], arns[1]))
        )
        # PutBucketPolicy fails with OperationAborted (409) while a PutPublicAccessBlock
        # on the same bucket is in progress, so the policy waits for the block.
        aws.s3.BucketPolicy(
            f"{self._name}-bucket-policy",
            bucket=self.bucket.bucket,
            policy=policy,
            opts=self._child(depends_on=[public_access_block]),
        )

    def _create_alias_records(self) -> None:
        zone_id = self._zone_id
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{self._name}-alias-{record_type.lower()}",
                zone_id=zone_id,
                name=self._settings.site_domain,
                type=record_type,
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=self.distribution.domain_name,
                        zone_id=self.distribution.hosted_zone_id,
                        evaluate_target_health=False,
                    )
                ],
                opts=self._child(),
            )

    @functools.cached_property
    def _zone_id(self) -> pulumi.Output[str]:
        zone = aws.route53.get_zone_output(
            name=self._settings.domain_name,
            private_zone=False,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return zone.zone_id

    def _site_url(self) -> pulumi.Output[str]:
        if self._settings.tier.custom_domain:
            return pulumi.Output.from_input(f"https://{self._settings.site_domain}")
        return self.distribution.domain_name.apply(lambda domain: f"https://{domain}")

    def _upload_files(
        self, site_files: Sequence[SiteFile]
    ) -> list[aws.s3.BucketObjectv2]:
        assets = [
            self._upload(site_file, depends_on=[])
            for site_file in site_files
            if not site_file.is_html
        ]
        # Pages go last, so a page never links to an asset that is not uploaded yet.
        pages = [
            self._upload(site_file, depends_on=assets)
            for site_file in site_files
            if site_file.is_html
        ]
        return assets + pages

    def _upload(
        self, site_file: SiteFile, depends_on: Sequence[pulumi.Resource]
    ) -> aws.s3.BucketObjectv2:
        return aws.s3.BucketObjectv2(
            object_name(f"{self._name}-file", site_file.key),
            bucket=self.bucket.bucket,
            key=site_file.key,
            source=pulumi.FileAsset(str(site_file.path)),
            content_type=site_file.content_type,
            cache_control=site_file.cache_control,
            opts=self._child(depends_on=list(depends_on)),
        )

    def publish_config(
        self,
        api_url: pulumi.Input[str],
        user_pool_id: pulumi.Input[str],
        client_id: pulumi.Input[str],
    ) -> None:
        """Write config.json with the API URL and Cognito ids, then finish the site.

        NOTE: pulumi-aws has no CloudFront invalidation resource. A changed index.html
        or config.json reaches users through their no-cache header instead, after at
        most the cache policy's 1 s minimum TTL at the edge.
        """
        region = self._settings.region
        body = pulumi.Output.all(api_url, user_pool_id, client_id).apply(
            lambda values: json.dumps(
                site_config(
                    api_url=values[0],
                    region=region,
                    user_pool_id=values[1],
                    client_id=values[2],
                ),
                indent=2,
            )
        )
        config_object = aws.s3.BucketObjectv2(
            f"{self._name}-config",
            bucket=self.bucket.bucket,
            key=CONFIG_KEY,
            content=body,
            content_type=CONTENT_TYPES[".json"],
            cache_control=NO_CACHE,
            opts=self._child(depends_on=list(self._site_objects)),
        )
        self.register_outputs(
            {
                "siteUrl": self.site_url,
                "allowedOrigins": self.allowed_origins,
                "bucketName": self.bucket.bucket,
                "distributionId": self.distribution.id,
                "configKey": config_object.key,
            }
        )
