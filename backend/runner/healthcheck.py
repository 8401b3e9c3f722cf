"""Container health probe (`python -m runner.healthcheck`): exit 0 only when the model is served."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("KRAKEN_MODEL_PORT", "").strip() or "8080"
    path = os.environ.get("KRAKEN_HEALTH_PATH", "").strip() or "/health"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
