"""CDK entry point (`cdk synth`/`cdk deploy` run it from infra/): `-c stage=dev` or `-c stages=dev,prod`."""

from __future__ import annotations

import sys
from pathlib import Path

# This directory holds a `constructs` package of our own, which would shadow the `constructs` library
# that aws-cdk-lib imports if it stayed on sys.path; import our code as the `infra` package instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import aws_cdk as cdk  # noqa: E402 - after the path fix above

from infra.assembly import build_app  # noqa: E402
from infra.stage import stages_from_context  # noqa: E402


def main() -> None:
    app = cdk.App()  # the CLI hands over -c values and the output directory through the environment
    context = dict(app.node.get_all_context() or {})
    app, stacks = build_app(stages_from_context(context), app=app)
    for stage, stack in stacks.items():
        chalice = stack.api.chalice
        print(
            f"kraken[{stage}]: API function package {chalice.package_bytes / 1e6:.1f} MB zipped "
            f"({chalice.unstripped_bytes / 1e6:.1f} MB before removing the runtime's boto3/botocore)",
            file=sys.stderr,
        )
    app.synth()


if __name__ == "__main__":
    main()
