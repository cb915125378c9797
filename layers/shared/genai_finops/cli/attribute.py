"""``genai-finops attribute``: allocate the bill to requests and derive unit costs for billing periods."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..attribution import BillingPeriod, attribute_period, periods_with_data
from ..errors import InputError
from .common import Context


def _period(text: str) -> BillingPeriod:
    """Parse --period for argparse, which reports ArgumentTypeError as a usage error."""
    try:
        return BillingPeriod.parse(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``attribute`` command."""
    parser = subparsers.add_parser(
        "attribute",
        help="allocate billed GenAI cost to requests and compute unit costs",
        description="Allocate each billing period's GenAI cost lines to the invocation requests that caused "
        "them, keep the rest as remainder with a reason, check that both add up to the bill, and write "
        "request_costs, attribution_remainder, unit_costs_daily, unit_costs_monthly, attribution_coverage, "
        "unattributed_sources and plan_cost_outliers. A re-run replaces the period's tables.",
    )
    parser.add_argument(
        "--period",
        type=_period,
        default=None,
        metavar="YYYY-MM",
        help="billing period to attribute (default: every period with cost lines or invocations)",
    )
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(context: Context, args: argparse.Namespace) -> int:
    """Attribute the chosen periods and print one summary line per period."""
    periods = [args.period] if args.period is not None else periods_with_data(context.lake)
    if not periods:
        context.progress("attribute: the lake has no cost lines and no invocations; nothing to do")
        return 0
    for period in periods:
        context.progress(f"attribute: billing period {period}")
        result = attribute_period(context.lake, context.config, period)
        percent = "n/a" if result.attributable_percent is None else f"{result.attributable_percent:.1f}%"
        print(
            f"{result.billing_period}: bill {result.bill_total:f} ({result.cost_column}) = "
            f"requests {result.billed_request_cost:f} + remainder {result.remainder_cost:f}; "
            f"{result.request_count} requests ({result.billed_requests} billed, {result.estimated_requests} "
            f"estimated, {result.unpriced_requests} unpriced); {result.allocated_cells}/{result.cells} cells "
            f"allocated, {result.diverging_cells} diverging; attributable {percent}; "
            f"{result.plan_outliers} users over plan share"
        )
    return 0
