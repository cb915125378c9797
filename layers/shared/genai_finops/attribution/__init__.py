"""Invoice-true attribution: the bill allocated to requests, the remainder with reasons, unit costs."""

from .periods import BillingPeriod
from .run import AttributionResult, attribute_period, periods_with_data, reconcile

__all__ = ["AttributionResult", "BillingPeriod", "attribute_period", "periods_with_data", "reconcile"]
