"""Benchmarks on loopback only, one module per benchmark on a shared harness; run them with the project's .venv.

    .venv/bin/python -m scripts.bench lifecycle   # local mode: POST start -> first 200 prediction
    .venv/bin/python -m scripts.bench gateway     # the API's own overhead: in-process and over HTTP
    .venv/bin/python -m scripts.bench import      # cold import of the API function (`import app`)
    .venv/bin/python -m scripts.bench state       # local mode: start with 1,000 models saved, a save, saving under wrk
    .venv/bin/python -m scripts.bench runner      # the model runner vs `mlflow models serve` and MLServer
    .venv/bin/python -m scripts.bench containers  # runner image size; start -> healthy in a container vs a process
    .venv/bin/python -m scripts.bench switch      # local mode: a deployment switch under load, errors meanwhile
    .venv/bin/python -m scripts.bench shadow      # local mode: callers' latency, 100% shadow vs none (hey, wrk)
    .venv/bin/python -m scripts.bench all         # lifecycle, gateway and import (not runner, containers)

(`.venv/bin/python scripts/bench` works the same.) `all` leaves out `runner`: it builds .venv-bench with
MLflow and MLServer (minutes on the first run) and measures the runner alone, not the API; and `containers`,
which needs podman or Docker (and builds the runner image when it is missing). Every benchmark
binds 127.0.0.1 only, sends a bounded number of requests and stops everything it started. Nothing here
asserts on time: it reports, it does not judge.

The API needs sign-in: local mode is started with a random KRAKEN_ADMIN_PASSWORD (never printed, nor
are tokens) and the set-up calls carry the admin's Cognito access token. Latencies are measured on
public models, which need no credentials; `gateway` also times a private model asked with a client token.
"""
