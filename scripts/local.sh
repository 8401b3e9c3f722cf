#!/usr/bin/env bash
# Local mode in one command: installs what is missing, then serves the console and API on http://127.0.0.1:8000
# (KRAKEN_PORT changes the port). Ctrl-C stops everything it started; the state is kept for the next start
# (KRAKEN_DATA_DIR says where; `--reset` starts empty).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_python_env
ensure_console_build
ensure_container_engine
export PYTHONPATH=backend
exec .venv/bin/python -m local "$@"
