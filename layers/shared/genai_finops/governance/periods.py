"""Billing periods (YYYY-MM) and their days."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta

from ..errors import InputError

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(value: str) -> date:
    """Return the first day of a billing period given as YYYY-MM, or raise InputError."""
    match = PERIOD_PATTERN.match(value)
    if match is None:
        raise InputError(f"invalid billing period {value!r}: expected YYYY-MM, for example 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


def period_of(day: date) -> str:
    """Return the billing period (YYYY-MM) that contains a day."""
    return f"{day.year:04d}-{day.month:02d}"


def add_months(period: str, months: int) -> str:
    """Return the billing period ``months`` after (or before, when negative) ``period``."""
    start = parse_period(period)
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def days_in_period(period: str) -> int:
    """Return the number of days of a billing period."""
    start = parse_period(period)
    return calendar.monthrange(start.year, start.month)[1]


def period_days(period: str) -> list[date]:
    """List the days of a billing period in order."""
    start = parse_period(period)
    return [start + timedelta(days=offset) for offset in range(days_in_period(period))]


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """Return the UTC start (inclusive) and end (exclusive) of a billing period."""
    start = parse_period(period)
    end = parse_period(add_months(period, 1))
    return datetime(start.year, start.month, 1, tzinfo=UTC), datetime(end.year, end.month, 1, tzinfo=UTC)


def months_between(earlier: str, later: str) -> int:
    """Return how many months ``later`` is after ``earlier``."""
    first, second = parse_period(earlier), parse_period(later)
    return (second.year - first.year) * 12 + second.month - first.month
