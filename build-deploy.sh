#!/usr/bin/env bash
# One command to build and deploy kraken to AWS (or, with --check, to prove offline that it would).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./build-deploy.sh [options]

Builds the console, packages the API and deploys one stage of kraken with the AWS CDK.
Re-running is safe: finished steps are skipped and CloudFormation applies only the changes.

Options:
  --stage NAME         stage to deploy (default: dev); lower-case, up to 12 characters.
                       "prod" retains its tables and buckets and protects them from deletion.
  --region REGION      AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's region)
  --profile NAME       AWS CLI profile to use (default: the usual credential chain)
  --egress MODE        nat (default: one NAT gateway) or endpoints (interface endpoints, no internet)
  --alarm-email ADDR   subscribe ADDR to the stage's alarm topic
  --admin-email ADDR   after deploying, create the first admin (username ADDR, group admin) unless
                       that user exists; Cognito e-mails ADDR a temporary password
  --waf N              put a WAF web ACL on CloudFront that blocks an IP sending more than N requests
                       in 5 minutes (about $6/month plus $1 per million requests; the stage must be
                       in us-east-1, where CloudFront's web ACLs live)
  --destroy            delete the stage's stack (asks for confirmation)
  --yes                do not ask for confirmation (with --destroy)
  --check              no AWS account needed: synthesize every template, run cfn-lint and
                       cdk-nag, report the API package size; deploys nothing
  -h, --help           show this help

Needs: Python 3.11+, Node.js 20+ with npm; for a deployment also AWS credentials and a running
Docker engine (the standard model runner image is built from backend/runner/).
EOF
}

STAGE=dev
REGION=""
PROFILE=""
EGRESS=""
ALARM_EMAIL=""
ADMIN_EMAIL=""
WAF_RATE_LIMIT=""
ACTION=deploy
ASSUME_YES=false

while [ $# -gt 0 ]; do
  case "$1" in
    --stage) STAGE=${2:?--stage needs a value}; shift 2 ;;
    --region) REGION=${2:?--region needs a value}; shift 2 ;;
    --profile) PROFILE=${2:?--profile needs a value}; shift 2 ;;
    --egress) EGRESS=${2:?--egress needs nat or endpoints}; shift 2 ;;
    --alarm-email) ALARM_EMAIL=${2:?--alarm-email needs an address}; shift 2 ;;
    --admin-email) ADMIN_EMAIL=${2:?--admin-email needs an address}; shift 2 ;;
    --waf) WAF_RATE_LIMIT=${2:?--waf needs requests per 5 minutes per IP}; shift 2 ;;
    --destroy) ACTION=destroy; shift ;;
    --check) ACTION=check; shift ;;
    --yes | -y) ASSUME_YES=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "Unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! [[ $STAGE =~ ^[a-z][a-z0-9-]{0,11}$ ]]; then
  echo "--stage must be lower-case letters, digits and dashes, starting with a letter, at most 12 characters." >&2
  exit 2
fi
if [ -n "$ADMIN_EMAIL" ] && ! [[ $ADMIN_EMAIL =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]]; then
  echo "--admin-email must be an e-mail address (it becomes the admin's username)." >&2
  exit 2
fi
if [ -n "$EGRESS" ] && [ "$EGRESS" != nat ] && [ "$EGRESS" != endpoints ]; then
  echo "--egress must be 'nat' or 'endpoints'." >&2
  exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/setup.sh
. scripts/lib/setup.sh

STARTED=$(date +%s)
STACK="kraken-$STAGE"
step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nError: %s\n' "$*" >&2; exit 1; }

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 # the CDK libraries still run on Node 20
export CDK_DISABLE_CLI_TELEMETRY=true
[ -n "$PROFILE" ] && export AWS_PROFILE="$PROFILE"

check_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    die "Node.js 20 or newer with npm is needed (https://nodejs.org/); the AWS CDK CLI runs on it."
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is needed; this is $(node --version)."
}

