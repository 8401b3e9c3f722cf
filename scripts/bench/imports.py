"""`import`: the API function's cold import (`import app`), as Lambda's init phase pays it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from scripts.bench.harness import REPO, median, print_seconds


def parse_importtime(stderr: str) -> tuple[float, dict[str, float], dict[str, float]]:
    """`app`'s cumulative import time (ms), and its subtree's own time (ms) by top-level package and by module."""
    entries: list[tuple[int, str, int, int]] = []  # level, name, self us, cumulative us
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, raw_name = line.removeprefix("import time:").split("|", 2)
        raw_name = raw_name[1:]  # one space after the bar, then two per nesting level
        name = raw_name.lstrip()
        entries.append(((len(raw_name) - len(name)) // 2, name, int(own), int(cumulative)))
    index = next(i for i, entry in enumerate(entries) if entry[0] == 0 and entry[1] == "app")
    first = index
    while first > 0 and entries[first - 1][0] > 0:
        first -= 1
    by_package: dict[str, float] = {}
    by_module: dict[str, float] = {}
    for _, name, own_us, _ in entries[first : index + 1]:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + own_us / 1000
        by_module[name] = own_us / 1000
    return entries[index][3] / 1000, by_package, by_module


def bench_import(args: argparse.Namespace) -> int:
    backend = REPO / "backend"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("AWS_", "KRAKEN_"))}
    timed = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"
    with_importtime: list[float] = []
    plain: list[float] = []
    breakdowns: list[tuple[dict[str, float], dict[str, float]]] = []
    for _ in range(args.runs):  # the two kinds alternate, each in a fresh interpreter
        traced = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import app"],
            cwd=backend, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        total, by_package, by_module = parse_importtime(traced.stderr)
        with_importtime.append(total)
        breakdowns.append((by_package, by_module))
        untraced = subprocess.run(
            [sys.executable, "-c", timed], cwd=backend, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        plain.append(float(untraced.stdout.strip()))
    print(f"cold `import app` (cwd backend/, {sys.executable}), {args.runs} fresh processes each")
    print_seconds(
        [("python -X importtime: app cumulative", with_importtime), ("perf_counter around `import app`", plain)],
        unit="ms",
    )
    by_package, by_module = breakdowns[with_importtime.index(sorted(with_importtime)[len(with_importtime) // 2])]
    for title, shares in (("top-level package", by_package), ("module", by_module)):
        print(f"\nwhere it goes: own time by {title} (the median -X importtime run, which inflates each a little)")
        for name, ms in sorted(shares.items(), key=lambda item: -item[1])[: args.top]:
            print(f"  {name:<40}{ms:>8.1f} ms")
    print(
        f"\nmedian {median(with_importtime):.1f} ms against the 150 ms target: "
        f"{'met' if median(with_importtime) < 150 else 'missed'}"
    )
    return 0


def add_commands(commands: Any) -> None:
    """Register this benchmark's subcommands on the CLI's subparsers."""
    cold = commands.add_parser(
        "import",
        help="cold `import app` (cwd backend/) in fresh interpreters: median ms (target < 150 ms)",
    )
    cold.add_argument("--runs", type=int, default=7, help="fresh processes per measurement kind")
    cold.add_argument("--top", type=int, default=10, help="packages to list by import time")
    cold.set_defaults(handler=bench_import)
