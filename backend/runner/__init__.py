"""Standard model runner: serves one model artifact from S3 over HTTP inside its container."""

from __future__ import annotations

__all__ = ["EXIT_LOAD_FAILURE", "FAILURE_PREFIX"]

# Part of the contract with the lifecycle code, which turns the line into the model's statusReason.
FAILURE_PREFIX = "KRAKEN_FAILURE: "
EXIT_LOAD_FAILURE = 3
