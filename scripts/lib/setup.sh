# Set-up steps shared by local.sh, test.sh and build-deploy.sh; each does nothing when already done.
# Sourced, not run: the caller has `set -euo pipefail` and is at the repository root.

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Python 3.11 or newer is needed (python3 --version says: $(python3 --version 2>&1 || echo none))." >&2
  return 1
}

# Creates .venv and installs requirements.txt (and the files it includes) when they changed.
ensure_python_env() {
  local python stamp wanted
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $python ..."
    "$python" -m venv .venv
  fi
  stamp=.venv/.requirements-sha256
  wanted=$(cat requirements.txt backend/requirements.txt backend/runner/requirements*.txt infra/requirements.txt sdk/pyproject.toml 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing Python dependencies into .venv (first run takes a few minutes) ..."
    # Chalice pins pip below 26.3, so pip is settled first and everything else in one resolver run.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "pip<26.3"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$wanted" >"$stamp"
  fi
}

# Installs the console's packages and builds it when its build output is missing or older than its sources.
ensure_console_build() {
  [ -f frontend_build/package.json ] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "Node.js 20+ with npm is needed to build the console." >&2
    return 1
  fi
  local lock_stamp=frontend_build/node_modules/.package-lock-sha256 wanted
  wanted=$(sha256sum frontend_build/package-lock.json 2>/dev/null | cut -d' ' -f1)
  if [ ! -d frontend_build/node_modules ] || [ "$(cat "$lock_stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the console's packages ..."
    npm --prefix frontend_build ci --no-audit --no-fund --loglevel=error
    echo "$wanted" >"$lock_stamp"
  fi
  if [ ! -f frontend_build/dist/index.html ] ||
    [ -n "$(find frontend_build -path frontend_build/node_modules -prune -o -path frontend_build/dist -prune -o \
      -path frontend_build/e2e/.out -prune -o -path frontend_build/screenshots -prune -o \
      -type f -newer frontend_build/dist/index.html -print -quit)" ]; then
    echo "Building the console ..."
    npm --prefix frontend_build run build --silent
  fi
}

# Debian's Chromium for the browser tests; installed when missing and we may install packages.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium for the browser tests ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need /usr/bin/chromium: sudo apt-get install -y chromium" >&2
    return 1
  fi
}

# A container engine for local mode and the container tests: podman, runc and debootstrap from Debian's
# packages when missing (as root), then the runner image, built once per machine and again only when
# backend/runner or the base recipe changes (local/engine.py). Without them models run as processes.
ensure_container_engine() {
  [ "${KRAKEN_LOCAL_RUNTIME:-auto}" = process ] && return 0
  if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 ||
    ! command -v debootstrap >/dev/null 2>&1 || ! command -v slirp4netns >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing podman, runc and debootstrap for model containers ..."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        podman runc conmon netavark slirp4netns debootstrap ca-certificates >/dev/null
    else
      echo "Models run as processes: no podman here (sudo apt-get install podman runc slirp4netns debootstrap)." >&2
      return 0
    fi
  fi
  PYTHONPATH=backend .venv/bin/python -m local.engine ||
    echo "The runner image could not be built (see above); models run as processes." >&2
}

# KServe's SDK in a virtual environment of its own (.venv-kserve): its client is tested against local mode,
# but kserve brings a whole server stack that .venv should not carry. Installed when the test asks for it,
# again only when tests/e2e/kserve-requirements.txt changes.
ensure_kserve_env() {
  local python stamp=.venv-kserve/.requirements-sha256 wanted
  python=$(find_python)
  wanted=$(sha256sum tests/e2e/kserve-requirements.txt | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] && return 0
  echo "Installing KServe's client into .venv-kserve (a few minutes, once) ..."
  [ -x .venv-kserve/bin/python ] || "$python" -m venv .venv-kserve
  .venv-kserve/bin/python -m pip install --quiet --disable-pip-version-check -r tests/e2e/kserve-requirements.txt
  echo "$wanted" >"$stamp"
}
