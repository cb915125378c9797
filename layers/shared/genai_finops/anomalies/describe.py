"""Turn an anomaly state into its table row and alert: measurements, decomposition, contributors, owner."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..money import to_money
from .baseline import WEEK_HOURS
from .decomposition import TOKEN_CLASSES, Decomposition, Usage, decompose
from .lifecycle import AnomalyState, Tracker
from .series import DIMENSION_COLUMNS, NONE_VALUE, SeriesSet, hour_to_datetime

CONTRIBUTOR_DIMENSIONS = ("inference_profile", "principal", "model")
TOP_CONTRIBUTORS = 3


def anomaly_id(kind: str, source: str, dimension: str, value: str, opened_at: dt.datetime) -> str:
    """Return the stable id of an anomaly."""
    text = "|".join((kind, source, dimension, value, opened_at.isoformat()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _money(value: float) -> Decimal:
    return to_money(Decimal(repr(float(value))))


def _decimal_sum(column: pa.ChunkedArray) -> Decimal:
    total = pc.sum(column).as_py()
    return to_money(total if total is not None else 0)


class Describer:
    """Measures anomalies of one run on its series, signals and cells."""

    def __init__(self, tracker: Tracker, source: str, step: np.timedelta64, currency: str) -> None:
        self.tracker = tracker
        self.series: SeriesSet = tracker.series
        self.source = source
        self.step = step
        self.currency = currency

    def _time(self, index: int) -> dt.datetime:
        return hour_to_datetime(self.series.hours[0] + self.step * index)

    def _boundary_cells(self, row: int, start: int, end: int) -> np.ndarray:
        dimension = self.series.keys[row][0]
        mask: np.ndarray = (
            (self.series.cell_series[dimension] == row)
            & (self.series.cell_hour >= start)
            & (self.series.cell_hour < end)
        )
        return mask

    def owner_team(self, state: AnomalyState) -> str | None:
        """Return the boundary's team: its value for a team boundary, else the team with most of its cost."""
        if state.dimension == "team":
            return None if state.value == NONE_VALUE else state.value
        row = self.tracker.row(state)
        if row is None:
            return None
        mask = self._boundary_cells(row, max(state.opened, 0), state.window_end)
        cells = self.series.cells.filter(pa.array(mask))
        if cells.num_rows == 0:
            return None
        grouped = cells.group_by("team").aggregate([("cost", "sum")]).sort_by([("cost_sum", "descending")])
        team = grouped.column("team")[0].as_py()
        return str(team) if team is not None else None

    def contributors(self, row: int, start: int, end: int, expected: Decimal, impact: Decimal) -> list[dict[str, Any]]:
        """Return the top contributors to the change below the boundary, per contributor dimension."""
        dimension = self.series.keys[row][0]
        observed_cells = self.series.cells.filter(pa.array(self._boundary_cells(row, start, end)))
        # The reference mix is the boundary's own in the same hours (or days) of the four weeks before.
        week = WEEK_HOURS if self.step == np.timedelta64(1, "h") else 7
        reference_mask = np.zeros(self.series.cells.num_rows, dtype=bool)
        for weeks in range(1, 5):
            shift = week * weeks
            if start - shift >= 0:
                reference_mask |= self._boundary_cells(row, start - shift, end - shift)
        reference_cells = self.series.cells.filter(pa.array(reference_mask))
        result = []
        for other in CONTRIBUTOR_DIMENSIONS:
            if other == dimension:
                continue
            column = DIMENSION_COLUMNS[other][0]
            observed = self._by_value(observed_cells, column)
            reference = self._by_value(reference_cells, column)
            reference_total = sum(reference.values(), Decimal(0))
            values = set(observed) | set(reference)
            rows = []
            for value in values:
                expected_part = (
                    to_money(expected * reference.get(value, Decimal(0)) / reference_total)
                    if reference_total > 0
                    else Decimal(0)
                )
                change = observed.get(value, Decimal(0)) - expected_part
                share = float(change / impact) if impact != 0 else None
                rows.append(
                    {
                        "dimension": other,
                        "value": value,
                        "observed_cost": observed.get(value, to_money(0)),
                        "change": to_money(change),
                        "share": share,
                    }
                )
            rows.sort(key=lambda item: (-Decimal(str(item["change"])), str(item["value"])))
            result.extend(rows[:TOP_CONTRIBUTORS])
        return result

    @staticmethod
    def _by_value(cells: pa.Table, column: str) -> dict[str, Decimal]:
        if cells.num_rows == 0:
            return {}
        grouped = cells.group_by(column).aggregate([("cost", "sum")])
        values = grouped.column(column).to_pylist()
        sums = grouped.column("cost_sum").to_pylist()
        return {(NONE_VALUE if v is None else str(v)): to_money(s or 0) for v, s in zip(values, sums, strict=True)}

    def describe(self, state: AnomalyState, baselines: dict[str, np.ndarray], now: dt.datetime) -> dict[str, Any]:
        """Return the table row of an anomaly, measured over its window."""
        row = self.tracker.row(state)
        opened_at = self._time(state.opened)
        identifier = state.anomaly_id or anomaly_id(state.kind, self.source, state.dimension, state.value, opened_at)
        state.anomaly_id = identifier
        record: dict[str, Any] = {
            "anomaly_id": identifier,
            "kind": state.kind,
            "source": self.source,
            "dimension": state.dimension,
            "boundary_value": state.value,
            "owner_team": self.owner_team(state),
            "state": "closed" if state.closed is not None else "open",
            "opened_at": opened_at,
            "last_anomalous_at": self._time(state.last_anomalous),
            "closed_at": self._time(state.closed) if state.closed is not None else None,
            "detected_at": self._time(state.detected + 1) if state.detected_at is None else state.detected_at,
            "updated_at": now,
            "window_start": opened_at,
            "window_end": self._time(state.window_end),
            "also_visible_on": list(state.also_visible_on),
            "alerts_sent": state.alerts_sent,
            "alerted_impact": _money(state.alerted_impact) if state.alerted_impact is not None else None,
            "billed_status": state.billed_status,
            "billed_impact": state.billed_impact,
            "currency": self.currency,
        }
        if row is None:
            # NOTE: a boundary with no cells in the history window keeps its row without new measurements.
            return record
        self._measure(record, state, row, baselines)
        return record

    def _measure(self, record: dict[str, Any], state: AnomalyState, row: int, baselines: dict[str, np.ndarray]) -> None:
        """Add the window's costs, impact, projection, decomposition, evidence and contributors to a row."""
        signal = self.tracker.signals[state.kind]
        start, end = max(state.opened, 0), state.window_end
        mask = self._boundary_cells(row, start, end)
        observed_cost = _decimal_sum(self.series.cells.filter(pa.array(mask)).column("cost"))
        expected_cost = _money(float(np.nansum(signal.expected[row, start:end])))
        impact = observed_cost - expected_cost

        last_excess = float(signal.excess[row, end - 1]) if end > start else 0.0
        hours_left = 0
        if state.closed is None and self.step == np.timedelta64(1, "h"):
            window_end = self._time(end)
            day_end = dt.datetime.combine(window_end.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
            hours_left = int((day_end - window_end).total_seconds() // 3600)
            if hours_left == 24:
                hours_left = 0
        projected = impact + _money(max(last_excess, 0.0) * hours_left)

        z_values = signal.z[row, start:end]
        finite = z_values[np.isfinite(z_values)]
        record.update(
            {
                "expected_cost": expected_cost,
                "observed_cost": observed_cost,
                "impact": impact,
                "projected_day_impact": projected,
                "relative_change": float(observed_cost / expected_cost - 1) if expected_cost > 0 else None,
                "z_score": float(finite.max()) if finite.size else None,
            }
        )
        if self.source == "hourly_logs":
            observed = self._window_usage(self.series.metrics, row, start, end)
            expected = self._window_usage(baselines, row, start, end)
            parts: Decomposition = decompose(observed_cost, expected_cost, observed, expected)
            record.update(
                {
                    "volume_effect": parts.volume,
                    "input_tokens_effect": parts.input_tokens,
                    "output_tokens_effect": parts.output_tokens,
                    "rate_mix_effect": parts.rate_mix,
                    "expected_requests": expected.requests,
                    "observed_requests": int(observed.requests),
                }
            )
        record["evidence"] = self.evidence(state, row, start, end, baselines)
        record["top_contributors"] = self.contributors(row, start, end, expected_cost, impact)

    @staticmethod
    def _window_usage(metrics: dict[str, np.ndarray], row: int, start: int, end: int) -> Usage:
        requests = float(np.nansum(metrics["requests"][row, start:end]))
        tokens = {c: float(np.nansum(metrics[f"{c}_tokens"][row, start:end])) for c in TOKEN_CLASSES}
        costs = {c: float(np.nansum(metrics[f"{c}_cost"][row, start:end])) for c in TOKEN_CLASSES}
        return Usage(requests=requests, tokens=tokens, class_cost=costs)

    def evidence(self, state: AnomalyState, row: int, start: int, end: int, baselines: dict[str, np.ndarray]) -> str:
        """Describe in words what the detector measured over the window."""
        m = self.series.metrics

        def total(source: dict[str, np.ndarray], name: str) -> float:
            return float(np.nansum(source[name][row, start:end])) if name in source else 0.0

        def ratio(numerator: float, denominator: float) -> str:
            return f"{numerator / denominator:.2f}" if denominator > 0 else "n/a"

        observed_cost, expected_cost = total(m, "cost"), total(baselines, "cost")
        if state.kind == "cache_write_without_read":
            reads_per_write = ratio(total(m, "cache_read_tokens"), total(m, "cache_write_tokens"))
            usual = ratio(total(baselines, "cache_read_tokens"), total(baselines, "cache_write_tokens"))
            return f"cache read tokens per cache write token {reads_per_write}, usually {usual}"
        if state.kind == "token_ratio":
            input_names = ("input_tokens", "cache_read_tokens", "cache_write_tokens")
            observed_input = sum(total(m, name) for name in input_names)
            usual_input = sum(total(baselines, name) for name in input_names)
            per_request = ratio(observed_input + total(m, "output_tokens"), total(m, "requests"))
            usual_per_request = ratio(usual_input + total(baselines, "output_tokens"), total(baselines, "requests"))
            output_ratio = ratio(total(m, "output_tokens"), observed_input)
            usual_output_ratio = ratio(total(baselines, "output_tokens"), usual_input)
            return (
                f"tokens per request {per_request}, usually {usual_per_request}; output per input token "
                f"{output_ratio}, usually {usual_output_ratio}"
            )
        if state.kind == "retry_storm":
            return (
                f"requests {total(m, 'requests'):.0f} against {total(baselines, 'requests'):.0f} expected, failed "
                f"{total(m, 'errors'):.0f} against {total(baselines, 'errors'):.0f} expected"
            )
        if state.kind == "new_principal":
            team = self.owner_team(state)
            return "no spend before in the lookback window; " + (
                f"attributed to team {team}" if team else "not attributed to any team"
            )
        if state.kind == "nonprod_frontier":
            _, environment, model = state.value.split(" | ", 2)
            times = ratio(observed_cost, expected_cost)
            return f"environment {environment} on frontier model {model}, cost {times} x usual"
        if state.kind == "model_drift":
            return f"cost {ratio(observed_cost, expected_cost)} x the baseline; see the rate and model mix part"
        return f"cost {ratio(observed_cost, expected_cost)} x the baseline"
