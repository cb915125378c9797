"""Hourly usage cells of small synthetic organisations, and a replay of detection over their last hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from genai_finops.anomalies.detectors import compute_baselines, detect
from genai_finops.anomalies.lifecycle import AnomalyState, Tracker
from genai_finops.anomalies.series import CELL_SCHEMA, COST_METRICS, COUNT_METRICS, build_series
from genai_finops.config import Anomalies
from genai_finops.money import MONEY_TYPE

START = np.datetime64("2026-09-07T00", "h")  # a Monday
DAYS = 22
HOURS = DAYS * 24
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
# Price per million tokens: input, output, cache read, cache write.
PRICES = {SONNET: (3.0, 15.0, 0.3, 3.75), HAIKU: (1.0, 5.0, 0.1, 1.25), NOVA_LITE: (0.06, 0.24, 0.015, 0.06)}
SHAPE = np.array([0.15] * 7 + [0.5, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.6] + [0.3] * 5)


@dataclass(frozen=True)
class Stream:
    """One stream of requests: keys, model, tokens per request and peak requests per hour."""

    team: str | None
    feature: str | None
    environment: str
    model: str
    principal: str
    peak: float
    input_tokens: float = 2000
    output_tokens: float = 400
    cache_read_tokens: float = 0
    cache_write_tokens: float = 0
    error_share: float = 0.01

    @property
    def profile(self) -> str | None:
        return None if self.feature is None else f"profile/{self.feature}"


CHAT = Stream("support", "chat", "prod", SONNET, "role/support", 600, 2500, 450, 6000, 300)
SUMMARY = Stream("support", "summary", "prod", HAIKU, "role/support", 800, 3000, 250)
RERANK = Stream("search", "rerank", "prod", NOVA_LITE, "role/search", 3000, 1500, 30)
CHAT_DEV = replace(CHAT, environment="dev", peak=15)


@dataclass
class Organisation:
    """Cells built stream by stream; ``add`` takes per-hour request counts and token scales."""

    seed: int = 0
    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def rate(self, stream: Stream, weekend_factor: float = 0.5) -> np.ndarray:
        """Return the normal request rate of a stream per hour: daytime shape, weekends lower."""
        index = np.arange(HOURS)
        weekday = (index // 24) % 7
        return stream.peak * SHAPE[index % 24] * np.where(weekday >= 5, weekend_factor, 1.0)

    def add(
        self,
        stream: Stream,
        rate: np.ndarray | None = None,
        *,
        scale: dict[str, np.ndarray] | None = None,
        error_share: np.ndarray | float | None = None,
        tokens_for_errors: bool = False,
    ) -> None:
        """Add a stream's cells for every hour with requests, drawn from Poisson counts around ``rate``."""
        rate = self.rate(stream) if rate is None else rate
        requests = self.rng.poisson(rate)
        share = stream.error_share if error_share is None else error_share
        errors = self.rng.binomial(requests, share)
        paying = requests if tokens_for_errors else requests - errors
        scale = scale or {}
        hours = START + np.arange(HOURS).astype("timedelta64[h]")
        keep = requests > 0
        part: dict[str, np.ndarray] = {
            "hour": hours[keep],
            "team": np.full(keep.sum(), stream.team, dtype=object),
            "feature": np.full(keep.sum(), stream.feature, dtype=object),
            "environment": np.full(keep.sum(), stream.environment, dtype=object),
            "model": np.full(keep.sum(), stream.model, dtype=object),
            "inference_profile_id": np.full(keep.sum(), stream.profile, dtype=object),
            "principal": np.full(keep.sum(), stream.principal, dtype=object),
            "requests": requests[keep],
            "errors": errors[keep],
        }
        prices = dict(zip(("input", "output", "cache_read", "cache_write"), PRICES[stream.model], strict=True))
        means = {
            "input": stream.input_tokens,
            "output": stream.output_tokens,
            "cache_read": stream.cache_read_tokens,
            "cache_write": stream.cache_write_tokens,
        }
        total = np.zeros(keep.sum())
        for token_class, mean in means.items():
            factor = scale.get(token_class, np.ones(HOURS))
            noise = self.rng.lognormal(0.0, 0.05, HOURS)
            tokens = np.round(paying * mean * factor * noise).astype(np.int64)[keep]
            cost = np.round(tokens * prices[token_class] / 1e6, 10)
            part[f"{token_class}_tokens"] = tokens
            part[f"{token_class}_cost"] = cost
            total = total + cost
        part["cost"] = total
        self.parts.append(part)

    def cells(self) -> pa.Table:
        arrays = []
        for schema_field in CELL_SCHEMA:
            values = np.concatenate([part[schema_field.name] for part in self.parts])
            if schema_field.name == "hour":
                arrays.append(pa.array(values.astype("datetime64[us]")).cast(schema_field.type))
            elif schema_field.name in COST_METRICS:
                arrays.append(pa.array(values.astype(float)).cast(MONEY_TYPE))
            elif schema_field.name in COUNT_METRICS:
                arrays.append(pa.array(values.astype(np.int64)))
            else:
                arrays.append(pa.array(list(values), pa.string()))
        return pa.Table.from_arrays(arrays, schema=CELL_SCHEMA)


def hour_of(day: int, hour: int) -> int:
    """Return the index of an hour: day counted from START (0 = Monday), hour of that day."""
    return day * 24 + hour


def window(start: int, length: int) -> np.ndarray:
    """Return a 0/1 mask of ``length`` hours from ``start`` over all hours."""
    mask = np.zeros(HOURS)
    mask[start : start + length] = 1.0
    return mask


def replay(
    organisation: Organisation, first_hour: int, config: Anomalies | None = None, holidays: list[dt.date] | None = None
) -> list[AnomalyState]:
    """Replay detection from ``first_hour`` to the end and return every anomaly opened, with its close."""
    config = config or Anomalies()
    series = build_series(organisation.cells(), START, START + np.timedelta64(HOURS, "h"))
    days = np.array(holidays or [], dtype="datetime64[D]")
    baselines = compute_baselines(series, np.isin(series.hours.astype("datetime64[D]"), days))
    tracker = Tracker(series, detect(series, baselines, config), config)
    opened = []
    for hour in range(first_hour, HOURS):
        opened.extend(tracker.step(hour).opened)
    return opened


def normal_organisation(seed: int = 0) -> Organisation:
    """An organisation with three production features and a small dev stream on a frontier model."""
    organisation = Organisation(seed)
    for stream in (CHAT, SUMMARY, RERANK, CHAT_DEV):
        organisation.add(stream)
    return organisation
