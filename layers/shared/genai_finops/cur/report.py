"""Ingest reports: rows and costs read, loaded, left out and quarantined per billing period."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..money import CENT

ZERO = Decimal(0)


@dataclass
class Totals:
    """A row count and the three cost totals of a set of billing lines."""

    rows: int = 0
    unblended: Decimal = ZERO
    net: Decimal = ZERO
    amortized: Decimal = ZERO

    def add(self, other: Totals) -> Totals:
        return Totals(
            self.rows + other.rows,
            self.unblended + other.unblended,
            self.net + other.net,
            self.amortized + other.amortized,
        )

    def matches(self, other: Totals) -> bool:
        """Return True when the row counts agree and every cost agrees to the cent."""
        return self.rows == other.rows and all(
            abs(mine - theirs) < CENT
            for mine, theirs in (
                (self.unblended, other.unblended),
                (self.net, other.net),
                (self.amortized, other.amortized),
            )
        )

    def describe(self) -> str:
        return f"{self.rows} rows, unblended {self.unblended:.2f}, net {self.net:.2f}, amortised {self.amortized:.2f}"


@dataclass
class PeriodReport:
    """One billing period of one delivery.

    ``status`` is ``loaded``, ``already loaded`` (this delivery id was loaded before, nothing changed)
    or ``superseded`` (a newer delivery of the period, or an invoiced one where this one is not, is in
    the lake, nothing changed). The lines without any billing period form a pseudo-period ``__none__``
    with status ``quarantined``. ``read`` equals ``in_scope + out_of_scope + quarantined + duplicate``,
    to the cent. ``final`` is True when every line of the period carries an invoice id.
    """

    billing_period: str
    status: str = "loaded"
    source_formats: list[str] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    read: Totals = field(default_factory=Totals)
    in_scope: Totals = field(default_factory=Totals)
    out_of_scope: Totals = field(default_factory=Totals)
    quarantined: Totals = field(default_factory=Totals)
    duplicate: Totals = field(default_factory=Totals)
    duplicate_of: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    unknown_usage_types: dict[str, int] = field(default_factory=dict)
    final: bool = False

    def balances(self) -> bool:
        accounted = self.in_scope.add(self.out_of_scope).add(self.quarantined).add(self.duplicate)
        return self.read.matches(accounted)


@dataclass
class DeliveryReport:
    """The outcome of ``ingest_delivery``: one entry per billing period found, plus warnings."""

    export_id: str
    delivery_id: str
    periods: list[PeriodReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    @property
    def unknown_usage_type_rows(self) -> int:
        return sum(sum(period.unknown_usage_types.values()) for period in self.periods)

    def summary_lines(self) -> list[str]:
        """Return the human-readable summary the CLI prints, one line per fact."""
        lines = [f"delivery {self.export_id}/{self.delivery_id}"]
        if not self.periods:
            lines.append("  no billing lines")
        for period in self.periods:
            lines.append(f"  period {period.billing_period}: {period.status}")
            if period.status not in ("loaded", "quarantined"):
                continue
            formats = ", ".join(period.source_formats) or "none"
            currencies = ", ".join(period.currencies) or "none"
            lines.append(f"    formats {formats}; currency {currencies}")
            lines.append(f"    read         {period.read.describe()}")
            lines.append(f"    in scope     {period.in_scope.describe()}")
            lines.append(f"    out of scope {period.out_of_scope.describe()}")
            lines.append(f"    quarantined  {period.quarantined.describe()}")
            if period.duplicate.rows:
                others = ", ".join(period.duplicate_of)
                lines.append(f"    duplicate    {period.duplicate.describe()} (covered by export {others})")
            for reason, count in sorted(period.quarantine_reasons.items()):
                lines.append(f"    quarantined {count} rows: {reason}")
            if period.unknown_usage_types:
                total = sum(period.unknown_usage_types.values())
                examples = ", ".join(sorted(period.unknown_usage_types)[:5])
                lines.append(f"    unknown usage types: {total} rows ({examples})")
        for file in self.skipped_files:
            lines.append(f"  skipped {file}")
        for warning in self.warnings:
            lines.append(f"  warning: {warning}")
        return lines
