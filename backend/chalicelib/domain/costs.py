"""What a model costs: per hour while it runs, this month from its deployment history, per 1,000 predictions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.models import DeployedVersion, DeploymentEntry, ModelRecord, ModelStatus, SpecLine
from chalicelib.domain.ports import DeploymentHistory, MetricsReader
from chalicelib.domain.prices import (
    HOURS_PER_MONTH,
    TYPICAL_SPOT_DISCOUNT,
    WAF_RULE_MONTH,
    WAF_WEB_ACL_MONTH,
    RegionPrices,
    prices_for,
)

DAY_SECONDS = 86400
MAX_HISTORY_PAGES = 10


def hourly(spec: Iterable[DeployedVersion | SpecLine], prices: RegionPrices, all_spot: bool = False) -> float:
    """USD per hour of a deployment's containers: each replica's vCPU and memory at Fargate's prices, at
    Spot's typical discount for the versions on Spot (`all_spot`: as if every version were)."""
    return sum(
        d.replicas
        * (d.container_cpu * prices.vcpu_hour + d.container_memory * prices.gb_hour)
        * ((1 - TYPICAL_SPOT_DISCOUNT) if all_spot or d.spot else 1)
        for d in spec
    )


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def running_cost(entries: Sequence[DeploymentEntry], since: datetime, now: datetime, prices: RegionPrices) -> float:
    """USD spent on containers from `since` to `now`, replaying the history (any order): from each start
    until the next stop, at the spec of the latest start, deploy or rollback. Entries before `since` give
    the state at `since`."""
    spent = 0.0
    running = False
    spec: tuple[SpecLine, ...] = ()
    at = since
    for entry in sorted(entries, key=lambda e: e.at):
        if entry.at > now:
            break
        if entry.at > since:
            if running:
                spent += hourly(spec, prices) * (entry.at - at).total_seconds() / 3600
            at = entry.at
        spec = entry.spec
        # A start runs the containers and a stop ends them; deploys and rollbacks change only the spec.
        if entry.action in ("start", "stop"):
            running = entry.action == "start"
    if running:
        spent += hourly(spec, prices) * (now - max(at, since)).total_seconds() / 3600
    return spent


@dataclass(frozen=True)
class PerThousand:
    """USD per 1,000 predictions, by what charges for them."""

    api_gateway: float
    lambda_function: float
    containers: float | None  # None without traffic: the containers' cost is per hour, not per request

    @property
    def total(self) -> float:
        return self.api_gateway + self.lambda_function + (self.containers or 0.0)


def per_thousand(
    prices: RegionPrices, lambda_memory_mb: int, gateway_ms: float, containers_spent: float, requests: int
) -> PerThousand:
    """The cost of 1,000 predictions: API Gateway's and Lambda's per request (Lambda billed for the whole
    request, the wait for the container included), plus what the containers cost spread over the
    requests they served."""
    lambda_cost = 1000 * (
        prices.lambda_million / 1_000_000 + lambda_memory_mb / 1024 * gateway_ms / 1000 * prices.lambda_gb_second
    )
    containers = 1000 * containers_spent / requests if requests else None
    return PerThousand(1000 * prices.api_million / 1_000_000, lambda_cost, containers)


@dataclass(frozen=True)
class ModelCost:
    region: str  # the stage's
    priced_as: str  # the region whose prices were used (the stage's, or us-east-1's when the table lacks it)
    running: bool
    hourly: float  # the current deployment's containers, per hour while they run
    spot_hourly: float  # the same on Fargate Spot, at its typical discount
    since: datetime
    month_to_date: float  # containers only
    requests_this_month: int
    per_thousand_predictions: PerThousand


def _history_since(history: DeploymentHistory, model_id: str, since: datetime) -> list[DeploymentEntry]:
    """Newest-first pages until one entry predates `since` (it gives the state at `since`)."""
    entries: list[DeploymentEntry] = []
    cursor = None
    for _ in range(MAX_HISTORY_PAGES):
        page = history.list(model_id, 100, cursor)
        entries.extend(page.items)
        cursor = page.cursor
        if not cursor or (page.items and page.items[-1].at < since):
            break
    return entries


def model_cost(
    record: ModelRecord,
    history: DeploymentHistory,
    metrics: MetricsReader,
    region: str,
    lambda_memory_mb: int,
    now: datetime,
) -> ModelCost:
    priced_as, prices = prices_for(region)
    since = month_start(now)
    spent = running_cost(_history_since(history, record.id, since), since, now, prices)
    series = metrics.series(record.id, since, now, DAY_SECONDS)
    daily_requests = series.values.get("requests", [])
    requests = sum(v or 0 for v in daily_requests)
    # The month's mean latency: each day's average weighted by its requests.
    daily_ms = series.values.get("latencyAvg", [None] * len(daily_requests))
    days = [(ms, n) for ms, n in zip(daily_ms, daily_requests, strict=True) if ms and n]
    mean_ms = sum(ms * n for ms, n in days) / sum(n for _, n in days) if days else 0.0
    running = record.status not in (ModelStatus.STOPPED, ModelStatus.IDLE)
    spec = record.wanted() if running else record.deployment
    return ModelCost(
        region=region,
        priced_as=priced_as,
        running=running,
        hourly=hourly(spec, prices),
        spot_hourly=hourly(spec, prices, all_spot=True),
        since=since,
        month_to_date=spent,
        requests_this_month=int(requests),
        per_thousand_predictions=per_thousand(prices, lambda_memory_mb, mean_ms, spent, int(requests)),
    )


@dataclass(frozen=True)
class CostItem:
    what: str
    monthly: float


@dataclass(frozen=True)
class StageCost:
    """What the stage costs with no model running: its network and edge, by the month."""

    region: str
    priced_as: str
    items: tuple[CostItem, ...]
    monthly: float
    hourly: float


def stage_idle_cost(region: str, nat_gateways: int, interface_endpoints: int, waf_rules: int) -> StageCost:
    """The stage's fixed monthly cost; requests, storage and logs are billed by use and come on top."""
    priced_as, prices = prices_for(region)
    items = []
    if nat_gateways:
        monthly = nat_gateways * prices.nat_gateway_hour * HOURS_PER_MONTH
        items.append(CostItem(f"{nat_gateways} NAT gateway{'s' if nat_gateways > 1 else ''} (data on top)", monthly))
    if interface_endpoints:
        monthly = interface_endpoints * prices.endpoint_hour * HOURS_PER_MONTH
        items.append(CostItem(f"{interface_endpoints} interface endpoint network interfaces", monthly))
    if waf_rules:
        items.append(CostItem("WAF web ACL and its rules", WAF_WEB_ACL_MONTH + waf_rules * WAF_RULE_MONTH))
    rounded = tuple(CostItem(item.what, round(item.monthly, 2)) for item in items)
    total = sum(item.monthly for item in items)
    return StageCost(region, priced_as, rounded, round(total, 2), round(total / HOURS_PER_MONTH, 4))
