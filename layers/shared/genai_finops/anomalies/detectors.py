"""The detectors: for each kind, which boundary-hours are anomalous, their cost excess and its baseline.

Every detector works on whole matrices (series x hours) at once and returns a ``Signal``. Its ``flag``
marks hours that may open an anomaly of its kind. Its ``above`` marks hours still away from the baseline,
and an open anomaly closes after enough hours without it. Its ``expected`` is the baseline cost that the
anomaly's impact is measured against. The thresholds are the same for every boundary: the configured
z-score on each series' own noise scale, the minimum relative change, and the minimum dollar impact
that the lifecycle applies when it opens an anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Anomalies
from .baseline import Baseline, compute_baseline
from .series import METRICS, NONE_VALUE, SEPARATOR, SeriesSet

KINDS = (
    "spend",
    "cache_write_without_read",
    "token_ratio",
    "model_drift",
    "new_principal",
    "retry_storm",
    "nonprod_frontier",
)
# Dimensions each kind watches. The spend detector leaves out feature_environment_model, which exists only
# so that non-production use of a frontier model has its own series.
KIND_DIMENSIONS = {
    "spend": ("organisation", "team", "feature", "environment", "model", "inference_profile", "principal"),
    "cache_write_without_read": ("team", "feature", "inference_profile", "principal"),
    "token_ratio": ("team", "feature", "inference_profile", "principal"),
    "model_drift": ("feature", "inference_profile"),
    "new_principal": ("principal",),
    "retry_storm": ("team", "feature", "inference_profile", "principal"),
    "nonprod_frontier": ("feature_environment_model",),
}
# Requests an hour needs before its tokens per request are compared with the baseline.
MIN_REQUESTS_FOR_RATIOS = 10
# Hours a new principal's spend counts as new before the ordinary spend baseline takes over.
NEW_PRINCIPAL_HOURS = 24
TOKEN_CLASSES = ("input", "cache_read", "cache_write", "output")


@dataclass
class Signal:
    """One detector's output over all series and hours."""

    kind: str
    flag: np.ndarray
    above: np.ndarray
    expected: np.ndarray
    z: np.ndarray
    # Observed minus expected cost (expected NaN counts as 0).
    excess: np.ndarray


@dataclass
class Baselines:
    """The baseline of every metric, plus the cost baseline that treats new series as starting at zero."""

    metrics: dict[str, Baseline]
    cost_from_zero: Baseline


def compute_baselines(series: SeriesSet, excluded_hours: np.ndarray) -> Baselines:
    """Compute the baselines the detectors need, for every series at every hour."""
    metrics = {name: compute_baseline(series.metrics[name], series.hours, excluded_hours) for name in METRICS}
    cost_from_zero = compute_baseline(
        series.metrics["cost"], series.hours, excluded_hours, new_series_start_at_zero=True
    )
    return Baselines(metrics=metrics, cost_from_zero=cost_from_zero)


def dimension_mask(series: SeriesSet, dimensions: tuple[str, ...]) -> np.ndarray:
    """Return a boolean per series: True when its dimension is one of ``dimensions``."""
    return np.array([dimension in dimensions for dimension, _ in series.keys], dtype=bool)


def frontier_nonprod_mask(series: SeriesSet, config: Anomalies) -> np.ndarray:
    """Return True for feature_environment_model series of a non-production environment and a frontier model."""
    production = {value.lower() for value in config.production_environments}
    mask = np.zeros(len(series.keys), dtype=bool)
    for row, (dimension, value) in enumerate(series.keys):
        if dimension != "feature_environment_model":
            continue
        _, environment, model = value.split(SEPARATOR, 2)
        if environment == NONE_VALUE or environment.lower() in production:
            continue
        bare = model.split(".", 1)[1] if model.startswith(("us.", "eu.", "apac.", "global.")) else model
        mask[row] = any(bare.startswith(prefix) for prefix in config.frontier_models)
    return mask


def _z(values: np.ndarray, baseline: Baseline) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - baseline.expected) / baseline.sigma
    z = np.where(baseline.sigma > 0, z, np.where(values > baseline.expected, np.inf, 0.0))
    return np.where(np.isnan(baseline.expected), np.nan, z)


