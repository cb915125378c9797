"""Hourly usage cells and the per-boundary series built from them.

A usage cell is one hour of one combination of keys (team, feature, environment, model, inference
profile, principal) with request, error and token counts and the estimated cost per token class. The
cells come from SQL over the invocation logs, or from the benchmark generator. A boundary series is the
sum of the cells with one value of one dimension, per hour, as a row of a numpy matrix. Building the
matrices is vectorised (``np.add.at`` over the cell rows), so no Python loop runs per request or cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..money import MONEY_TYPE
from ..tables import UTC_TIMESTAMP

HOUR = np.timedelta64(1, "h")
NONE_VALUE = "(none)"
ALL_VALUE = "all"
SEPARATOR = " | "

# Dimension name -> cell columns. ``feature_environment_model`` combines three keys, so that one feature's
# use of one model in one environment (a load test in dev on a frontier model) has its own series.
# ``organisation`` is the total.
DIMENSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "organisation": (),
    "team": ("team",),
    "feature": ("feature",),
    "environment": ("environment",),
    "model": ("model",),
    "inference_profile": ("inference_profile_id",),
    "principal": ("principal",),
    "feature_environment_model": ("feature", "environment", "model"),
}
DIMENSIONS = tuple(DIMENSION_COLUMNS)

COUNT_METRICS = ("requests", "errors", "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
COST_METRICS = ("input_cost", "cache_read_cost", "cache_write_cost", "output_cost", "cost")
METRICS = (*COUNT_METRICS, *COST_METRICS)

CELL_SCHEMA = pa.schema(
    [
        ("hour", UTC_TIMESTAMP),
        ("team", pa.string()),
        ("feature", pa.string()),
        ("environment", pa.string()),
        ("model", pa.string()),
        ("inference_profile_id", pa.string()),
        ("principal", pa.string()),
        *[(name, pa.int64()) for name in COUNT_METRICS],
        *[(name, MONEY_TYPE) for name in COST_METRICS],
    ]
)


def to_hour64(value: dt.datetime) -> np.datetime64:
    """Convert an aware or naive-UTC datetime to a numpy hour."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(value, "h")


def hour_to_datetime(hour: np.datetime64) -> dt.datetime:
    """Convert a numpy hour to an aware UTC datetime."""
    seconds = int(hour.astype("datetime64[s]").astype(np.int64))
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def key_values(cells: pa.Table, dimension: str) -> np.ndarray:
    """Return each cell's value of a dimension as an object array, with NULL keys as ``(none)``."""
    columns = DIMENSION_COLUMNS[dimension]
    if not columns:
        return np.full(cells.num_rows, ALL_VALUE, dtype=object)
    parts = [np.asarray(pc.fill_null(cells.column(name), NONE_VALUE).to_pylist(), dtype=object) for name in columns]
    if len(parts) == 1:
        return parts[0]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + SEPARATOR + part
    return combined


@dataclass
class SeriesSet:
    """Hourly series of every boundary: ``metrics[name][series, hour]`` over ``hours``."""

    hours: np.ndarray
    keys: list[tuple[str, str]]
    metrics: dict[str, np.ndarray]
    # The cells inside the hours, their hour index, their metrics and, per dimension, the row of the
    # cell's series in ``keys``.
    cells: pa.Table
    cell_hour: np.ndarray
    cell_metrics: dict[str, np.ndarray]
    cell_series: dict[str, np.ndarray]

    def index(self, dimension: str, value: str) -> int:
        """Return the row of one boundary's series, or raise KeyError."""
        return self._positions()[(dimension, value)]

    def _positions(self) -> dict[tuple[str, str], int]:
        cached: dict[tuple[str, str], int] | None = getattr(self, "_cache", None)
        if cached is None:
            cached = {key: row for row, key in enumerate(self.keys)}
            self._cache = cached
        return cached


def cell_metric_arrays(cells: pa.Table) -> dict[str, np.ndarray]:
    """Return each metric column of the cells as float64 (money as float, for the statistics only)."""
    arrays = {}
    for name in METRICS:
        column = cells.column(name)
        arrays[name] = np.asarray(pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(zero_copy_only=False))
    return arrays


def build_series(cells: pa.Table, start: np.datetime64, end: np.datetime64, step: np.timedelta64 = HOUR) -> SeriesSet:
    """Sum the cells into one series per boundary with one value per ``step`` (an hour or a day) in [start, end)."""
    hours = np.arange(start, end, step)
    hour_of_cell = cells.column("hour").to_numpy(zero_copy_only=False).astype("datetime64[h]")
    index = ((hour_of_cell - start) // step).astype(np.int64)
    inside = (index >= 0) & (index < len(hours))
    cells = cells.filter(pa.array(inside))
    metric_values = cell_metric_arrays(cells)
    index = index[inside]

    keys: list[tuple[str, str]] = []
    cell_series: dict[str, np.ndarray] = {}
    blocks: dict[str, list[np.ndarray]] = {name: [] for name in METRICS}
    for dimension in DIMENSIONS:
        values = key_values(cells, dimension)
        unique, codes = np.unique(values.astype(str), return_inverse=True)
        offset = len(keys)
        keys.extend((dimension, str(value)) for value in unique)
        cell_series[dimension] = codes + offset
        for name in METRICS:
            matrix = np.zeros((len(unique), len(hours)))
            np.add.at(matrix, (codes, index), metric_values[name])
            blocks[name].append(matrix)

    metrics = {name: np.vstack(parts) if parts else np.zeros((0, len(hours))) for name, parts in blocks.items()}
    return SeriesSet(
        hours=hours,
        keys=keys,
        metrics=metrics,
        cells=cells,
        cell_hour=index,
        cell_metrics=metric_values,
        cell_series=cell_series,
    )
