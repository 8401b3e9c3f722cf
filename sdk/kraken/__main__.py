"""`python -m kraken`: the same as the `kraken` command."""

from __future__ import annotations

import sys

from kraken.cli import main

sys.exit(main())
