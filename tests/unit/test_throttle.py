"""The per-model token bucket: bursts up to a second's worth, then the rate, and how long to wait."""

from __future__ import annotations

from chalicelib.domain.throttle import Throttles, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_one_seconds_worth_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(4, clock)
    assert [bucket.take() for _ in range(4)] == [0, 0, 0, 0]
    assert bucket.take() == 0.25  # the next token comes in a quarter second
    clock.now += 0.25
    assert bucket.take() == 0
    clock.now += 10
    assert [bucket.take() for _ in range(5)][-1] > 0  # idle time does not bank more than the burst


def test_a_slow_rate_still_admits_one_request() -> None:
    clock = Clock()
    bucket = TokenBucket(0.5, clock)
    assert bucket.take() == 0
    assert bucket.take() == 2.0


def test_no_limit_and_a_changed_limit() -> None:
    clock = Clock()
    throttles = Throttles(clock)
    assert all(throttles.wait_for("m", None) == 0 for _ in range(100))
    assert throttles.wait_for("m", 1) == 0 and throttles.wait_for("m", 1) > 0
    assert throttles.wait_for("m", 5) == 0  # a new rate starts a fresh bucket
    assert throttles.wait_for("other", 1) == 0  # each model has its own
