"""The committed OpenAPI document and the console's TypeScript types are what the schemas generate today."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("generate_api_types", REPO / "scripts" / "generate_api_types.py")
assert spec and spec.loader
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)

STALE = "is stale: run .venv/bin/python scripts/generate_api_types.py and commit the result"


def test_the_committed_openapi_document_is_current() -> None:
    assert generate.DOCUMENT.read_text() == generate.document_text(generate.openapi_document()), f"openapi.json {STALE}"


@pytest.mark.skipif(
    shutil.which("node") is None or not (generate.CONSOLE / "node_modules").exists(),
    reason="needs the console's packages (./scripts/test.sh installs them before pytest)",
)
def test_the_consoles_types_are_current() -> None:
    assert generate.TYPES.read_text() == generate.types_text(generate.openapi_document()), f"schema.d.ts {STALE}"
