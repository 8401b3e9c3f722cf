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
