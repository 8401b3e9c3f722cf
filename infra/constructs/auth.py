"""Sign-in: a Cognito user pool per stage, the console's app client and the role groups.

Users are created by an administrator (no self sign-up) and sign in with their username; the first
admin is created by `build-deploy.sh --admin-email`. The console calls the user pools API directly
(USER_PASSWORD_AUTH, NEW_PASSWORD_REQUIRED, REFRESH_TOKEN_AUTH, ForgotPassword) and sends the access
token to the API, which checks it against the pool's keys and reads the role from `cognito:groups`.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs.nag import acknowledge

# Cognito groups and what they grant (the backend decides; the names are the contract).
# Precedence: when a user is in several groups, the lowest number wins.
ROLE_GROUPS: dict[str, tuple[int, str]] = {
    "admin": (0, "everything, including client tokens for private model endpoints"),
    "editor": (1, "create, update, delete, upload, start, stop and call models"),
    "viewer": (2, "read-only: every GET of the API"),
}
ACCESS_TOKEN_HOURS = 1
REFRESH_TOKEN_DAYS = 30
MIN_PASSWORD_LENGTH = 12


class SignIn(Construct):
    """Attributes: `user_pool`, `client`, `groups` (name -> group), `user_pool_id`, `client_id`,
    `issuer` (the tokens' `iss`) and `jwks_url` (where the API reads the signing keys)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        retain: bool,
        threat_protection: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.user_pool = self._user_pool(prefix, retain=retain, threat_protection=threat_protection)
        self._acknowledge_user_pool(threat_protection=threat_protection)
        self.client = self._console_client(prefix)
        self.groups = self._role_groups()

        self.user_pool_id = self.user_pool.user_pool_id
        self.client_id = self.client.user_pool_client_id
        self.issuer = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.user_pool_id}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"

    def _user_pool(self, prefix: str, *, retain: bool, threat_protection: bool) -> cognito.UserPool:
        """The stage's user pool: admin-created accounts, strong passwords, optional TOTP MFA."""
        return cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{prefix}-users",
            self_sign_up_enabled=False,  # an admin creates every account
            # Usernames only, no email alias: with an email alias Cognito refuses usernames that look
            # like an email address, and the first admin's username is their email address.
            sign_in_aliases=cognito.SignInAliases(username=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"Your {prefix} account",
                email_body=(
                    f"An account on {prefix} was created for you. Username: {{username}} "
                    "Temporary password: {####} (you choose a new one at first sign-in; it expires in 7 days)."
                ),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=MIN_PASSWORD_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(7),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),  # TOTP apps; no SMS costs
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Lite: free up to 10,000 monthly active users. Threat protection needs Plus (billed per MAU).
            feature_plan=cognito.FeaturePlan.PLUS if threat_protection else cognito.FeaturePlan.LITE,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if threat_protection else None
            ),
            deletion_protection=retain,
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
        )

    def _acknowledge_user_pool(self, *, threat_protection: bool) -> None:
        """cdk-nag findings on the user pool that are deliberate choices, each with its reason."""
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP, no SMS costs): each user may turn it on. Requiring it would answer every "
            "first sign-in with an MFA_SETUP challenge, which the console's sign-in contract (issue 6) does not "
            "handle yet; users are admin-created and passwords are 12+ characters with all character classes.",
        )
        if not threat_protection:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                "The pool is on the Lite feature plan, free up to 10,000 monthly active users. Threat protection "
                "(compromised credentials, adaptive authentication) needs the Plus plan, which has no free tier "
                "and bills every active user; users are admin-created, passwords are 12+ characters with all "
                "character classes, and TOTP MFA is available. Set context threatProtection=true to enable it.",
            )

    def _console_client(self, prefix: str) -> cognito.UserPoolClient:
        """The console's app client: a public (browser) client that signs in through the user pools API."""
        return self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name=f"{prefix}-console",
            generate_secret=False,  # a browser app cannot keep a secret
            # CDK adds ALLOW_REFRESH_TOKEN_AUTH to any explicit flows.
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            disable_o_auth=True,  # no hosted UI or OAuth redirects: the console calls the API directly
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.hours(ACCESS_TOKEN_HOURS),
            id_token_validity=cdk.Duration.hours(ACCESS_TOKEN_HOURS),
            refresh_token_validity=cdk.Duration.days(REFRESH_TOKEN_DAYS),
        )

    def _role_groups(self) -> dict[str, cognito.UserPoolGroup]:
        """One Cognito group per role in ROLE_GROUPS, by name."""
        return {
            name: self.user_pool.add_group(
                f"{name.capitalize()}Group", group_name=name, precedence=precedence, description=description
            )
            for name, (precedence, description) in ROLE_GROUPS.items()
        }
