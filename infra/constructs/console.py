"""The console: a private bucket behind CloudFront, with /api/* routed to API Gateway on the same domain."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.backend_contract import security_headers_module
from infra.constructs.nag import acknowledge, acknowledge_wildcard_action, acknowledge_wildcard_resource

API_PATH_PATTERN = "/api/*"

# Viewer-request function on the default (console) behaviour only: a path whose last segment has no
# file extension is a client-side route of the single-page app, so it is served index.html. API
# answers are never rewritten because /api/* is a different behaviour, and a missing asset
# (/app.123.js) still answers 403/404 instead of HTML that the browser would try to run.
SPA_FALLBACK_FUNCTION = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""

PLACEHOLDER_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kraken</title></head>
<body><h1>kraken</h1>
<p>The console was not built when this stage was deployed (frontend_build/dist was missing).
Build it with <code>npm --prefix frontend_build ci && npm --prefix frontend_build run build</code>
and run <code>./build-deploy.sh</code> again. The API is available under <a href="/api/health">/api</a>.</p>
</body></html>
"""

# Files the browser must re-validate on every load, so a deployment takes effect at once; everything
# else in dist/ is content-hashed by the build and cached for a year.
ALWAYS_REVALIDATE = ("index.html", "config.json")


def security_headers_policy(
    scope: Construct, prefix: str, connect_sources: Sequence[str]
) -> cloudfront.ResponseHeadersPolicy:
    """The console's and the API's response headers, from chalicelib/security_headers.py (local mode sends the same)."""
    headers = security_headers_module()
    return cloudfront.ResponseHeadersPolicy(
        scope,
        "SecurityHeaders",
        response_headers_policy_name=f"{prefix}-security-headers",
        comment=f"{prefix}: security headers for the console and the API",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=cdk.Duration.seconds(headers.HSTS_SECONDS),
                include_subdomains=True,
                override=True,
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption[headers.FRAME_OPTIONS], override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy[headers.REFERRER_POLICY.upper().replace("-", "_")],
                override=True,
            ),
            xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=headers.content_security_policy(connect_sources), override=True
            ),
        ),
    )


RATE_LIMIT_RULES = 1  # the web ACL below has this many rules (its price is per rule)


def rate_limited_web_acl(scope: Construct, prefix: str, limit: int) -> wafv2.CfnWebACL:
    """A CloudFront web ACL (it must live in us-east-1) that blocks an IP over `limit` requests per 5 minutes."""
    region = cdk.Stack.of(scope).region
    if not cdk.Token.is_unresolved(region) and region != "us-east-1":
        raise ValueError("a WAF web ACL for CloudFront must be created in us-east-1; deploy this stage there")

    def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        )

    return wafv2.CfnWebACL(
        scope,
        "WebAcl",
        name=f"{prefix}-rate-limit",
        scope="CLOUDFRONT",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=visibility(f"{prefix}-web-acl"),
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name="rate-per-ip",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=visibility(f"{prefix}-rate-per-ip"),
            )
        ],
    )


