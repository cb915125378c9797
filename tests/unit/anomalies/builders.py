"""Build invocation logs and bill lines in a local lake from hourly request counts, without per-request loops."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa

from genai_finops.lake.local import LocalLake
from genai_finops.tables import COST_LINES, INVOCATIONS

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
START = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
# Daytime shape of the synthetic streams: share of the peak request rate per UTC hour.
SHAPE = np.array([0.2] * 7 + [0.6, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.6] + [0.3] * 5)


@dataclass
class Stream:
    """Requests of one feature, environment, model and principal with fixed tokens per request."""

    team: str | None
    feature: str | None
    environment: str
    model: str
    principal: str
    input_tokens: int = 2000
    output_tokens: int = 400
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    error: bool = False

    @property
    def profile(self) -> str | None:
        return (
            None
            if self.feature is None
            else f"arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/{self.feature}"
        )


def normal_counts(hours: int, peak: float, seed: int = 0) -> np.ndarray:
    """Return Poisson request counts per hour following the daytime shape, weekends at half."""
    rng = np.random.default_rng(seed)
    index = np.arange(hours)
    weekday = ((START.weekday() * 24 + index) // 24) % 7
    rate = peak * SHAPE[index % 24] * np.where(weekday >= 5, 0.5, 1.0)
    return rng.poisson(rate)


class InvocationWriter:
    """Collects request rows per stream as whole arrays and writes them as invocation partitions."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []
        self.count = 0

    def add(self, stream: Stream, counts: np.ndarray, first_hour: int = 0) -> None:
        """Add ``counts[i]`` requests in hour ``first_hour + i`` from START, spread over the hour."""
        counts = np.asarray(counts, dtype=np.int64)
        total = int(counts.sum())
        if total == 0:
            return
        hour_index = np.repeat(np.arange(first_hour, first_hour + counts.size), counts)
        offset_seconds = (np.arange(total) * 7) % 3600
        base = np.datetime64(START.replace(tzinfo=None), "us")
        timestamps = base + hour_index.astype("timedelta64[h]") + offset_seconds.astype("timedelta64[s]")
        ids = np.char.add(f"req-{len(self.parts)}-", np.arange(total).astype(str))

        def repeat(value: object, kind: pa.DataType) -> pa.Array:
            return pa.array([value] * total, kind)

        columns = {
            "request_id": pa.array(ids.tolist(), pa.string()),
            "timestamp": pa.array(timestamps).cast(pa.timestamp("us", tz="UTC")),
            "account_id": repeat("111122223333", pa.string()),
            "region": repeat("us-east-1", pa.string()),
            "inference_region": repeat("us-east-1", pa.string()),
            "operation": repeat("Converse", pa.string()),
            "model_id": repeat(stream.profile or stream.model, pa.string()),
            "model": repeat(stream.model, pa.string()),
            "inference_profile_id": repeat(stream.profile, pa.string()),
            "route": repeat("in_region", pa.string()),
            "principal": repeat(stream.principal, pa.string()),
            "iam_role": repeat(None, pa.string()),
            "input_tokens": repeat(0 if stream.error else stream.input_tokens, pa.int64()),
            "cache_read_tokens": repeat(0 if stream.error else stream.cache_read_tokens, pa.int64()),
            "cache_write_tokens": repeat(0 if stream.error else stream.cache_write_tokens, pa.int64()),
            "cache_write_1h_tokens": repeat(0, pa.int64()),
            "output_tokens": repeat(0 if stream.error else stream.output_tokens, pa.int64()),
            "status": repeat("error" if stream.error else "success", pa.string()),
            "error_code": repeat("ThrottlingException" if stream.error else None, pa.string()),
            "guardrail_blocked": repeat(False, pa.bool_()),
            "request_metadata": pa.array([[]] * total, INVOCATIONS.schema.field("request_metadata").type),
            "team": repeat(stream.team, pa.string()),
            "feature": repeat(stream.feature, pa.string()),
            "environment": repeat(stream.environment, pa.string()),
            "tenant": repeat(None, pa.string()),
            "user_key": repeat(None, pa.string()),
            "key_sources": pa.array([[]] * total, INVOCATIONS.schema.field("key_sources").type),
            "source_object": repeat("synthetic", pa.string()),
            "source_line": pa.array(np.arange(total), pa.int64()),
        }
        table = pa.table(columns).cast(INVOCATIONS.schema)
        self.parts.append(table)
        self.count += total

    def write(self, lake: LocalLake) -> None:
        """Write every collected request, one partition per UTC day."""
        table = pa.concat_tables(self.parts)
        days = np.asarray(table.column("timestamp").to_numpy(zero_copy_only=False)).astype("datetime64[D]")
        for day in np.unique(days):
            mask = days == day
            lake.write_partition("invocations", {"date": str(day)}, table.filter(pa.array(mask)))


def write_daily_bill(lake: LocalLake, daily_cost: dict[dt.date, Decimal], team: str, feature: str) -> None:
    """Write one cost line per day for a team and feature into cost_lines (one export per period)."""
    by_period: dict[str, list[dict[str, object]]] = {}
    for day, cost in sorted(daily_cost.items()):
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        row = {name: None for name in COST_LINES.schema.names}
        row.update(
            {
                "usage_start": start,
                "usage_end": start + dt.timedelta(days=1),
                "line_item_type": "Usage",
                "product_code": "AmazonBedrock",
                "usage_type": "USE1-Claude4.5Sonnet-input-tokens",
                "model": "Claude4.5Sonnet",
                "cost_unblended": cost,
                "cost_net": cost,
                "cost_amortized": cost,
                "currency": "USD",
                "team": team,
                "feature": feature,
                "environment": "prod",
                "tags": [],
                "principal_tags": [],
                "account_tags": [],
            }
        )
        by_period.setdefault(day.strftime("%Y-%m"), []).append(row)
    for period, rows in by_period.items():
        table = pa.Table.from_pylist(rows, COST_LINES.schema)
        lake.write_partition("cost_lines", {"billing_period": period, "export_id": "test"}, table)
