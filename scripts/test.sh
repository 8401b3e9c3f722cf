#!/usr/bin/env bash
# Every test in one command: installs what is missing, lints, then runs the Python, console and browser tests.
# Exits non-zero on any failure. Extra arguments go to pytest (e.g. ./scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
ensure_python_env
ensure_console_build
ensure_container_engine

echo "== ruff"
.venv/bin/ruff check .

echo "== mypy"
.venv/bin/mypy

echo "== pytest"
if [ $# -eq 0 ]; then
  # Two workers, each taking whole modules (a module's local mode and its tests stay together); the
  # one_process tests after, alone: their cases share a node id, and xdist schedules by node id.
  # The slowest tests are listed at the end: what to look at when the suite grows past its half hour.
  .venv/bin/python -m pytest -n 2 --dist loadfile -m "not one_process" --durations=15
  .venv/bin/python -m pytest -m one_process
else
  .venv/bin/python -m pytest "$@"
fi

if [ -f frontend_build/package.json ] && [ $# -eq 0 ]; then
  echo "== console unit tests"
  npm --prefix frontend_build test --silent
  if grep -q '"e2e"' frontend_build/package.json; then
    ensure_chromium
    echo "== console browser tests"
    npm --prefix frontend_build run e2e --silent
  fi
fi
