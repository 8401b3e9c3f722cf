"""The benchmarks' command line: `python -m scripts.bench <name>` (or `python scripts/bench <name>`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if not __package__:  # run as a directory (`python scripts/bench`): make `scripts.bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench import __doc__ as overview
from scripts.bench import containers, gateway, imports, lifecycle, runner, shadow, state, switch
from scripts.bench.harness import REPO

IN_ALL = ("lifecycle", "gateway", "import")


def bench_all(_args: argparse.Namespace) -> int:
    codes = []
    for command in IN_ALL:
        print(f"\n===== {command} =====", flush=True)
        codes.append(main([command]))
    return max(codes)


def main(argv: list[str] | None = None) -> int:
    # Local mode's packages (`local`, `chalicelib`, `app`) live in backend/, as under ./scripts/local.sh.
    if str(REPO / "backend") not in sys.path:
        sys.path.insert(0, str(REPO / "backend"))
    parser = argparse.ArgumentParser(description=overview, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Only parsers given a help= are listed; the underscored ones are the benchmarks' own child processes.
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{runner,containers,lifecycle,gateway,import,state,switch,shadow,all}"
    )
    for module in (runner, containers, lifecycle, gateway, imports, state, switch, shadow):
        module.add_commands(commands)
    everything = commands.add_parser(
        "all",
        help="lifecycle, gateway and import with their defaults; not runner (it builds .venv-bench with "
        "MLflow and MLServer, minutes on a first run, and measures the runner alone) nor containers (it needs "
        "podman or Docker and builds the runner image when missing)",
    )
    everything.set_defaults(handler=bench_all)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
