"""Price catalog precedence, effective dates, unpriced models and the shipped snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from pydantic import ValidationError

from genai_finops.config import PriceOverride
from genai_finops.errors import ConfigError
from genai_finops.pricing import ListPrice, PriceCatalog, load_list_prices, load_model_names
from genai_finops.pricing.catalog import bill_rates, override_prices, parse_list_prices

SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
DAY = dt.date(2026, 1, 15)


def price(source: str, value: str, **keys: object) -> ListPrice:
    return ListPrice(model_id=SONNET, token_class="input", price_per_million=Decimal(value), source=source, **keys)


def test_snapshot_prices_worked_example_models() -> None:
    catalog = PriceCatalog(load_list_prices(), "USD")

    input_price = catalog.resolve(SONNET, "input", "standard", "us-east-1", "in_region", DAY)
    output_price = catalog.resolve(SONNET, "output", "standard", "us-east-1", "in_region", DAY)

    assert input_price is not None and input_price.price_per_million == Decimal("3")
    assert output_price is not None and output_price.price_per_million == Decimal("15")
    assert input_price.source == "list"


def test_unknown_model_is_unpriced() -> None:
    catalog = PriceCatalog(load_list_prices(), "USD")

    assert catalog.resolve("acme.unknown-v1:0", "input", "standard", "us-east-1", "in_region", DAY) is None
    assert catalog.resolve(SONNET, "input", "batch", "us-east-1", "in_region", DAY) is None


def test_precedence_override_bill_list() -> None:
    entries = [price("list", "3"), price("bill", "3.3"), price("override", "2.5", region="us-east-1")]
    catalog = PriceCatalog(entries, "USD")

    best = catalog.resolve(SONNET, "input", "standard", "us-east-1", "in_region", DAY)
    elsewhere = catalog.resolve(SONNET, "input", "standard", "eu-west-1", "in_region", DAY)
    reference = catalog.resolve(SONNET, "input", "standard", "eu-west-1", "in_region", DAY, reference=True)

    assert best is not None and best.source == "override"
    assert elsewhere is not None and elsewhere.source == "bill"
    assert reference is not None and reference.source == "list"


def test_exact_region_beats_wildcard() -> None:
    entries = [price("list", "3"), price("list", "3.6", region="ap-southeast-2")]
    catalog = PriceCatalog(entries, "USD")

    sydney = catalog.resolve(SONNET, "input", "standard", "ap-southeast-2", "geo", DAY)
    virginia = catalog.resolve(SONNET, "input", "standard", "us-east-1", "geo", DAY)

    assert sydney is not None and sydney.price_per_million == Decimal("3.6")
    assert virginia is not None and virginia.price_per_million == Decimal("3")


def test_in_region_price_covers_geo_requests() -> None:
    catalog = PriceCatalog([price("bill", "3.3", region="us-east-1", route="in_region"), price("list", "3")], "USD")

    geo = catalog.resolve(SONNET, "input", "standard", "us-east-1", "geo", DAY)
    global_route = catalog.resolve(SONNET, "input", "standard", "us-east-1", "global", DAY)

    assert geo is not None and geo.source == "bill"
    assert global_route is not None and global_route.source == "list"


def test_effective_dates_pick_price_of_day() -> None:
    entries = [
        price("list", "3", effective_from=dt.date(2025, 1, 1)),
        price("list", "6", effective_from=dt.date(2026, 1, 10)),
        price("override", "1", effective_from=dt.date(2026, 1, 20), effective_to=dt.date(2026, 1, 21)),
    ]
    catalog = PriceCatalog(entries, "USD")

    def on(day: int) -> Decimal | None:
        entry = catalog.resolve(SONNET, "input", "standard", "us-east-1", "in_region", dt.date(2026, 1, day))
        return entry.price_per_million if entry else None

    assert on(9) == Decimal("3")
    assert on(10) == Decimal("6")
    assert on(20) == Decimal("1")
    assert on(21) == Decimal("6")


def test_other_currency_is_unpriced() -> None:
    catalog = PriceCatalog(load_list_prices(), "EUR")

    assert catalog.resolve(SONNET, "input", "standard", "eu-west-1", "in_region", DAY) is None


def test_bill_rates_divide_cost_by_tokens() -> None:
    rows = pa.table(
        {
            "billing_period": ["2026-01", "2025-12", "2026-01"],
            "model_id": [SONNET, SONNET, SONNET],
            "token_class": ["input", "output", "cache_read"],
            "tier": ["standard", "standard", "standard"],
            "region": ["us-east-1", "us-east-1", "us-east-1"],
            "route": ["in_region", "in_region", "in_region"],
            "cost": pa.array([Decimal("0.01"), Decimal("0.45"), Decimal("0")], pa.decimal128(38, 10)),
            "tokens": [3000.0, 30000.0, 0.0],
        }
    )

    entries = bill_rates(rows, "2026-01", "USD")

    assert [(entry.token_class, entry.source, entry.price_per_million) for entry in entries] == [
        ("input", "bill", Decimal("3.3333333333")),
        ("output", "bill_previous_period", Decimal("15")),
    ]


def test_implausible_bill_rate_ignored() -> None:
    # 5 dollars over a millionth of a token is 5e12 per million tokens: a corrupt line, not a price.
    rows = pa.table(
        {
            "billing_period": ["2026-01"],
            "model_id": [SONNET],
            "token_class": ["input"],
            "tier": ["standard"],
            "region": ["us-east-1"],
            "route": ["in_region"],
            "cost": pa.array([Decimal("5")], pa.decimal128(38, 10)),
            "tokens": [0.000001],
        }
    )

    assert bill_rates(rows, "2026-01", "USD") == []


def test_override_above_price_bound_rejected() -> None:
    with pytest.raises(ValidationError):
        PriceOverride(model=SONNET, token_class="input", price_per_million=Decimal("2000000"))


def test_override_model_name_is_resolved() -> None:
    override = PriceOverride(model="Claude 3.5 Sonnet", token_class="output", price_per_million=Decimal("12"))

    [entry] = override_prices([override], load_model_names(), "USD")

    assert entry.model_id == SONNET
    assert entry.source == "override"


def test_list_price_file_rejects_bad_class() -> None:
    text = (
        "model_id,region,route,tier,token_class,price_per_million,currency,effective_from,effective_to\n"
        "m,*,*,standard,thinking,1,USD,,\n"
    )

    with pytest.raises(ConfigError, match="unknown token class 'thinking'"):
        parse_list_prices(text, "prices.csv")


def test_daily_table_marks_unpriced_as_null() -> None:
    catalog = PriceCatalog(load_list_prices(), "USD")
    keys = pa.table(
        {
            "model_id": [SONNET, "acme.x"],
            "tier": ["standard", "standard"],
            "region": ["us-east-1", None],
            "route": ["in_region", None],
        }
    )

    table = catalog.daily_table(keys, [DAY])

    rows = {(row["model_id"], row["token_class"]): row for row in table.to_pylist()}
    assert rows[(SONNET, "input")]["price_per_million"] == Decimal("3")
    assert rows[(SONNET, "cache_read")]["price_per_million"] is None
    assert rows[("acme.x", "input")]["price_per_million"] is None
    assert rows[("acme.x", "input")]["region"] == "*"
    assert table.num_rows == 10
