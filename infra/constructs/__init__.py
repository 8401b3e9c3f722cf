"""Building blocks of the kraken stack; each takes keyword-only settings and exposes its resources."""
