"""The dependency rule of ARCHITECTURE.md, checked on the source: the domain imports no AWS SDK or web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[2] / "backend" / "chalicelib"
FORBIDDEN_IN_DOMAIN = {"boto3", "botocore", "chalice", "pynamodb", "pydantic", "aws_lambda_powertools", "moto"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((CHALICELIB / "domain").glob("*.py")), ids=lambda p: p.name)
def test_domain_imports_no_sdk(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert not roots & FORBIDDEN_IN_DOMAIN
    assert not any(name.startswith(("chalicelib.adapters", "chalicelib.api")) for name in imported_modules(path))


def test_shared_definitions_need_only_the_standard_library() -> None:
    # infra/ imports these without the Lambda's dependencies installed.
    for module in ("tables.py", "config.py"):
        roots = {name.split(".")[0] for name in imported_modules(CHALICELIB / module)}
        assert roots <= {"__future__", "dataclasses", "functools", "os"}, module


def test_every_module_says_what_it_is_for() -> None:
    for path in (CHALICELIB.parent).rglob("*.py"):
        if ".chalice" in path.parts:
            continue
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"
