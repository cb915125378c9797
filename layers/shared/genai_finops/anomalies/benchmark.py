"""A labelled benchmark: a synthetic organisation's hourly usage cells with incidents of known start.

The organisation has teams with features, each feature a stream of requests per environment on one
model, inference profile and IAM role. Request rates follow an hour-of-day shape and a weekday/weekend
pattern, drop on holidays, and a reporting feature runs a batch on the last two days of every month.
Planned changes happen too: launches of new features and lasting step changes of a feature's volume.
These are normal and an alert on one of them is counted apart from the incidents (see evaluation).

Incidents are injected on top, one per kind per slot, at hours drawn from a seeded generator, and
labelled with their kind, start, end and every boundary whose series they change. The output is the
same cell table the hourly SQL produces from invocation logs, so the benchmark runs the real
baselines, detectors and lifecycle. Rates are round figures of the kind Bedrock publishes, not a price
list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..money import MONEY_TYPE
from .series import CELL_SCHEMA, COST_METRICS, COUNT_METRICS, NONE_VALUE, SEPARATOR

# Price per million tokens: input, output, cache read, cache write.
PRICES = {
    "anthropic.claude-opus-4-1-20250805-v1:0": (15.0, 75.0, 1.5, 18.75),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": (3.0, 15.0, 0.3, 3.75),
    "anthropic.claude-haiku-4-5-20251001-v1:0": (1.0, 5.0, 0.1, 1.25),
    "amazon.nova-pro-v1:0": (0.8, 3.2, 0.2, 0.8),
    "amazon.nova-lite-v1:0": (0.06, 0.24, 0.015, 0.06),
}
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OPUS = "anthropic.claude-opus-4-1-20250805-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
ACCOUNT = "111122223333"

# Share of the peak rate per UTC hour of the day: quiet nights, a working-day plateau.
HOUR_SHAPE = np.array(
    [
        0.15,
        0.12,
        0.1,
        0.1,
        0.12,
        0.18,
        0.3,
        0.5,
        0.75,
        0.9,
        1.0,
        1.0,
        0.95,
        1.0,
        1.0,
        0.95,
        0.9,
        0.8,
        0.65,
        0.5,
        0.4,
        0.3,
        0.22,
        0.18,
    ]
)
WEEKEND_FACTOR = 0.45
HOLIDAY_FACTOR = 0.3
MONTH_END_FACTOR = 4.0
TOKEN_NOISE = 0.05


@dataclass(frozen=True)
class Feature:
    """One feature's production stream and its smaller non-production streams."""

    name: str
    team: str
    model: str
    peak_requests: float
    input_tokens: float
    output_tokens: float
    cache_read_tokens: float = 0.0
    cache_write_tokens: float = 0.0
    error_share: float = 0.01
    nonprod_share: float = 0.04
    month_end_batch: bool = False

    @property
    def profile(self) -> str:
        return f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/{self.name}"

    @property
    def principal(self) -> str:
        return f"{self.team}-service"


@dataclass(frozen=True)
class PlannedChange:
    """A normal change: a launch (the feature starts) or a lasting step of a feature's volume."""

    kind: str
    feature: str
    hour: int
    factor: float = 1.0


@dataclass
class Incident:
    """An injected incident: its kind, hours [start, end) and the boundaries whose series it changes."""

    kind: str
    start: int
    end: int
    feature: str
    description: str
    boundaries: set[str] = field(default_factory=set)
    # Size relative to the standard incident of its kind (1.0): the extra traffic, the token factor above
    # 1 or the share of traffic affected scale with it.
    severity: float = 1.0


@dataclass
class Benchmark:
    """The generated cells, the first hour of evaluation, and the labels."""

    cells: pa.Table
    start: np.datetime64
    end: np.datetime64
    evaluation_start: np.datetime64
    incidents: list[Incident]
    changes: list[PlannedChange]
    holidays: list[dt.date]
    features: dict[str, Feature]


