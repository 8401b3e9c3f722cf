"""CPU and memory as shares of what the containers reserved: summed across versions, the peak per replica."""

from __future__ import annotations

from chalicelib.domain.resources import ResourceSample, resource_series


def test_shares_sum_used_and_reserved_across_versions() -> None:
    # Version 1: two samples of one replica, 256 of 512 units and 200 of 512 MiB each time.
    v1 = ResourceSample(
        cpu_used=512,
        cpu_reserved=1024,
        memory_used=400,
        memory_reserved=1024,
        memory_peak=200,
        memory_peak_reserved=512,
    )
    # Version 2: a bigger size, nearly full memory in its fullest replica.
    v2 = ResourceSample(
        cpu_used=1024,
        cpu_reserved=1024,
        memory_used=1900,
        memory_reserved=2048,
        memory_peak=1000,
        memory_peak_reserved=1024,
    )
    series = resource_series([[v1, v2]])
    assert series["cpuPercent"] == [75.0]  # (512 + 1024) / (1024 + 1024)
    assert series["memoryPercent"] == [round(100 * 2300 / 3072, 2)]
    assert series["memoryPeakPercent"] == [round(100 * 1000 / 1024, 2)]  # the fullest replica, not the average


def test_a_period_without_samples_is_none_and_a_half_reported_version_is_left_out() -> None:
    only_memory = ResourceSample(memory_used=100, memory_reserved=512, memory_peak=100, memory_peak_reserved=512)
    series = resource_series([[], [only_memory], [ResourceSample(cpu_used=10, cpu_reserved=0)]])
    assert series["cpuPercent"] == [None, None, None]
    assert series["memoryPercent"] == [None, round(100 * 100 / 512, 2), None]
    assert series["memoryPeakPercent"] == [None, round(100 * 100 / 512, 2), None]
