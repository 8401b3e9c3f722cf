"""CPU and memory of a model's containers as shares of what they reserved, from per-version samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RESOURCE_SERIES = ("cpuPercent", "memoryPercent", "memoryPeakPercent")


@dataclass(frozen=True)
class ResourceSample:
    """One period of one version's replicas: sums over replicas and samples, and the highest single values."""

    cpu_used: float | None = None
    cpu_reserved: float | None = None
    memory_used: float | None = None
    memory_reserved: float | None = None
    memory_peak: float | None = None
    memory_peak_reserved: float | None = None


def _percent(used: float, reserved: float) -> float:
    return round(100 * used / reserved, 2)


def _share(pairs: list[tuple[float | None, float | None]]) -> float | None:
    """Used over reserved, summed across versions; None when no version reported both."""
    counted = [(used, reserved) for used, reserved in pairs if used is not None and reserved]
    if not counted:
        return None
    return _percent(sum(u for u, _ in counted), sum(r for _, r in counted))


def resource_series(samples: Sequence[Sequence[ResourceSample]]) -> dict[str, list[float | None]]:
    """Per period: CPU and memory used as % of reserved across the versions, and the fullest replica's memory.

    Averages hide the one replica about to be killed for memory, so the peak is the highest single
    replica's (its own sample against its own reservation), not the highest average."""
    cpu, memory, peak = [], [], []
    for versions in samples:
        cpu.append(_share([(s.cpu_used, s.cpu_reserved) for s in versions]))
        memory.append(_share([(s.memory_used, s.memory_reserved) for s in versions]))
        peaks = [
            _percent(s.memory_peak, s.memory_peak_reserved)
            for s in versions
            if s.memory_peak is not None and s.memory_peak_reserved
        ]
        peak.append(max(peaks) if peaks else None)
    return dict(zip(RESOURCE_SERIES, (cpu, memory, peak), strict=True))