def _organisation(size: str) -> list[Feature]:
    features = [
        Feature("support-chat", "support", SONNET, 900, 2500, 450, 6000, 300),
        Feature("ticket-summary", "support", HAIKU, 1200, 3000, 250),
        Feature("rag-answer", "search", SONNET, 700, 4000, 500, 8000, 500),
        Feature("rerank", "search", NOVA_LITE, 6000, 1500, 30, error_share=0.005),
        Feature("email-writer", "growth", HAIKU, 800, 1200, 600),
        Feature("monthly-reports", "finance", NOVA_PRO, 150, 6000, 1500, month_end_batch=True),
    ]
    if size == "large":
        features += [
            Feature("code-review", "platform", SONNET, 500, 6000, 900, 10000, 800),
            Feature("classify", "data", NOVA_LITE, 9000, 800, 10, error_share=0.005),
            Feature("contract-qa", "legal", OPUS, 60, 5000, 700, 4000, 400),
            Feature("translate", "growth", NOVA_PRO, 1000, 900, 900),
        ]
    return features


def _launches(size: str) -> list[Feature]:
    launches = [Feature("meeting-notes", "support", HAIKU, 500, 2000, 400)]
    if size == "large":
        launches.append(Feature("sql-assistant", "data", SONNET, 200, 3000, 500, 5000, 300))
    return launches


def _cost_per_request(feature: Feature, model: str | None = None, output_scale: float = 1.0) -> float:
    input_price, output_price, read_price, write_price = PRICES[model or feature.model]
    return (
        feature.input_tokens * input_price
        + feature.output_tokens * output_scale * output_price
        + feature.cache_read_tokens * read_price
        + feature.cache_write_tokens * write_price
    ) / 1e6


# Incidents are sized to cost at least this much per hour, so that each is visible above the default
# minimum impact within its first hours. The configuration does not alert on smaller incidents.
MIN_INCIDENT_COST_PER_HOUR = 6.0


def _peak_impact(feature: Feature, kind: str) -> float:
    """Estimate the extra cost per hour at the feature's peak that a modifying incident causes."""
    normal = _cost_per_request(feature)
    if kind == "token_ratio":
        return feature.peak_requests * (_cost_per_request(feature, output_scale=6.0) - normal)
    if kind == "model_drift":
        return feature.peak_requests * (_cost_per_request(feature, SONNET) - normal)
    _, _, read_price, write_price = PRICES[feature.model]
    whole_prompt = feature.cache_read_tokens + feature.cache_write_tokens
    cache_now = (feature.cache_read_tokens * read_price + feature.cache_write_tokens * write_price) / 1e6
    return feature.peak_requests * (whole_prompt * write_price / 1e6 - cache_now)


