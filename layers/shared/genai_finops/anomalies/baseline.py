"""A robust, causal baseline for hourly series: seasonal shape times recent level, and its noise scale.

For hour t of a series x:

- the seasonal reference is the median of x at the same hour of the week in the previous four weeks
  (at least two of them). Without those it is the median at the same hour of the day in the previous
  seven days (at least three), else unknown;
- the level is the median, over the five 12-hour blocks before t, of (sum of x) / (sum of the seasonal
  reference) in the block. A lasting step therefore moves the level once three of the five blocks are
  past it, so a new level stops alerting at most 36 hours after it starts. One unusual day (a holiday, an
  incident) moves at most two blocks and does not move the median;
- the expected value is level x seasonal reference. On the last two days of a month it is multiplied by
  the uplift of the same day counted from the end of the previous month (that day's sum over its
  seasonal sum, when above 1). A month-end batch that also ran last month is therefore expected;
- the noise scale is the scaled median absolute deviation, over the previous seven days, of the residual
  divided by sqrt(expected + c), multiplied back by sqrt(expected + c) at t (noise that grows with the
  level, as counts do). It is never below 5% of the expected value.

Everything uses only hours before t, so running the whole history at once gives the same numbers as
running hour by hour. Hours of configured holidays are left out of every reference, and on a holiday
the level is the day's own ratio of observed to seasonal so far, from its fourth hour on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

WEEK_HOURS = 168
DAY_HOURS = 24
WEEKLY_LAGS = 4
DAILY_LAGS = 7
MIN_WEEKLY = 2
MIN_DAILY = 3
LEVEL_BLOCK_HOURS = 12
LEVEL_BLOCKS = 5
MONTH_END_DAYS = 2
# Hours of a holiday observed before its own level replaces the level of the days before.
HOLIDAY_MIN_HOURS = 3
MAD_TO_SIGMA = 1.4826
MIN_RELATIVE_SIGMA = 0.05
# Hours of a step after which the level has moved to it: more than half of the level blocks.
ADAPTATION_HOURS = LEVEL_BLOCK_HOURS * (LEVEL_BLOCKS // 2 + 1)


@dataclass
class Baseline:
    """Expected value and noise scale per series and hour; NaN where no baseline exists yet."""

    expected: np.ndarray
    sigma: np.ndarray


def _shift(values: np.ndarray, lag: int) -> np.ndarray:
    shifted = np.full(values.shape, np.nan)
    if lag < values.shape[1]:
        shifted[:, lag:] = values[:, :-lag]
    return shifted


def _nanmedian(stack: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median: np.ndarray = np.nanmedian(stack, axis=axis)
        return median


def history_mask(values: np.ndarray, excluded_hours: np.ndarray, *, before_first_activity: bool) -> np.ndarray:
    """Return the values usable as references: NaN on excluded hours and, optionally, before a series' first spend."""
    clean = values.astype(float).copy()
    clean[:, excluded_hours] = np.nan
    if before_first_activity:
        active = values > 0
        started = np.cumsum(active, axis=1) > 0
        clean[~started] = np.nan
    return clean


def _is_weekend(hours: np.ndarray) -> np.ndarray:
    return (hours.astype("datetime64[D]").astype(np.int64) + 3) % 7 >= 5


