"""Billing periods ('YYYY-MM') and the bounds that SQL parameters need."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..errors import InputError

_PERIOD = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class BillingPeriod:
    """One calendar month in UTC, as billing exports partition their lines."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> BillingPeriod:
        """Parse 'YYYY-MM', raising InputError with the expected form otherwise."""
        match = _PERIOD.match(text.strip())
        if match is None:
            raise InputError(f"invalid billing period {text!r}: expected YYYY-MM, for example 2026-01")
        return cls(int(match.group("year")), int(match.group("month")))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.date:
        """First day of the period."""
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        """First day of the next period (exclusive end)."""
        return self.next().start

    def next(self) -> BillingPeriod:
        """Return the following period."""
        return BillingPeriod(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> BillingPeriod:
        """Return the preceding period."""
        return BillingPeriod(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def days(self) -> list[dt.date]:
        """Return every day of the period."""
        count = (self.end - self.start).days
        return [self.start + dt.timedelta(days=offset) for offset in range(count)]

    def request_window(self) -> list[str]:
        """Return the SQL parameters bounding the period's requests.

        They are the first and end partition dates, then the start and end timestamps in UTC.
        """
        return day_window(self.start, self.end)


def day_window(first: dt.date, end: dt.date) -> list[str]:
    """Return partition-date and UTC-timestamp parameters for requests on days in [first, end)."""
    return [first.isoformat(), end.isoformat(), f"{first.isoformat()} 00:00:00", f"{end.isoformat()} 00:00:00"]