def _hour_factor(hours: np.ndarray, holidays: list[dt.date]) -> np.ndarray:
    hour_of_day = (hours - hours.astype("datetime64[D]")).astype(np.int64)
    weekday = (hours.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday
    factor = HOUR_SHAPE[hour_of_day] * np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
    holiday_days = np.array([np.datetime64(day, "D") for day in holidays], dtype="datetime64[D]")
    result: np.ndarray = factor * np.where(np.isin(hours.astype("datetime64[D]"), holiday_days), HOLIDAY_FACTOR, 1.0)
    return result


def _month_end(hours: np.ndarray) -> np.ndarray:
    days = hours.astype("datetime64[D]")
    next_month = (hours.astype("datetime64[M]") + 1).astype("datetime64[D]")
    result: np.ndarray = (next_month - days).astype(np.int64) <= 2
    return result


class _Cells:
    """Column lists that grow by whole arrays (one stream or incident at a time)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[np.ndarray]] = {name: [] for name in CELL_SCHEMA.names}

    def add(
        self,
        hours: np.ndarray,
        keys: dict[str, str | None],
        requests: np.ndarray,
        errors: np.ndarray,
        tokens: dict[str, np.ndarray],
        model: str,
    ) -> None:
        keep = requests > 0
        count = int(keep.sum())
        self.columns["hour"].append(hours[keep])
        for name in ("team", "feature", "environment", "inference_profile_id", "principal"):
            self.columns[name].append(np.full(count, keys.get(name), dtype=object))
        self.columns["model"].append(np.full(count, model, dtype=object))
        self.columns["requests"].append(requests[keep])
        self.columns["errors"].append(errors[keep])
        input_price, output_price, read_price, write_price = PRICES[model]
        prices = {"input": input_price, "output": output_price, "cache_read": read_price, "cache_write": write_price}
        total = np.zeros(count)
        for token_class, price in prices.items():
            values = np.round(tokens[token_class][keep]).astype(np.int64)
            self.columns[f"{token_class}_tokens"].append(values)
            cost = np.round(values * price / 1e6, 10)
            self.columns[f"{token_class}_cost"].append(cost)
            total = total + cost
        self.columns["cost"].append(total)

    def table(self) -> pa.Table:
        arrays = []
        for schema_field in CELL_SCHEMA:
            parts = self.columns[schema_field.name]
            values: np.ndarray = np.concatenate(parts) if parts else np.array([])
            if schema_field.name == "hour":
                arrays.append(pa.array(np.asarray(values, dtype="datetime64[us]")).cast(schema_field.type))
            elif schema_field.name in COST_METRICS:
                arrays.append(pa.array(np.asarray(values, dtype=float)).cast(MONEY_TYPE))
            elif schema_field.name in COUNT_METRICS:
                arrays.append(pa.array(np.asarray(values, dtype=np.int64)))
            else:
                arrays.append(pa.array(list(values), pa.string()))
        return pa.Table.from_arrays(arrays, schema=CELL_SCHEMA)


def _stream_tokens(
    rng: np.random.Generator, feature: Feature, requests: np.ndarray, scale: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    scale = scale or {}
    means = {
        "input": feature.input_tokens,
        "output": feature.output_tokens,
        "cache_read": feature.cache_read_tokens,
        "cache_write": feature.cache_write_tokens,
    }
    return {
        token_class: requests * mean * scale.get(token_class, 1.0) * rng.lognormal(0.0, TOKEN_NOISE, requests.size)
        for token_class, mean in means.items()
    }


def _boundaries(feature: Feature, environment: str, model: str, principal: str | None, team: str | None) -> set[str]:
    return {
        "organisation=all",
        f"team={team or NONE_VALUE}",
        f"feature={feature.name}",
        f"environment={environment}",
        f"model={model}",
        f"inference_profile={feature.profile}",
        f"principal={principal or NONE_VALUE}",
        f"feature_environment_model={feature.name}{SEPARATOR}{environment}{SEPARATOR}{model}",
    }


KINDS = (
    "spend",
    "cache_write_without_read",
    "token_ratio",
    "model_drift",
    "new_principal",
    "retry_storm",
    "nonprod_frontier",
)
# Kinds that change the feature's own traffic; the others add traffic on top of it.
MODIFYING_KINDS = ("cache_write_without_read", "token_ratio", "model_drift")


def generate_benchmark(
    seed: int,
    *,
    size: str = "small",
    start: dt.date = dt.date(2026, 8, 3),
    history_days: int = 42,
    evaluation_days: int = 21,
    incidents_per_kind: int = 2,
    incident_severity: float = 1.0,
) -> Benchmark:
    """Generate the labelled benchmark: normal traffic, planned changes and incidents of every kind.

    ``incident_severity`` scales every incident (1.0 is the standard size described on each kind).
    """
    rng = np.random.default_rng(seed)
    first = np.datetime64(start, "h")
    total_hours = (history_days + evaluation_days) * 24
    hours = np.arange(first, first + np.timedelta64(total_hours, "h"), np.timedelta64(1, "h"))
    evaluation_start = first + np.timedelta64(history_days * 24, "h")
    holidays = [start + dt.timedelta(days=17), start + dt.timedelta(days=history_days + 10)]
    factor = _hour_factor(hours, holidays)
    month_end = _month_end(hours)
    features = _organisation(size)
    launches = _launches(size)
    changes: list[PlannedChange] = []
    eval_offset = history_days * 24
    for index, feature in enumerate(launches):
        changes.append(PlannedChange("launch", feature.name, eval_offset + 24 * (3 + 6 * index) + 9))
    step_features = [features[1], features[4]] if size == "small" else [features[1], features[4], features[7]]
    for index, feature in enumerate(step_features):
        step_factor = 1.8 if index % 2 == 0 else 0.6
        changes.append(PlannedChange("step", feature.name, eval_offset + 24 * (5 + 5 * index) + 10, step_factor))

    incidents = _plan_incidents(rng, features, eval_offset, total_hours, incidents_per_kind)
    for incident in incidents:
        incident.severity = incident_severity
    cells = _Cells()
    level = {feature.name: np.ones(total_hours) for feature in [*features, *launches]}
    for change in changes:
        if change.kind == "launch":
            level[change.feature][: change.hour] = 0.0
        else:
            level[change.feature][change.hour :] *= change.factor
    for feature in [*features, *launches]:
        rate = feature.peak_requests * factor * level[feature.name]
        if feature.month_end_batch:
            rate = rate * np.where(month_end, MONTH_END_FACTOR, 1.0)
        for environment, share in (("prod", 1.0), ("dev", feature.nonprod_share), ("staging", feature.nonprod_share)):
            requests = rng.poisson(rate * share)
            errors = rng.binomial(requests, feature.error_share)
            keys: dict[str, str | None] = {
                "team": feature.team,
                "feature": feature.name,
                "environment": environment,
                "inference_profile_id": feature.profile,
                "principal": feature.principal,
            }
            scale: dict[str, np.ndarray] = {}
            drift_share = np.zeros(total_hours)
            if environment == "prod":
                scale, drift_share = _modifications(feature, incidents, total_hours)
            drifted = rng.binomial(requests, drift_share)
            staying = requests - drifted
            staying_errors = np.minimum(errors, staying)
            tokens = _stream_tokens(rng, feature, staying - staying_errors, scale)
            cells.add(hours, keys, staying, staying_errors, tokens, feature.model)
            if drifted.any():
                drifted_errors = errors - staying_errors
                drift_tokens = _stream_tokens(rng, feature, drifted - drifted_errors, scale)
                cells.add(hours, keys, drifted, drifted_errors, drift_tokens, SONNET)

    for incident in incidents:
        if incident.kind not in MODIFYING_KINDS:
            _add_traffic(rng, cells, hours, incident, {f.name: f for f in features})
    return Benchmark(
        cells=cells.table(),
        start=hours[0],
        end=hours[-1] + np.timedelta64(1, "h"),
        evaluation_start=evaluation_start,
        incidents=incidents,
        changes=changes,
        holidays=holidays,
        features={feature.name: feature for feature in [*features, *launches]},
    )


def _slots(rng: np.random.Generator, first: int, last: int, count: int, spacing: int) -> list[int]:
    """Draw ``count`` start hours in [first, last) at least ``spacing`` hours apart."""
    grid = np.arange(first, last - spacing, spacing)
    chosen = rng.choice(grid, size=min(count, grid.size), replace=False)
    jitter = rng.integers(0, spacing // 2, size=chosen.size)
    return [int(value) for value in chosen + jitter]


def _plan_incidents(
    rng: np.random.Generator, features: list[Feature], eval_offset: int, total: int, per_kind: int
) -> list[Incident]:
    starts = _slots(rng, eval_offset + 6, total - 12, per_kind * len(KINDS), 14)
    pools = {
        "cache_write_without_read": [f for f in features if f.cache_write_tokens > 0],
        "nonprod_frontier": [f for f in features if f.model in (SONNET, OPUS)],
        "model_drift": [f for f in features if f.model in (HAIKU, NOVA_LITE, NOVA_PRO)],
        "token_ratio": features,
    }
    for kind in MODIFYING_KINDS:
        pools[kind] = [f for f in pools[kind] if _peak_impact(f, kind) >= 2 * MIN_INCIDENT_COST_PER_HOUR]
    incidents: list[Incident] = []
    for number, start in enumerate(starts):
        kind = KINDS[number % len(KINDS)]
        if kind in MODIFYING_KINDS:
            # Changes to a feature's own traffic are deployments, which happen in working hours.
            day_start = start - start % 24
            start = day_start + int(rng.integers(8, 15))
        end = min(start + int(rng.integers(4, 9)), total)
        # Incidents on the same feature are kept a day apart, so that each has its own label.
        busy = {i.feature for i in incidents if abs(i.start - start) < 24}
        pool = [f for f in pools.get(kind, features) if f.name not in busy] or pools.get(kind, features)
        feature = pool[int(rng.integers(0, len(pool)))]
        environment, model = "prod", feature.model
        principal: str | None = feature.principal
        team: str | None = feature.team
        descriptions = {
            "spend": "runaway loop at twice the peak request rate",
            "retry_storm": "retries at three times the peak rate, 45% of them failing",
            "cache_write_without_read": "the whole prompt written to the cache on every request, never read",
            "token_ratio": "six times the output tokens per request",
            "model_drift": f"traffic sent to {SONNET} instead of {feature.model}",
            "new_principal": f"an unknown IAM user calling {SONNET} without tags",
            "nonprod_frontier": "dev load test on a frontier model",
        }
        if kind == "model_drift":
            model = SONNET
        elif kind == "new_principal":
            principal, team = f"arn:aws:iam::{ACCOUNT}:user/unknown-script-{number}", None
            model = SONNET
        elif kind == "nonprod_frontier":
            environment = "dev"
            model = OPUS if feature.model == OPUS else SONNET
        boundaries = _boundaries(feature, environment, model, principal, team)
        if kind == "new_principal":
            own = f"feature_environment_model={feature.name}{SEPARATOR}{environment}{SEPARATOR}{model}"
            boundaries -= {f"feature={feature.name}", f"inference_profile={feature.profile}", own}
            boundaries |= {f"feature={NONE_VALUE}", f"inference_profile={NONE_VALUE}"}
            boundaries.add(f"feature_environment_model={NONE_VALUE}{SEPARATOR}{environment}{SEPARATOR}{model}")
        incidents.append(Incident(kind, start, end, feature.name, descriptions[kind], boundaries))
    return incidents


def _modifications(feature: Feature, incidents: list[Incident], total: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Return the per-hour token scales and the share of requests sent to another model for one feature's
    production stream."""
    scale = {name: np.ones(total) for name in ("input", "output", "cache_read", "cache_write")}
    drifted = np.zeros(total)
    for incident in incidents:
        if incident.feature != feature.name or incident.kind not in MODIFYING_KINDS:
            continue
        span = slice(incident.start, incident.end)
        severity = incident.severity
        if incident.kind == "token_ratio":
            scale["output"][span] = 1.0 + 5.0 * severity
        elif incident.kind == "model_drift":
            drifted[span] = min(severity, 1.0)
        else:
            # A share of the requests (all at severity 1) write the whole prompt and read nothing.
            share = min(severity, 1.0)
            whole_prompt = feature.cache_read_tokens + feature.cache_write_tokens
            scale["cache_write"][span] = 1.0 + share * (whole_prompt / feature.cache_write_tokens - 1.0)
            scale["cache_read"][span] = 1.0 - share
    return scale, drifted


def _add_traffic(
    rng: np.random.Generator, cells: _Cells, hours: np.ndarray, incident: Incident, features: dict[str, Feature]
) -> None:
    feature = features[incident.feature]
    span_hours = hours[incident.start : incident.end]
    size = span_hours.size
    keys: dict[str, str | None] = {
        "team": feature.team,
        "feature": feature.name,
        "environment": "prod",
        "inference_profile_id": feature.profile,
        "principal": feature.principal,
    }
    model = feature.model
    zero = np.zeros(size, dtype=np.int64)
    # At least twice the peak rate, and at least the minimum incident cost per hour.
    peak = max(feature.peak_requests, MIN_INCIDENT_COST_PER_HOUR / 2 / _cost_per_request(feature)) * incident.severity
    if incident.kind == "spend":
        requests = rng.poisson(np.full(size, 2.0 * peak))
        cells.add(span_hours, keys, requests, zero, _stream_tokens(rng, feature, requests), model)
    elif incident.kind == "retry_storm":
        requests = rng.poisson(np.full(size, 3.0 * peak))
        errors = rng.binomial(requests, 0.45)
        tokens = _stream_tokens(rng, feature, requests - errors)
        cells.add(span_hours, keys, requests, errors, tokens, model)
    elif incident.kind == "new_principal":
        principal = next(b for b in incident.boundaries if b.startswith("principal=")).split("=", 1)[1]
        keys = {**keys, "principal": principal, "team": None, "feature": None, "inference_profile_id": None}
        model = SONNET
        rate = MIN_INCIDENT_COST_PER_HOUR * incident.severity / _cost_per_request(feature, SONNET)
        requests = rng.poisson(np.full(size, rate))
        cells.add(span_hours, keys, requests, zero, _stream_tokens(rng, feature, requests), model)
    else:
        model = OPUS if feature.model == OPUS else SONNET
        keys = {**keys, "environment": "dev"}
        requests = rng.poisson(np.full(size, 1.5 * peak))
        cells.add(span_hours, keys, requests, zero, _stream_tokens(rng, feature, requests), model)