def seasonal_reference(clean: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Return the same-hour-of-week median (or same-hour-of-day median) of earlier hours.

    The same-hour-of-day fallback uses only earlier days of the same type (weekday or weekend day).
    """
    weekly = np.stack([_shift(clean, WEEK_HOURS * k) for k in range(1, WEEKLY_LAGS + 1)])
    weekend = _is_weekend(hours)
    daily_lags = []
    for d in range(1, DAILY_LAGS + 1):
        lagged = _shift(clean, DAY_HOURS * d)
        same_type = np.zeros(len(hours), dtype=bool)
        same_type[DAY_HOURS * d :] = weekend[DAY_HOURS * d :] == weekend[: len(hours) - DAY_HOURS * d]
        lagged[:, ~same_type] = np.nan
        daily_lags.append(lagged)
    daily = np.stack(daily_lags)
    weekly_count = np.sum(~np.isnan(weekly), axis=0)
    daily_count = np.sum(~np.isnan(daily), axis=0)
    weekly_median = _nanmedian(weekly, 0)
    daily_median = _nanmedian(daily, 0)
    return np.where(weekly_count >= MIN_WEEKLY, weekly_median, np.where(daily_count >= MIN_DAILY, daily_median, np.nan))


def recent_level(clean: np.ndarray, seasonal: np.ndarray) -> np.ndarray:
    """Return the median ratio of observed to seasonal sums over the 12-hour blocks before each hour."""
    usable = ~np.isnan(clean) & ~np.isnan(seasonal)
    zeros = np.zeros((clean.shape[0], 1))
    cumulative_x = np.hstack([zeros, np.cumsum(np.where(usable, clean, 0.0), axis=1)])
    cumulative_s = np.hstack([zeros, np.cumsum(np.where(usable, seasonal, 0.0), axis=1)])
    hours = clean.shape[1]
    t = np.arange(hours)
    ratios = []
    for block in range(LEVEL_BLOCKS):
        end = t - LEVEL_BLOCK_HOURS * block
        start = end - LEVEL_BLOCK_HOURS
        valid = start >= 0
        start_c, end_c = np.clip(start, 0, hours), np.clip(end, 0, hours)
        sum_x = cumulative_x[:, end_c] - cumulative_x[:, start_c]
        sum_s = cumulative_s[:, end_c] - cumulative_s[:, start_c]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where((sum_s > 0) & valid, sum_x / sum_s, np.nan)
        ratios.append(ratio)
    level = _nanmedian(np.stack(ratios), 0)
    return np.where(np.isnan(level), 1.0, level)


def _holiday_level(
    values: np.ndarray, seasonal: np.ndarray, level: np.ndarray, hours: np.ndarray, excluded_hours: np.ndarray
) -> np.ndarray:
    """On excluded days, replace the level by the ratio of observed to seasonal since the day began.

    Traffic on a holiday differs from the weeks around it, so the level of the days before would expect the
    wrong amount. From the fourth hour of the day on, the day's own ratio so far is the level.
    """
    if not excluded_hours.any():
        return level
    level = level.copy()
    days = hours.astype("datetime64[D]")
    for day in np.unique(days[excluded_hours]):
        columns = np.nonzero(days == day)[0]
        observed = np.where(np.isnan(seasonal[:, columns]), 0.0, values[:, columns])
        reference = np.nan_to_num(seasonal[:, columns])
        cumulative_observed = np.cumsum(observed, axis=1)
        cumulative_reference = np.cumsum(reference, axis=1)
        for position in range(HOLIDAY_MIN_HOURS, len(columns)):
            denominator = cumulative_reference[:, position - 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(denominator > 0, cumulative_observed[:, position - 1] / denominator, np.nan)
            column = columns[position]
            level[:, column] = np.where(np.isnan(ratio), level[:, column], ratio)
    return level


def month_end_lags(hours: np.ndarray) -> np.ndarray:
    """For each hour on the last days of a month, the lag in hours to the same hour and day-from-end of the
    month before; 0 elsewhere."""
    days = hours.astype("datetime64[D]")
    months = hours.astype("datetime64[M]")
    next_month_start = (months + 1).astype("datetime64[D]")
    days_to_end = (next_month_start - days).astype(np.int64)
    month_start = months.astype("datetime64[D]")
    previous_same_day = month_start - days_to_end
    lags = ((days - previous_same_day).astype(np.int64) * DAY_HOURS).astype(np.int64)
    return np.where(days_to_end <= MONTH_END_DAYS, lags, 0)


def compute_baseline(
    values: np.ndarray, hours: np.ndarray, excluded_hours: np.ndarray, *, new_series_start_at_zero: bool = False
) -> Baseline:
    """Compute the expected value and noise scale of every series at every hour, from earlier hours only.

    With ``new_series_start_at_zero`` False, hours before a series' first spend are unknown, so a new
    boundary has no baseline until it has history. With True they count as zero, which makes any spend on a
    boundary that never spent an excess over a zero baseline.
    """
    clean = history_mask(values, excluded_hours, before_first_activity=not new_series_start_at_zero)
    seasonal = seasonal_reference(clean, hours)
    level = recent_level(clean, seasonal)
    level = _holiday_level(values, seasonal, level, hours, excluded_hours)
    expected = level * seasonal
    lags = month_end_lags(hours)
    first_hour_of_day = (
        int((hours[0] - hours[0].astype("datetime64[D]")) // np.timedelta64(1, "h")) if len(hours) else 0
    )
    for column in np.nonzero(lags)[0]:
        source = column - lags[column]
        if source < 0:
            continue
        day_start = source - (first_hour_of_day + source) % DAY_HOURS
        day = slice(max(day_start, 0), day_start + DAY_HOURS)
        with np.errstate(divide="ignore", invalid="ignore"):
            uplift = np.nansum(clean[:, day], axis=1) / np.nansum(seasonal[:, day], axis=1)
        uplift = np.where(np.isfinite(uplift), np.fmax(uplift, 1.0), 1.0)
        expected[:, column] = expected[:, column] * uplift
    return Baseline(expected=expected, sigma=noise_scale(values, expected, excluded_hours))


def noise_scale(values: np.ndarray, expected: np.ndarray, excluded_hours: np.ndarray) -> np.ndarray:
    """Return the robust noise scale at each hour from the residuals of the seven days before its day."""
    series, hours = values.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        offset = np.fmax(np.nanmean(np.where(expected > 0, expected, np.nan), axis=1), 1e-9)[:, None] * 0.1
    root = np.sqrt(np.fmax(expected, 0.0) + offset)
    standardised = (values - expected) / root
    standardised[:, excluded_hours] = np.nan
    spread = np.full((series, hours), np.nan)
    for day_start in range(0, hours, DAY_HOURS):
        window = standardised[:, max(0, day_start - 7 * DAY_HOURS) : day_start]
        if window.shape[1] == 0:
            continue
        centre = _nanmedian(window, 1)
        mad = _nanmedian(np.abs(window - centre[:, None]), 1)
        spread[:, day_start : day_start + DAY_HOURS] = mad[:, None]
    sigma = MAD_TO_SIGMA * spread * root
    floored: np.ndarray = np.fmax(sigma, MIN_RELATIVE_SIGMA * np.fmax(expected, 0.0))
    return floored


# Daily series (billed cost): the same idea with days in place of hours.
DAILY_WEEK_LAGS = (7, 14, 21, 28)
DAILY_LEVEL_DAYS = 7
DAILY_SPREAD_DAYS = 28


def compute_daily_baseline(values: np.ndarray, days: np.ndarray, excluded_days: np.ndarray) -> Baseline:
    """Compute the expected value and noise scale of daily series, from earlier days only.

    The seasonal reference is the median of the same weekday in the previous four weeks (at least two),
    else the median of the previous seven days of the same type (weekday or weekend day). The level is
    the median ratio of observed to seasonal over the previous seven days. The noise scale is the scaled
    median absolute deviation of the residuals of the previous 28 days, at least 5% of the expected value.
    """
    clean = history_mask(values, excluded_days, before_first_activity=True)
    weekly = np.stack([_shift(clean, lag) for lag in DAILY_WEEK_LAGS])
    weekend = _is_weekend(days.astype("datetime64[h]"))
    recent = []
    for lag in range(1, 8):
        lagged = _shift(clean, lag)
        same_type = np.zeros(len(days), dtype=bool)
        same_type[lag:] = weekend[lag:] == weekend[: len(days) - lag]
        lagged[:, ~same_type] = np.nan
        recent.append(lagged)
    daily = np.stack(recent)
    seasonal = np.where(
        np.sum(~np.isnan(weekly), axis=0) >= MIN_WEEKLY,
        _nanmedian(weekly, 0),
        np.where(np.sum(~np.isnan(daily), axis=0) >= MIN_DAILY, _nanmedian(daily, 0), np.nan),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(seasonal > 0, clean / seasonal, np.nan)
    level = _nanmedian(np.stack([_shift(ratio, lag) for lag in range(1, DAILY_LEVEL_DAYS + 1)]), 0)
    expected = np.where(np.isnan(level), 1.0, level) * seasonal
    residual = values - expected
    residual[:, excluded_days] = np.nan
    spread = np.full(values.shape, np.nan)
    for column in range(values.shape[1]):
        window = residual[:, max(0, column - DAILY_SPREAD_DAYS) : column]
        if window.shape[1] == 0:
            continue
        centre = _nanmedian(window, 1)
        spread[:, column] = _nanmedian(np.abs(window - centre[:, None]), 1)
    sigma = np.fmax(MAD_TO_SIGMA * spread, MIN_RELATIVE_SIGMA * np.fmax(expected, 0.0))
    return Baseline(expected=expected, sigma=sigma)