def _rise(values: np.ndarray, baseline: Baseline, z_threshold: float, relative: float) -> np.ndarray:
    z = _z(values, baseline)
    with np.errstate(invalid="ignore"):
        return (z > z_threshold) & (values > baseline.expected * (1 + relative)) & (values > 0)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def detect(series: SeriesSet, baselines: Baselines, config: Anomalies) -> dict[str, Signal]:
    """Run every detector and return its signal per kind."""
    z_threshold = float(config.z_threshold)
    relative = float(config.min_relative_change)
    m = series.metrics
    # A token class a series never used has no baseline of its own; its usual value is zero.
    b = {
        name: baseline
        if name in ("cost", "requests")
        else Baseline(expected=np.nan_to_num(baseline.expected), sigma=np.nan_to_num(baseline.sigma))
        for name, baseline in baselines.metrics.items()
    }
    cost = m["cost"]
    cost_base = b["cost"]
    cost_z = _z(cost, cost_base)
    with np.errstate(invalid="ignore"):
        cost_up = (cost > cost_base.expected * (1 + relative)) & (cost > cost_base.expected)
        cost_above = cost_up & (cost_z > 2.0)
    cost_rise = cost_up & (cost_z > z_threshold)
    signals: dict[str, Signal] = {}

    def add(kind: str, flag: np.ndarray, above: np.ndarray, expected: np.ndarray, z: np.ndarray) -> None:
        rows = dimension_mask(series, KIND_DIMENSIONS[kind])[:, None]
        known = ~np.isnan(expected)
        signals[kind] = Signal(
            kind=kind,
            flag=flag & rows & known,
            above=above & rows & known,
            expected=expected,
            z=z,
            excess=cost - np.nan_to_num(expected),
        )

    add("spend", cost_rise, cost_above, cost_base.expected, cost_z)

    # Retry storm: more requests and more failed requests at once, and the cost up.
    requests_rise = _rise(m["requests"], b["requests"], z_threshold, relative)
    errors_rise = _rise(m["errors"], b["errors"], z_threshold, relative)
    error_share = _ratio(m["errors"], m["requests"])
    usual_share = _ratio(b["errors"].expected, b["requests"].expected)
    with np.errstate(invalid="ignore"):
        share_up = error_share > np.fmax(2 * np.nan_to_num(usual_share), 0.05)
        storm = requests_rise & errors_rise & share_up & (cost > cost_base.expected)
    add("retry_storm", storm, storm | (requests_rise & errors_rise), cost_base.expected, cost_z)

    # Token ratio: tokens per request, or output per input token, up by the relative change with the request
    # count not up by as much, and the cost up.
    input_side = m["input_tokens"] + m["cache_read_tokens"] + m["cache_write_tokens"]
    expected_input_side = (
        b["input_tokens"].expected + b["cache_read_tokens"].expected + b["cache_write_tokens"].expected
    )
    per_request = _ratio(input_side + m["output_tokens"], m["requests"])
    usual_per_request = _ratio(expected_input_side + b["output_tokens"].expected, b["requests"].expected)
    output_ratio = _ratio(m["output_tokens"], input_side)
    usual_output_ratio = _ratio(b["output_tokens"].expected, expected_input_side)
    with np.errstate(invalid="ignore"):
        ratio_jump = (per_request > usual_per_request * (1 + relative)) | (
            output_ratio > usual_output_ratio * (1 + relative)
        )
        enough = m["requests"] >= MIN_REQUESTS_FOR_RATIOS
        volume_steady = m["requests"] <= b["requests"].expected * (1 + relative)
        token_flag = ratio_jump & enough & volume_steady & cost_up & (cost_z > z_threshold / 2)
    add("token_ratio", token_flag, ratio_jump & cost_up, cost_base.expected, cost_z)

    # Model or tier drift: the observed tokens cost more than they would at the baseline's prices per class.
    at_usual_prices = np.zeros_like(cost)
    for token_class in TOKEN_CLASSES:
        price = _ratio(b[f"{token_class}_cost"].expected, b[f"{token_class}_tokens"].expected)
        at_usual_prices = at_usual_prices + np.where(
            m[f"{token_class}_tokens"] > 0, m[f"{token_class}_tokens"] * price, 0.0
        )
    rate_ratio = _ratio(cost, at_usual_prices)
    with np.errstate(invalid="ignore"):
        drift = (rate_ratio > 1 + relative) & cost_up
        drift_flag = drift & (cost_z > z_threshold / 2)
    add("model_drift", drift_flag, drift, cost_base.expected, cost_z)

    # Cache writes without matching reads: cache-write tokens and their cost up, reads per write down.
    writes_rise = _rise(m["cache_write_tokens"], b["cache_write_tokens"], z_threshold, relative)
    write_cost_rise = _rise(m["cache_write_cost"], b["cache_write_cost"], z_threshold, relative)
    reads_per_write = _ratio(m["cache_read_tokens"], m["cache_write_tokens"])
    usual_reads_per_write = _ratio(b["cache_read_tokens"].expected, b["cache_write_tokens"].expected)
    with np.errstate(invalid="ignore"):
        unmatched = reads_per_write < np.nan_to_num(usual_reads_per_write, nan=np.inf) / (1 + relative)
        cache_flag = writes_rise & write_cost_rise & unmatched & (cost > cost_base.expected)
    add("cache_write_without_read", cache_flag, cache_flag | (writes_rise & unmatched), cost_base.expected, cost_z)

    # New principal: spend from a principal with none in the lookback window (needs that much history).
    lookback = config.new_principal_days * 24
    zeros = np.zeros((cost.shape[0], 1))
    cumulative = np.hstack([zeros, np.cumsum(cost, axis=1)])
    hours = cost.shape[1]
    t = np.arange(hours)
    before = cumulative[:, t] - cumulative[:, np.clip(t - lookback, 0, hours)]
    first_spend = np.argmax(cost > 0, axis=1)
    since_first = t[None, :] - first_spend[:, None]
    # A principal is new from its first spend after at least ``lookback`` hours of history without any.
    had_none_before = (before[np.arange(cost.shape[0]), first_spend] <= 0) & (first_spend >= lookback)
    young = (since_first >= 0) & (since_first < NEW_PRINCIPAL_HOURS) & had_none_before[:, None] & (cost > 0)
    zero_expected = np.zeros_like(cost)
    add("new_principal", young, young, zero_expected, np.where(cost > 0, np.inf, 0.0))

    # Non-production traffic on a frontier model above its usual level (usually zero).
    from_zero = baselines.cost_from_zero
    frontier_rows = frontier_nonprod_mask(series, config)[:, None]
    frontier_z = _z(cost, from_zero)
    with np.errstate(invalid="ignore"):
        frontier_up = (cost > from_zero.expected * (1 + relative)) & (cost > 0)
    frontier_flag = frontier_up & (frontier_z > z_threshold) & frontier_rows
    add(
        "nonprod_frontier",
        frontier_flag,
        frontier_up & (frontier_z > 2.0) & frontier_rows,
        from_zero.expected,
        frontier_z,
    )
    return signals
