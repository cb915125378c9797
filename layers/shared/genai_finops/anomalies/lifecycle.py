"""The lifecycle of anomalies: open once, update on a configured growth of impact, close back at baseline.

One anomaly is one kind on one boundary from the hour it opened. Each evaluated hour:

1. every open anomaly extends its window to the hour. It closes when its series has not been above the
   baseline for ``close_after_hours`` hours. It is due for an updated alert when its impact so far grew
   by ``update_step`` (a share) since the last alert;
2. hours flagged by a detector become candidates. A candidate is dropped when a narrower boundary that
   is also flagged (or already open) explains most of its excess. One incident thus gives one alert on
   the boundary closest to its cause, not one per team, model and organisation total. The explained
   broader boundaries are listed on the alert instead;
3. a candidate opens an anomaly once the excess of its run of flagged hours reaches ``min_impact``.

The window sums are recomputed from the series on every step, so a state needs only its hours: a run
that resumes from the ``anomalies`` table measures the same numbers as one that never stopped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from ..config import Anomalies
from .detectors import Signal
from .series import DIMENSIONS, SeriesSet

# Share of a broader boundary's excess a narrower flagged boundary must explain to replace it.
EXPLAINED_SHARE = 0.6
# A boundary counts as inside another at an hour when at least this share of its cost is in the other's cells
# (a feature with a little dev traffic is inside environment prod).
CONTAINED_SHARE = 0.9
# Hours a run of flagged hours is followed back to find where an anomaly started.
MAX_RUN_HOURS = 24
# When two boundaries cover the same requests, the one earlier in this list carries the alert.
DIMENSION_PREFERENCE = (
    "feature",
    "inference_profile",
    "principal",
    "feature_environment_model",
    "model",
    "team",
    "environment",
    "organisation",
)


@dataclass
class AnomalyState:
    """One anomaly's hours (indices into the series' hours) and its alerting state."""

    kind: str
    dimension: str
    value: str
    opened: int
    detected: int
    last_anomalous: int
    window_end: int
    alerts_sent: int = 0
    alerted_impact: float | None = None
    closed: int | None = None
    also_visible_on: list[str] = field(default_factory=list)
    # Set when the state was read back from the anomalies table.
    anomaly_id: str | None = None
    detected_at: dt.datetime | None = None
    billed_status: str | None = None
    billed_impact: Decimal | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.dimension, self.value)


@dataclass
class StepEvents:
    """Changes of one evaluated hour: anomalies opened, due for an updated alert, and closed."""

    opened: list[AnomalyState] = field(default_factory=list)
    updated: list[AnomalyState] = field(default_factory=list)
    closed: list[AnomalyState] = field(default_factory=list)


class Containment:
    """Containment of boundaries in each other at one hour, from the cells of that hour."""

    def __init__(self, series: SeriesSet) -> None:
        self.series = series
        order = np.argsort(series.cell_hour, kind="stable")
        self._order = order
        self._sorted_hours = series.cell_hour[order]

    def containers(self, row: int, hour: int) -> set[int]:
        """Return the series rows whose cells at ``hour`` hold all of series ``row``, or CONTAINED_SHARE of its cost."""
        low = np.searchsorted(self._sorted_hours, hour, side="left")
        high = np.searchsorted(self._sorted_hours, hour, side="right")
        cells = self._order[low:high]
        dimension = self.series.keys[row][0]
        mine = cells[self.series.cell_series[dimension][cells] == row]
        if mine.size == 0:
            return set()
        cost = self.series.cell_metrics["cost"][mine]
        total = float(cost.sum())
        result = set()
        for other in DIMENSIONS:
            values, codes = np.unique(self.series.cell_series[other][mine], return_inverse=True)
            if values.size == 1:
                result.add(int(values[0]))
                continue
            if total <= 0:
                continue
            shares = np.bincount(codes, weights=cost) / total
            best = int(np.argmax(shares))
            if shares[best] >= CONTAINED_SHARE:
                result.add(int(values[best]))
        return result


def _rank(dimension: str) -> int:
    return DIMENSION_PREFERENCE.index(dimension)


class Tracker:
    """Open anomalies of one run (or of a whole benchmark replay) and the hour-by-hour rules above."""

    def __init__(
        self,
        series: SeriesSet,
        signals: dict[str, Signal],
        config: Anomalies,
        open_states: list[AnomalyState] | None = None,
    ) -> None:
        self.series = series
        self.signals = signals
        self.config = config
        self.containment = Containment(series)
        self.open: dict[tuple[str, str, str], AnomalyState] = {state.key: state for state in open_states or []}
        self.closed: list[AnomalyState] = []
        self._rows = {key: row for row, key in enumerate(series.keys)}

    def row(self, state: AnomalyState) -> int | None:
        """Return the series row of an anomaly's boundary, or None when it has no cells in the hours."""
        return self._rows.get((state.dimension, state.value))

    def window(self, state: AnomalyState) -> tuple[float, float]:
        """Return the observed and expected cost of the anomaly's window."""
        row = self.row(state)
        if row is None:
            return 0.0, 0.0
        signal = self.signals[state.kind]
        start, end = max(state.opened, 0), state.window_end
        observed = float(np.sum(self.series.metrics["cost"][row, start:end]))
        expected = float(np.nansum(signal.expected[row, start:end]))
        return observed, expected

    def impact(self, state: AnomalyState) -> float:
        observed, expected = self.window(state)
        return observed - expected

    def step(self, hour: int) -> StepEvents:
        """Evaluate one hour: extend, update and close open anomalies, then open new ones."""
        events = StepEvents()
        self._advance_open(hour, events)
        self._open_new(hour, events)
        return events

    def _advance_open(self, hour: int, events: StepEvents) -> None:
        step = float(self.config.update_step)
        for key, state in list(self.open.items()):
            row = self.row(state)
            if row is None:
                continue
            above = self.signals[state.kind].above[row]
            for index in range(max(state.window_end, 0), hour + 1):
                if above[index]:
                    state.last_anomalous = index
            state.window_end = hour + 1
            if hour - state.last_anomalous >= self.config.close_after_hours:
                state.closed = state.last_anomalous + 1
                state.window_end = state.closed
                del self.open[key]
                self.closed.append(state)
                events.closed.append(state)
                continue
            impact = self.impact(state)
            if state.alerted_impact is not None and impact >= state.alerted_impact * (1 + step):
                events.updated.append(state)

    def _candidates(self, hour: int) -> list[tuple[str, int, float]]:
        candidates = []
        for kind, signal in self.signals.items():
            for row in np.nonzero(signal.flag[:, hour])[0]:
                candidates.append((kind, int(row), float(signal.excess[row, hour])))
        for state in self.open.values():
            open_row = self.row(state)
            if open_row is not None:
                candidates.append((state.kind, open_row, float(self.signals[state.kind].excess[open_row, hour])))
        return candidates

    def _explained_by(
        self, candidate: tuple[str, int, float], others: list[tuple[str, int, float]], hour: int
    ) -> tuple[str, int, float] | None:
        kind, row, excess = candidate
        for other in others:
            other_kind, other_row, other_excess = other
            if other == candidate or other_excess < EXPLAINED_SHARE * excess or other_excess <= 0:
                continue
            if other_kind != kind and kind != "spend":
                continue
            if other_row == row:
                if other_kind != kind:
                    return other
                continue
            containers = self.containment.containers(other_row, hour)
            if row not in containers:
                continue
            mutual = other_row in self.containment.containers(row, hour)
            other_dimension, dimension = self.series.keys[other_row][0], self.series.keys[row][0]
            if not mutual or _rank(other_dimension) < _rank(dimension):
                return other
        return None

    def _open_new(self, hour: int, events: StepEvents) -> None:
        candidates = self._candidates(hour)
        keep = []
        for candidate in candidates:
            kind, row, _ = candidate
            dimension, value = self.series.keys[row]
            if (kind, dimension, value) in self.open:
                continue
            if self._explained_by(candidate, candidates, hour) is None:
                keep.append(candidate)
        minimum = float(self.config.min_impact)
        for kind, row, _ in keep:
            signal = self.signals[kind]
            start = hour
            while start > 0 and hour - start < MAX_RUN_HOURS and signal.flag[row, start - 1]:
                start -= 1
            run_excess = float(np.sum(signal.excess[row, start : hour + 1]))
            if run_excess < minimum:
                continue
            dimension, value = self.series.keys[row]
            state = AnomalyState(
                kind=kind,
                dimension=dimension,
                value=value,
                opened=start,
                detected=hour,
                last_anomalous=hour,
                window_end=hour + 1,
            )
            self.open[state.key] = state
            events.opened.append(state)
        # Broader boundaries explained by an anomaly opened this hour are listed on it as well.
        for candidate in candidates:
            kind, row, _ = candidate
            dimension, value = self.series.keys[row]
            explainer = self._explained_by(candidate, candidates, hour)
            if explainer is None:
                continue
            explaining = self._state_for(explainer)
            label = f"{dimension}={value}"
            if explaining is None or (explaining.dimension, explaining.value) == (dimension, value):
                continue
            if label not in explaining.also_visible_on:
                explaining.also_visible_on.append(label)

    def _state_for(self, candidate: tuple[str, int, float]) -> AnomalyState | None:
        kind, row, _ = candidate
        dimension, value = self.series.keys[row]
        return self.open.get((kind, dimension, value))
