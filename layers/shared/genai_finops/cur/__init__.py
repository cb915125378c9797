"""Billing-export ingestion: legacy CUR, CUR 2.0 and FOCUS into ``cost_lines`` and ``bill_summary``."""

from .discovery import Delivery, discover_deliveries, read_manifest
from .formats import SourceFormat, detect_format
from .ingest import ingest_delivery
from .report import DeliveryReport, PeriodReport, Totals
from .usage_types import UsageTypeInfo, parse_usage_type

__all__ = [
    "Delivery",
    "DeliveryReport",
    "PeriodReport",
    "SourceFormat",
    "Totals",
    "UsageTypeInfo",
    "detect_format",
    "discover_deliveries",
    "ingest_delivery",
    "parse_usage_type",
    "read_manifest",
]
