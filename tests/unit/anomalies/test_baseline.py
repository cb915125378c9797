"""The baseline follows weekly patterns, holidays, month-end batches and lasting level changes."""

from __future__ import annotations

import numpy as np

from genai_finops.anomalies.baseline import ADAPTATION_HOURS, compute_baseline
from genai_finops.config import Anomalies

from .scenarios import CHAT, CHAT_DEV, RERANK, START, SUMMARY, Organisation, hour_of, replay

STEP = hour_of(15, 10)


def _hours(start: str, days: int) -> np.ndarray:
    first = np.datetime64(start, "h")
    return first + np.arange(days * 24).astype("timedelta64[h]")


def _daily_shape(hours: np.ndarray) -> np.ndarray:
    hour_of_day = (hours - hours.astype("datetime64[D]")).astype(np.int64)
    return np.where((hour_of_day >= 8) & (hour_of_day < 18), 100.0, 20.0)


def test_lasting_step_stops_alerting() -> None:
    organisation = Organisation()
    for stream in (CHAT, RERANK, CHAT_DEV):
        organisation.add(stream)
    rate = organisation.rate(SUMMARY)
    rate[STEP:] *= 2.5
    organisation.add(SUMMARY, rate)
    config = Anomalies()
    states = replay(organisation, STEP - 24, config)
    assert states, "a 2.5x step is a real change and alerts at first"
    for state in states:
        assert state.opened <= STEP + ADAPTATION_HOURS
        assert state.closed is not None
        assert state.closed <= STEP + ADAPTATION_HOURS + config.close_after_hours


def test_holiday_then_normal_day_opens_nothing() -> None:
    organisation = Organisation()
    holiday = hour_of(16, 0)
    for stream in (CHAT, SUMMARY, RERANK):
        rate = organisation.rate(stream)
        rate[holiday : holiday + 24] *= 0.2
        organisation.add(stream, rate)
    day = (START + np.timedelta64(holiday, "h")).astype("datetime64[D]").item()
    assert replay(organisation, holiday - 24, Anomalies(holidays=[day]), holidays=[day]) == []


def test_month_end_batch_expected_when_seen_last_month() -> None:
    hours = _hours("2026-08-03T00", 60)
    values = _daily_shape(hours)
    month_end = np.isin(
        hours.astype("datetime64[D]"),
        np.array(["2026-08-30", "2026-08-31", "2026-09-29", "2026-09-30"], dtype="datetime64[D]"),
    )
    values = np.where(month_end, values * 4, values)[None, :]
    baseline = compute_baseline(values, hours, np.zeros(hours.size, dtype=bool))
    noon = int(np.nonzero(hours == np.datetime64("2026-09-29T12", "h"))[0][0])
    assert baseline.expected[0, noon] > 0.8 * values[0, noon]
    normal_noon = int(np.nonzero(hours == np.datetime64("2026-09-22T12", "h"))[0][0])
    assert abs(baseline.expected[0, normal_noon] - 100.0) < 5


def test_new_series_has_no_baseline_until_history() -> None:
    hours = _hours("2026-09-07T00", 10)
    values = _daily_shape(hours)[None, :].copy()
    values[0, : 4 * 24] = 0.0
    baseline = compute_baseline(values, hours, np.zeros(hours.size, dtype=bool))
    assert np.isnan(baseline.expected[0, 4 * 24 + 12])
    from_zero = compute_baseline(values, hours, np.zeros(hours.size, dtype=bool), new_series_start_at_zero=True)
    assert from_zero.expected[0, 4 * 24 + 12] == 0.0
