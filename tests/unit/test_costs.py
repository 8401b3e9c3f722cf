"""Cost arithmetic against figures worked out by hand from the price table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.costs import hourly, month_start, per_thousand, running_cost
from chalicelib.domain.models import DeployedVersion, DeploymentEntry, SpecLine
from chalicelib.domain.prices import REGION_PRICES, prices_for

US = REGION_PRICES["us-east-1"]  # 0.04048 per vCPU-hour, 0.004445 per GB-hour


def line(replicas: int, cpu: float = 1, memory: float = 2) -> SpecLine:
    return SpecLine(1, 100, replicas, cpu, memory, "0" * 64, None)


def entry(at: datetime, action: str, spec: tuple[SpecLine, ...]) -> DeploymentEntry:
    return DeploymentEntry("m", f"{at.timestamp():.0f}", at, "ann", action, "", spec)


def test_an_hour_is_each_replica_s_vcpu_and_memory() -> None:
    # 2 x (0.5 x 0.04048 + 1 x 0.004445) = 2 x 0.024685
    assert hourly([DeployedVersion(1, 100, 2, 0.5, 1)], US) == pytest.approx(0.04937)
    assert hourly([], US) == 0


def test_the_month_replays_starts_deploys_and_stops() -> None:
    one, two = (line(1),), (line(2),)  # 0.04937 and 0.09874 per hour
    entries = [
        entry(datetime(2026, 11, 30, 23, tzinfo=UTC), "start", one),  # running when the month begins
        entry(datetime(2026, 12, 1, 10, tzinfo=UTC), "deploy", two),
        entry(datetime(2026, 12, 1, 12, tzinfo=UTC), "stop", two),
        entry(datetime(2026, 12, 2, 0, tzinfo=UTC), "start", two),
    ]
    now = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    since = month_start(now)
    assert since == datetime(2026, 12, 1, tzinfo=UTC)
    # 10 h x 0.04937 + 2 h x 0.09874 + 1.5 h x 0.09874
    assert running_cost(list(reversed(entries)), since, now, US) == pytest.approx(0.4937 + 0.19748 + 0.14811)
    # Nothing ran: a deploy on a stopped model costs nothing.
    stopped = [entry(datetime(2026, 12, 1, 1, tzinfo=UTC), "deploy", two)]
    assert running_cost(stopped, since, now, US) == 0


def test_a_thousand_predictions_pay_the_gateway_lambda_and_a_share_of_the_containers() -> None:
    cost = per_thousand(US, lambda_memory_mb=512, gateway_ms=50, containers_spent=0.83929, requests=10_000)
    assert cost.api_gateway == pytest.approx(0.0035)  # 1,000 x 3.50 / 1e6
    assert cost.lambda_function == pytest.approx(1000 * (0.2e-6 + 0.5 * 0.05 * 0.0000166667))
    assert cost.containers == pytest.approx(0.083929)
    assert cost.total == pytest.approx(0.0035 + 0.0006166675 + 0.083929)
    assert per_thousand(US, 512, 50, 1.0, 0).containers is None


def test_an_unknown_region_is_priced_as_us_east_1_and_says_so() -> None:
    assert prices_for("eu-central-1")[0] == "eu-central-1"
    assert prices_for("xx-nowhere-1") == ("us-east-1", US)


def test_the_stage_s_idle_cost_is_its_nat_gateways_endpoints_and_waf_by_the_month() -> None:
    from chalicelib.domain.costs import stage_idle_cost

    nat = stage_idle_cost("us-east-1", nat_gateways=1, interface_endpoints=0, waf_rules=0)
    assert nat.monthly == 32.85 and nat.hourly == 0.045  # 0.045 x 730
    assert [item.what for item in nat.items] == ["1 NAT gateway (data on top)"]
    # Seven interface endpoints in two AZs (egress=endpoints) and a WAF with its one rule, in Frankfurt.
    isolated = stage_idle_cost("eu-central-1", nat_gateways=0, interface_endpoints=14, waf_rules=1)
    assert [(item.what, item.monthly) for item in isolated.items] == [
        ("14 interface endpoint network interfaces", round(14 * 0.012 * 730, 2)),
        ("WAF web ACL and its rules", 6.0),
    ]
    assert isolated.monthly == round(14 * 0.012 * 730 + 6, 2) and isolated.priced_as == "eu-central-1"
    assert stage_idle_cost("sa-east-1", 2, 0, 0).priced_as == "us-east-1"
