"""Project scripts; a package so the benchmarks run as `python -m scripts.bench`."""
