"""Rules every model record obeys, tested without any I/O."""

from __future__ import annotations

import pytest

from chalicelib.domain.models import FARGATE_SIZES, fargate_size_problem


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(0.25, 0.5), (0.25, 1), (0.25, 2), (0.5, 1), (0.5, 4), (1, 2), (1, 8), (2, 4), (2, 16), (4, 8), (4, 30)],
)
def test_valid_fargate_sizes(cpu: float, memory: float) -> None:
    assert fargate_size_problem(cpu, memory) is None


@pytest.mark.parametrize(
    ("cpu", "memory", "field"),
    [
        (0.25, 4, "container_memory"),
        (0.5, 0.5, "container_memory"),
        (0.5, 1.5, "container_memory"),
        (1, 9, "container_memory"),
        (4, 31, "container_memory"),
        (3, 8, "container_cpu"),
        (8, 16, "container_cpu"),
    ],
)
def test_invalid_fargate_sizes_name_the_field_to_fix(cpu: float, memory: float, field: str) -> None:
    problem = fargate_size_problem(cpu, memory)
    assert problem is not None and problem.field == field


def test_memory_choices_are_whole_gigabytes_above_half_a_gigabyte() -> None:
    for cpu, choices in FARGATE_SIZES.items():
        assert all(m == int(m) for m in choices if m > 0.5), cpu
    assert FARGATE_SIZES[4.0] == tuple(float(m) for m in range(8, 31))
