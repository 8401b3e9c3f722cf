"""The console's security response headers, defined once: CloudFront's response-headers policy and local
mode's server both send these (standard library only, so the CDK app can import it)."""

from __future__ import annotations

from collections.abc import Sequence

HSTS_SECONDS = 365 * 24 * 3600
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def cognito_endpoint(region: str) -> str:
    """Where the console signs in on AWS (its `cognitoEndpoint` is null there)."""
    return f"https://cognito-idp.{region}.amazonaws.com"


def content_security_policy(connect_sources: Sequence[str]) -> str:
    """`connect_sources`: what the console calls besides its own origin (Cognito, the artifact upload
    endpoint), and nothing else."""
    return "; ".join(
        [
            "default-src 'self'",
            "connect-src " + " ".join(["'self'", *connect_sources]),
            "img-src 'self' data:",
            "style-src 'self' 'unsafe-inline'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def response_headers(connect_sources: Sequence[str]) -> dict[str, str]:
    """Every header as it goes over the wire (what CloudFront's policy produces)."""
    return {
        "Strict-Transport-Security": f"max-age={HSTS_SECONDS}; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
        "X-XSS-Protection": "1; mode=block",
        "Content-Security-Policy": content_security_policy(connect_sources),
    }
