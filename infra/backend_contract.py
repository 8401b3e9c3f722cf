"""What the CDK app reads from the backend: table layouts and environment variable names, nothing else.

`chalicelib.tables` and `chalicelib.config` import only the standard library, so the CDK app can use
them without the Lambda's dependencies; the rest of chalicelib is never imported here.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from infra.stage import BACKEND_DIR

if TYPE_CHECKING:  # the dataclass, for type hints only
    from chalicelib.tables import TableLayout
else:
    TableLayout = Any


def _backend_module(name: str) -> ModuleType:
    if str(BACKEND_DIR) not in sys.path:
        sys.path.insert(0, str(BACKEND_DIR))
    return importlib.import_module(name)


def tables_module() -> ModuleType:
    return _backend_module("chalicelib.tables")


def config_module() -> ModuleType:
    return _backend_module("chalicelib.config")


def permissions_module() -> ModuleType:
    return _backend_module("chalicelib.permissions")


def security_headers_module() -> ModuleType:
    return _backend_module("chalicelib.security_headers")
