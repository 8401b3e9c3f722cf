"""Shape of a model's cost as the API shows it (USD)."""

from __future__ import annotations

from chalicelib.domain.prices import PRICES_AS_OF, PRICES_SOURCE
from chalicelib.schemas.common import Instant, ResponseModel


class PerThousandResponse(ResponseModel):
    api_gateway: float
    lambda_function: float
    # null until the model has served requests this month: its containers cost by the hour.
    containers: float | None
    total: float


class CostResponse(ResponseModel):
    currency: str = "USD"
    region: str
    priced_as: str
    prices_as_of: str = PRICES_AS_OF
    prices_source: str = PRICES_SOURCE
    running: bool
    hourly: float
    spot_hourly: float
    since: Instant
    month_to_date: float
    requests_this_month: int
    per_thousand_predictions: PerThousandResponse


class CostItemResponse(ResponseModel):
    what: str
    monthly: float


class StageCostResponse(ResponseModel):
    """The stage's own cost with no model running (its network and edge), by the month."""

    currency: str = "USD"
    region: str
    priced_as: str
    prices_as_of: str = PRICES_AS_OF
    items: list[CostItemResponse]
    monthly: float
    hourly: float
    # Local mode runs none of it: the figures are what the stack's defaults would cost.
    local: bool