class Console(Construct):
    """Attributes: `bucket`, `distribution`, `url`, `deployed_build` (False when a placeholder was deployed)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        api_domain: str,
        api_stage_path: str,
        dist_dir: Path,
        runtime_config: Mapping[str, Any],
        connect_sources: Sequence[str],
        log_bucket: s3.IBucket,
        waf_rate_limit: int = 0,
    ) -> None:
        super().__init__(scope, construct_id)
        self.web_acl = rate_limited_web_acl(self, prefix, waf_rate_limit) if waf_rate_limit else None
        self.bucket = self._bucket(log_bucket)
        headers = security_headers_policy(self, prefix, connect_sources)
        spa_fallback = self._spa_fallback(prefix)
        self.distribution = self._distribution(
            prefix,
            default_behavior=self._console_behavior(headers, spa_fallback),
            api_behavior=self._api_behavior(api_domain, headers),
            log_bucket=log_bucket,
        )
        if api_stage_path != "api":
            raise ValueError("CloudFront forwards /api/* unchanged, so the API Gateway stage must be 'api'")
        self._acknowledge_distribution()
        self.url = f"https://{self.distribution.distribution_domain_name}"

        self.deployed_build = (dist_dir / "index.html").is_file()
        self._deploy(dist_dir, runtime_config)
        self._acknowledge_deployment_handler()

    def _bucket(self, log_bucket: s3.IBucket) -> s3.Bucket:
        """The private bucket CloudFront serves the console from."""
        return s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="s3/console/",
            # The console is rebuilt from source on every deployment: nothing here needs keeping.
            removal_policy=cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )

    def _spa_fallback(self, prefix: str) -> cloudfront.Function:
        """The viewer-request function that serves index.html for the console's client-side routes."""
        return cloudfront.Function(
            self,
            "SpaFallback",
            function_name=f"{prefix}-spa-fallback",
            comment="Serves index.html for client-side routes of the console (not for /api/*)",
            code=cloudfront.FunctionCode.from_inline(SPA_FALLBACK_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

    def _console_behavior(
        self, headers: cloudfront.IResponseHeadersPolicy, spa_fallback: cloudfront.IFunction
    ) -> cloudfront.BehaviorOptions:
        """The default behaviour: the console's files from the bucket, cached, over HTTPS."""
        return cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=headers,
            compress=True,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=spa_fallback, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )

    @staticmethod
    def _api_behavior(api_domain: str, headers: cloudfront.IResponseHeadersPolicy) -> cloudfront.BehaviorOptions:
        """The /api/* behaviour: every request passed to API Gateway uncached."""
        api_origin = origins.HttpOrigin(
            api_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=cdk.Duration.seconds(30),
        )
        return cloudfront.BehaviorOptions(
            origin=api_origin,
            # API clients must not be redirected: a redirected POST loses its body.
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Every viewer header but Host (API Gateway routes on its own host name), every
            # query string and cookie.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=headers,
            compress=True,
        )

    def _distribution(
        self,
        prefix: str,
        *,
        default_behavior: cloudfront.BehaviorOptions,
        api_behavior: cloudfront.BehaviorOptions,
        log_bucket: s3.IBucket,
    ) -> cloudfront.Distribution:
        """The CloudFront distribution that serves the console and, under /api/*, the API on one domain."""
        return cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{prefix} console and API",
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,  # North America and Europe edges: cheapest
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            web_acl_id=self.web_acl.attr_arn if self.web_acl else None,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            default_behavior=default_behavior,
            # /api/models reaches stage "api", resource /models: the path is forwarded unchanged.
            additional_behaviors={API_PATH_PATTERN: api_behavior},
        )

    def _acknowledge_distribution(self) -> None:
        """cdk-nag findings on the distribution that are deliberate choices, each with its reason."""
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The console is for the account's own users wherever they are; no country needs blocking.",
        )
        if self.web_acl is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "No WAF by default (it costs ~$6/month per web ACL plus rules); the API is throttled in API "
                "Gateway. ./build-deploy.sh --waf N adds a web ACL with a rate-based rule.",
            )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses the default *.cloudfront.net certificate, with which CloudFront cannot enforce "
            "a minimum TLS version; set a custom domain and ACM certificate to enforce TLSv1.2_2021.",
        )

    def _deploy(self, dist_dir: Path, runtime_config: Mapping[str, Any]) -> None:
        """Copies the console build (or a placeholder page) and its runtime config.json into the bucket."""
        # Source.json_data would drop null values (jsii passes Python's None as undefined), and the console
        # reads "cognitoEndpoint": null. Source.data substitutes deploy-time values inside the JSON
        # strings; those values (ids, the region) need no JSON escaping.
        config_source = s3deploy.Source.data("config.json", json.dumps(dict(runtime_config), indent=2))
        if self.deployed_build:
            build = self._deploy_build(dist_dir)
            index_source = s3deploy.Source.asset(str(dist_dir), exclude=["*", "!index.html"])
        else:
            print(
                f"kraken: {dist_dir} has no index.html; deploying a placeholder console page.",
                file=sys.stderr,
            )
            build = None
            index_source = s3deploy.Source.data("index.html", PLACEHOLDER_INDEX)
        entry = self._deploy_entry([index_source, config_source])
        if build is not None:
            entry.node.add_dependency(build)  # the new index.html must not reference assets not yet uploaded

    def _deploy_build(self, dist_dir: Path) -> s3deploy.BucketDeployment:
        """The build's content-hashed files, cached for a year; the entry files are deployed separately."""
        return s3deploy.BucketDeployment(
            self,
            "DeployBuild",
            sources=[s3deploy.Source.asset(str(dist_dir), exclude=list(ALWAYS_REVALIDATE))],
            destination_bucket=self.bucket,
            exclude=list(ALWAYS_REVALIDATE),  # so pruning leaves the files deployed below alone
            cache_control=[
                s3deploy.CacheControl.set_public(),
                s3deploy.CacheControl.max_age(cdk.Duration.days(365)),
                s3deploy.CacheControl.immutable(),
            ],
            memory_limit=512,
        )

    def _deploy_entry(self, sources: Sequence[s3deploy.ISource]) -> s3deploy.BucketDeployment:
        """index.html and config.json, re-validated on every load, then a CloudFront invalidation."""
        return s3deploy.BucketDeployment(
            self,
            "DeployEntry",
            sources=list(sources),
            destination_bucket=self.bucket,
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/*"],  # one invalidation path per deployment, inside the free tier
            memory_limit=512,
        )

    def _acknowledge_deployment_handler(self) -> None:
        """cdk-nag findings on CDK's BucketDeployment handler, a singleton function in the stack."""
        stack = cdk.Stack.of(self)
        handler = next((c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")), None)
        if handler is None:
            return
        acknowledge(
            handler,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's BucketDeployment handler logs with the basic execution role; it only copies the console build.",
        )
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "The BucketDeployment handler's runtime is chosen by aws-cdk-lib and moves with its version.",
        )
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"):
            acknowledge_wildcard_action(
                handler, action, "CDK's BucketDeployment grants on the asset and console buckets only."
            )
        acknowledge_wildcard_resource(
            handler, f"{self.bucket.bucket_arn}/*", "BucketDeployment writes the console's files only."
        )
        qualifier = cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
        acknowledge(
            handler,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]",
            "BucketDeployment reads the console build from the CDK bootstrap asset bucket.",
        )
        acknowledge(
            handler,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudfront:CreateInvalidation/GetInvalidation, which BucketDeployment calls after copying, "
            "have no resource-level permissions in CDK's grant.",
        )
