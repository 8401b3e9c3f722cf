"""The AWS prices a model's cost is computed from: one table, with its date and where it was read.

On-demand list prices in USD for Linux/x86 Fargate tasks, REST API Gateway requests (the first tier)
and Lambda (x86), per region. They change rarely but they do change: update the table and its date
together. Fargate Spot is billed at a discount that varies by region and over time; the figure
below is the typical one and is shown to users as an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-12-01"
PRICES_SOURCE = (
    "https://aws.amazon.com/fargate/pricing/, https://aws.amazon.com/api-gateway/pricing/, "
    "https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/vpc/pricing/, "
    "https://aws.amazon.com/privatelink/pricing/, https://aws.amazon.com/waf/pricing/ "
    "(on-demand list prices; taxes, free tiers and discounts excluded)"
)
HOURS_PER_MONTH = 730  # AWS's own convention for monthly figures
WAF_WEB_ACL_MONTH = 5.00  # per web ACL per month, every region
WAF_RULE_MONTH = 1.00  # per rule per month
TYPICAL_SPOT_DISCOUNT = 0.70  # Fargate Spot runs at roughly 70% below on-demand


@dataclass(frozen=True)
class RegionPrices:
    vcpu_hour: float  # Fargate, per vCPU per hour
    gb_hour: float  # Fargate, per GB of memory per hour
    api_million: float  # REST API Gateway, per million requests (first tier)
    lambda_million: float  # Lambda, per million invocations
    lambda_gb_second: float  # Lambda x86, per GB-second of duration
    nat_gateway_hour: float  # per NAT gateway per hour (data processed comes on top)
    endpoint_hour: float  # per interface VPC endpoint per Availability Zone per hour


_US = RegionPrices(0.04048, 0.004445, 3.50, 0.20, 0.0000166667, 0.045, 0.01)
# Written from the pages above on the table's date (this machine cannot reach them: check before relying
# on a figure). Any other region is priced as us-east-1, and the cost says so.
REGION_PRICES: dict[str, RegionPrices] = {
    "us-east-1": _US,
    "us-east-2": _US,
    "us-west-2": _US,
    "eu-west-1": _US,
    "eu-central-1": RegionPrices(0.04656, 0.00511, 4.25, 0.20, 0.0000166667, 0.052, 0.012),
    "ap-northeast-1": RegionPrices(0.05056, 0.00553, 4.25, 0.20, 0.0000166667, 0.062, 0.014),
}
FALLBACK_REGION = "us-east-1"


def prices_for(region: str) -> tuple[str, RegionPrices]:
    """The region whose prices apply (the stage's when the table has it, else us-east-1's), and them."""
    if region in REGION_PRICES:
        return region, REGION_PRICES[region]
    return FALLBACK_REGION, REGION_PRICES[FALLBACK_REGION]
