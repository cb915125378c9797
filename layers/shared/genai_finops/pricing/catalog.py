"""The price catalog: rates per model, token class, tier, region and route, with effective dates.

Three sources, in order of precedence: overrides from the governance configuration, the bill's own
rate (cost divided by tokens per usage type, which carries negotiated discounts) and the list-price
snapshot shipped in ``data/bedrock_list_prices.csv``. A model with no entry is unpriced: callers get
None and must report it, never cost it at zero or at a default.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources

import pyarrow as pa

from ..config import PriceOverride
from ..errors import ConfigError
from ..money import MONEY_TYPE, to_money
from ..observability import logger
from ..python_rows import columns_to_table
from .models import ModelNames

LIST_PRICES_FILE = "bedrock_list_prices.csv"
ANY = "*"
# Geographic cross-region calls cost the same as in-region calls in the source region and are billed
# under the same usage type, so an in_region price also prices a geo request.
IN_REGION = "in_region"
GEO = "geo"
STANDARD_TIER = "standard"
TOKEN_CLASSES = ("input", "output", "cache_read", "cache_write", "cache_write_1h")

# Lower rank wins. The reference price leaves the bill out so that it can be checked against the bill.
SOURCE_RANK = {"override": 0, "bill": 1, "bill_previous_period": 2, "list": 3}
REFERENCE_SOURCES = frozenset({"override", "list"})


@dataclass(frozen=True)
class ListPrice:
    """One catalog entry: a price per million tokens valid on days in [effective_from, effective_to)."""

    model_id: str
    token_class: str
    price_per_million: Decimal
    source: str
    currency: str = "USD"
    tier: str = STANDARD_TIER
    region: str = ANY
    route: str = ANY
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    def applies(self, model_id: str, token_class: str, tier: str, region: str, route: str, day: dt.date) -> bool:
        """Return True when this entry prices the given key on the given day."""
        return (
            self.model_id == model_id
            and self.token_class == token_class
            and self.tier == tier
            and self.region in (ANY, region)
            and (self.route in (ANY, route) or (self.route == IN_REGION and route == GEO))
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day < self.effective_to)
        )

    def precedence(self) -> tuple[int, bool, bool, int]:
        """Sort key: source first, then an exact region, then an exact route, then the newest start."""
        return (
            SOURCE_RANK[self.source],
            self.region == ANY,
            self.route == ANY,
            -(self.effective_from or dt.date.min).toordinal(),
        )


def _parse_date(text: str, origin: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as error:
        raise ConfigError(f"{origin}: invalid date {text!r}, expected YYYY-MM-DD") from error


def parse_list_prices(text: str, origin: str) -> list[ListPrice]:
    """Parse the list-price CSV (``#`` lines are comments) into catalog entries with source ``list``."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    prices = []
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        where = f"{origin} data row {number - 1}"
        token_class = row["token_class"].strip()
        if token_class not in TOKEN_CLASSES:
            raise ConfigError(f"{where}: unknown token class {token_class!r}; allowed: {list(TOKEN_CLASSES)}")
        try:
            price = Decimal(row["price_per_million"].strip())
        except InvalidOperation as error:
            raise ConfigError(f"{where}: invalid price {row['price_per_million']!r}") from error
        prices.append(
            ListPrice(
                model_id=row["model_id"].strip(),
                token_class=token_class,
                price_per_million=to_money(price),
                source="list",
                currency=row["currency"].strip(),
                tier=row["tier"].strip() or STANDARD_TIER,
                region=row["region"].strip() or ANY,
                route=row["route"].strip() or ANY,
                effective_from=_parse_date(row["effective_from"], where),
                effective_to=_parse_date(row["effective_to"] or "", where),
            )
        )
    return prices


def load_list_prices() -> list[ListPrice]:
    """Load the list-price snapshot shipped with the package."""
    resource = resources.files("genai_finops").joinpath("data", LIST_PRICES_FILE)
    return parse_list_prices(resource.read_text(encoding="utf-8"), f"data/{LIST_PRICES_FILE}")


def override_prices(overrides: Iterable[PriceOverride], names: ModelNames, currency: str) -> list[ListPrice]:
    """Turn the configuration's price overrides into catalog entries, with their model names resolved."""
    entries = []
    for override in overrides:
        model_id, _ = names.resolve(override.model)
        assert model_id is not None  # a non-empty name always resolves
        entries.append(
            ListPrice(
                model_id=model_id,
                token_class=override.token_class,
                price_per_million=to_money(override.price_per_million),
                source="override",
                currency=currency,
                tier=override.tier,
                region=override.region,
                route=override.route,
                effective_from=override.effective_from,
                effective_to=override.effective_to,
            )
        )
    return entries


# A price per million tokens far above any model's (the dearest were below 200 in 2026, an estimate).
# Estimates are computed in 64-bit integer quanta, which a price above about 9e8 would overflow.
MAX_PRICE_PER_MILLION = Decimal(1_000_000)


def bill_rates(rows: pa.Table, current_period: str, currency: str) -> list[ListPrice]:
    """Turn summed bill cost and tokens per key into catalog entries with the bill's own rate.

    ``rows`` has billing_period, model_id, token_class, tier, region, route, cost and tokens. Rows of
    ``current_period`` get source ``bill``, older ones ``bill_previous_period``. Rows without tokens or
    with a negative cost are skipped, because they give no usable rate. So are rates above
    MAX_PRICE_PER_MILLION, which only a corrupt line (a cost over a tiny token count) gives, with a
    warning; the next source in the catalog prices those requests.
    """
    entries = []
    for row in rows.to_pylist():
        tokens = row["tokens"]
        cost = row["cost"]
        if not tokens or tokens <= 0 or cost is None or cost < 0 or row["model_id"] is None:
            continue
        rate = to_money(Decimal(cost) * Decimal(1_000_000) / Decimal(repr(float(tokens))))
        if rate > MAX_PRICE_PER_MILLION:
            logger.warning(
                "bill rate ignored: above the largest plausible price",
                extra={
                    "billing_period": row["billing_period"],
                    "model_id": row["model_id"],
                    "token_class": row["token_class"],
                    "price_per_million": str(rate),
                },
            )
            continue
        entries.append(
            ListPrice(
                model_id=row["model_id"],
                token_class=row["token_class"],
                price_per_million=rate,
                source="bill" if row["billing_period"] == current_period else "bill_previous_period",
                currency=currency,
                tier=row["tier"] or STANDARD_TIER,
                region=row["region"] or ANY,
                route=row["route"] or ANY,
            )
        )
    return entries


class PriceCatalog:
    """Catalog entries of one currency, resolved by precedence for a model, class, tier, region, route and day."""

    def __init__(self, entries: Sequence[ListPrice], currency: str) -> None:
        self.currency = currency
        self._by_model: dict[tuple[str, str], list[ListPrice]] = {}
        for entry in sorted((e for e in entries if e.currency == currency), key=ListPrice.precedence):
            self._by_model.setdefault((entry.model_id, entry.token_class), []).append(entry)

    def resolve(
        self,
        model_id: str,
        token_class: str,
        tier: str,
        region: str,
        route: str,
        day: dt.date,
        *,
        reference: bool = False,
    ) -> ListPrice | None:
        """Return the winning entry, or None when the key is unpriced.

        With ``reference`` True, bill-derived rates are left out.
        """
        for entry in self._by_model.get((model_id, token_class), ()):
            if reference and entry.source not in REFERENCE_SOURCES:
                continue
            if entry.applies(model_id, token_class, tier, region, route, day):
                return entry
        return None

    def daily_table(self, keys: pa.Table, days: Sequence[dt.date]) -> pa.Table:
        """Build ``price_catalog`` rows for every key (model_id, tier, region, route), token class and day."""
        columns: dict[str, list[object]] = {
            name: []
            for name in (
                "day",
                "model_id",
                "token_class",
                "tier",
                "region",
                "route",
                "price_per_million",
                "source",
                "reference_price_per_million",
                "reference_source",
                "currency",
            )
        }
        for key in keys.to_pylist():
            model_id, tier = key["model_id"], key["tier"] or STANDARD_TIER
            region, route = key["region"] or ANY, key["route"] or ANY
            if model_id is None:
                continue
            for token_class in TOKEN_CLASSES:
                for day in days:
                    best = self.resolve(model_id, token_class, tier, region, route, day)
                    reference = self.resolve(model_id, token_class, tier, region, route, day, reference=True)
                    columns["day"].append(day)
                    columns["model_id"].append(model_id)
                    columns["token_class"].append(token_class)
                    columns["tier"].append(tier)
                    columns["region"].append(region)
                    columns["route"].append(route)
                    columns["price_per_million"].append(best.price_per_million if best else None)
                    columns["source"].append(best.source if best else None)
                    columns["reference_price_per_million"].append(reference.price_per_million if reference else None)
                    columns["reference_source"].append(reference.source if reference else None)
                    columns["currency"].append(self.currency)
        types = {
            "day": pa.date32(),
            "price_per_million": MONEY_TYPE,
            "reference_price_per_million": MONEY_TYPE,
        }
        schema = pa.schema([(name, types.get(name, pa.string())) for name in columns])
        return columns_to_table(columns, schema)