# The CDK CLI pinned in infra/package-lock.json (aws-cdk 3.x cannot read these assemblies).
CDK_CLI_READY=false
ensure_cdk_cli() {
  local stamp=infra/node_modules/.package-lock-sha256 wanted
  wanted=$(sha256sum infra/package-lock.json | cut -d' ' -f1)
  if [ -x infra/node_modules/.bin/cdk ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    CDK_CLI_READY=true
    return 0
  fi
  echo "Installing the pinned AWS CDK CLI into infra/node_modules ..."
  if npm --prefix infra ci --no-audit --no-fund --loglevel=error; then
    echo "$wanted" >"$stamp"
    CDK_CLI_READY=true
  fi
}

cdk() { (cd infra && ./node_modules/.bin/cdk --no-notices "$@"); }

context_args() {
  local stages=$1
  local args=(-c "stages=$stages")
  [ -n "$EGRESS" ] && args+=(-c "egress=$EGRESS")
  [ -n "$ALARM_EMAIL" ] && args+=(-c "alarmEmail=$ALARM_EMAIL")
  [ -n "$WAF_RATE_LIMIT" ] && args+=(-c "wafRateLimit=$WAF_RATE_LIMIT")
  printf '%s\n' "${args[@]}"
}

synthesize() { # stages (comma-separated); writes infra/cdk.out
  local stages=$1 args
  mapfile -t args < <(context_args "$stages")
  rm -rf infra/cdk.out
  if $CDK_CLI_READY; then
    cdk synth --quiet --output cdk.out "${args[@]}"
  else
    # Without npm's registry the app still synthesizes itself: the CLI only hands it context.
    echo "(the CDK CLI is not installed; synthesizing with app.synth() directly)"
    local context="{\"stages\": \"$stages\""
    [ -n "$EGRESS" ] && context+=", \"egress\": \"$EGRESS\""
    [ -n "$ALARM_EMAIL" ] && context+=", \"alarmEmail\": \"$ALARM_EMAIL\""
    [ -n "$WAF_RATE_LIMIT" ] && context+=", \"wafRateLimit\": \"$WAF_RATE_LIMIT\""
    context+="}"
    (cd infra && CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON="$context" ../.venv/bin/python app.py)
  fi
}

lint_templates() {
  local template status=0 failed=()
  for template in infra/cdk.out/*.template.json; do
    # cfn-lint's exit status is a bit mask: 2 means errors; warnings (4) and notes (8) are shown only.
    # W3005: CDK's own custom-resource providers add a DependsOn that their GetAtt already implies.
    .venv/bin/cfn-lint --ignore-checks W3005 -- "$template" || status=$?
    if [ $((status & 2)) -ne 0 ]; then failed+=("$template"); fi
    status=0
  done
  [ ${#failed[@]} -eq 0 ] || die "cfn-lint found errors in: ${failed[*]}"
  echo "cfn-lint: no errors in $(ls infra/cdk.out/*.template.json | wc -l) templates."
}

resolve_region() {
  if [ -z "$REGION" ]; then
    REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
  fi
  if [ -z "$REGION" ]; then
    REGION=$(.venv/bin/python -c 'import boto3; print(boto3.session.Session().region_name or "")')
  fi
  [ -n "$REGION" ] || die "No AWS region: pass --region (for example --region eu-west-1) or set AWS_REGION."
  export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION" CDK_DEFAULT_REGION="$REGION"
}

check_credentials() {
  ACCOUNT=$(.venv/bin/python - <<'EOF'
import sys
import boto3
from botocore.exceptions import BotoCoreError, ClientError

try:
    print(boto3.client("sts").get_caller_identity()["Account"])
except (BotoCoreError, ClientError) as error:
    print(f"{error}", file=sys.stderr)
    sys.exit(1)
EOF
  ) || die "No usable AWS credentials. Run 'aws configure' or 'aws sso login', or pass --profile NAME."
  export CDK_DEFAULT_ACCOUNT="$ACCOUNT"
  echo "AWS account $ACCOUNT, region $REGION${PROFILE:+, profile $PROFILE}."
}

check_docker() {
  [ -f backend/runner/Dockerfile ] || return 0
  command -v docker >/dev/null 2>&1 ||
    die "Docker is needed to build the model runner image (backend/runner/). Install Docker and start it."
  docker info >/dev/null 2>&1 ||
    die "The Docker engine is not running (docker info failed). Start Docker Desktop or the docker service."
}

ensure_bootstrapped() {
  # The CDK's staging bucket and roles, once per account and region; the version the assembly needs
  # is recorded in it, so an outdated bootstrap is upgraded too.
  local need have
  need=$(grep -ho '"requiresBootstrapStackVersion": *[0-9]*' infra/cdk.out/manifest.json |
    grep -o '[0-9]*$' | sort -n | tail -1 || true)
  need=${need:-6}
  have=$(.venv/bin/python - <<'EOF'
import boto3
try:
    print(boto3.client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"])
except Exception:  # missing parameter or no permission to read it: bootstrap, which is idempotent
    print(0)
EOF
  )
  if [ "$have" -lt "$need" ]; then
    step "Bootstrapping the AWS CDK in aws://$ACCOUNT/$REGION (bootstrap version $have < $need)"
    cdk bootstrap "aws://$ACCOUNT/$REGION"
  else
    echo "CDK bootstrap version $have in $REGION is recent enough."
  fi
}

# The first admin: created once (AdminGetUser first, so a re-run neither fails nor re-invites) and
# added to group admin (idempotent). Sets ADMIN_STATE: created, exists, failed, or empty without
# --admin-email.
ADMIN_STATE=""
create_first_admin() {
  [ -n "$ADMIN_EMAIL" ] || return 0
  step "First admin: $ADMIN_EMAIL"
  if ADMIN_STATE=$(.venv/bin/python - infra/cdk.out/outputs.json "$STACK" "$ADMIN_EMAIL" <<'EOF'
import json
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

path, stack, email = sys.argv[1:]
pool = json.load(open(path)).get(stack, {}).get("UserPoolId")
if not pool:
    sys.exit(f"The stack {stack} has no UserPoolId output.")
cognito = boto3.client("cognito-idp")
try:
    try:
        user = cognito.admin_get_user(UserPoolId=pool, Username=email)
        state = "exists"
        print(f"{email} already exists ({user['UserStatus']}); no new invitation sent.", file=sys.stderr)
        if user["UserStatus"] == "FORCE_CHANGE_PASSWORD":
            print(
                "If the temporary password expired (7 days), send a new one with: aws cognito-idp "
                f"admin-create-user --user-pool-id {pool} --username {email} --message-action RESEND",
                file=sys.stderr,
            )
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            DesiredDeliveryMediums=["EMAIL"],
        )
        state = "created"
        print(f"Created {email}; Cognito e-mails it a temporary password (valid 7 days).", file=sys.stderr)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="admin")
    print(f"{email} is in group admin.", file=sys.stderr)
except (BotoCoreError, ClientError) as error:
    sys.exit(f"Could not create the first admin: {error}")
print(state)
EOF
  ); then
    return 0
  fi
  ADMIN_STATE=failed
  echo "The deployment itself succeeded; the summary below shows how to create the admin by hand." >&2
}

print_outputs() {
  local outputs=infra/cdk.out/outputs.json
  [ -f "$outputs" ] || return 0
  .venv/bin/python - "$outputs" "$STACK" "$REGION" "$STAGE" "$ADMIN_EMAIL" "$ADMIN_STATE" <<'EOF'
import json
import sys

path, stack, region, stage, admin, admin_state = sys.argv[1:]
out = json.load(open(path)).get(stack, {})
print(f"\nkraken is deployed (stack {stack}):")
print(f"  Console:   {out.get('ConsoleUrl', '?')}")
print(f"  API:       {out.get('ApiUrl', '?')}   (for example: curl {out.get('ApiUrl', '')}/health)")
print(f"  Dashboard: https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={out.get('DashboardName', stack)}")
pool = out.get("UserPoolId")
if pool:
    print(f"  User pool: {pool}   (region {region}; groups admin, editor, viewer)")
    if admin_state in ("created", "exists"):
        how = "with the temporary password e-mailed to it" if admin_state == "created" else "(an existing user)"
        print(f"\nSign in to the console as {admin} {how}.")
    else:
        user = admin or "you@example.com"
        print("\nCreate the first admin (Cognito e-mails a temporary password, valid 7 days):")
        print(f"  ./build-deploy.sh --stage {stage} --admin-email {user}")
        print("or by hand:")
        print(f"  aws cognito-idp admin-create-user --region {region} --user-pool-id {pool} --username {user} \\")
        print(f"    --user-attributes Name=email,Value={user} Name=email_verified,Value=true --desired-delivery-mediums EMAIL")
        print(f"  aws cognito-idp admin-add-user-to-group --region {region} --user-pool-id {pool} --username {user} --group-name admin")
    print("More users: the same two commands, with --group-name editor or viewer for the lower roles.")
print("\nA first deployment can take a few minutes more before CloudFront serves the console everywhere.")
EOF
}

# --- the steps ------------------------------------------------------------------------------------

step "Checking prerequisites"
PYTHON=$(find_python) || exit 1
echo "Python: $($PYTHON --version)"
check_node
echo "Node.js: $(node --version), npm $(npm --version 2>/dev/null)"

step "Python environment (.venv)"
ensure_python_env
echo ".venv is up to date."

step "AWS CDK CLI (pinned in infra/package-lock.json)"
ensure_cdk_cli
if $CDK_CLI_READY; then
  echo "cdk $(cdk --version 2>/dev/null | head -1)"
elif [ "$ACTION" != check ]; then
  die "Could not install the CDK CLI with 'npm --prefix infra ci' (is the npm registry reachable?)."
fi

if [ "$ACTION" = check ]; then
  export AWS_REGION=${REGION:-${AWS_REGION:-us-east-1}} AWS_DEFAULT_REGION=${REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
  # Production differs (retention, deletion protection), so it is always checked too.
  STAGES=$STAGE
  [ "$STAGE" = prod ] || STAGES="$STAGE,prod"
  step "Synthesizing $STAGES offline (cdk-nag AwsSolutions checks run during synthesis)"
  synthesize "$STAGES"
  echo "cdk-nag: no unacknowledged findings."
  step "Linting the templates with cfn-lint"
  lint_templates
  step "Check passed in $(($(date +%s) - STARTED)) s: templates in infra/cdk.out/"
  exit 0
fi

resolve_region
step "AWS credentials"
check_credentials

if [ "$ACTION" = destroy ]; then
  if ! $ASSUME_YES; then
    echo "This deletes the stack $STACK in account $ACCOUNT, region $REGION."
    [ "$STAGE" = prod ] && echo "(prod keeps its tables, artifact bucket and user pool; the stack is termination-protected.)"
    read -r -p "Type the stage name ($STAGE) to confirm: " answer
    [ "$answer" = "$STAGE" ] || die "Not confirmed; nothing was deleted."
  fi
  step "Deleting $STACK"
  if [ "$STAGE" = prod ] || [ "$STAGE" = production ]; then
    echo "Note: prod is termination-protected. To really delete it first run:"
    echo "  aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name $STACK --region $REGION"
  fi
  mapfile -t ARGS < <(context_args "$STAGE")
  cdk destroy "$STACK" --force "${ARGS[@]}"
  echo "Deleted $STACK. VPC-attached Lambda network interfaces can take up to ~20 minutes to disappear."
  exit 0
fi

check_docker

step "Building the console"
if [ -f frontend_build/package.json ]; then
  ensure_console_build
else
  echo "frontend_build/package.json not found: a placeholder page will be deployed."
fi

step "Synthesizing $STACK"
synthesize "$STAGE"

ensure_bootstrapped

step "Deploying $STACK (this takes 10-20 minutes the first time: CloudFront and the NAT gateway)"
cdk deploy "$STACK" --app cdk.out --require-approval never --outputs-file cdk.out/outputs.json

create_first_admin
print_outputs
echo "Done in $(($(date +%s) - STARTED)) s."
[ "$ADMIN_STATE" != failed ] || exit 1
