"""``genai-finops generate-demo``: write a realistic organisation's billing export and invocation logs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..demo.generator import generate, last_full_month_end
from .common import Context


def _days(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value}: expected at least 1 day")
    return number


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"invalid value {value}: expected a number above 0")
    return number


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``generate-demo`` command."""
    parser = subparsers.add_parser(
        "generate-demo",
        help="write a realistic demo organisation's billing export and Bedrock logs",
        description="Write a CUR 2.0 export (with an earlier partial delivery of the last month under "
        "OUT_DIR/s3-earlier), Bedrock invocation logs in the AWSLogs layout, a governance configuration, an "
        "inference profile file and expected.json with the bill's totals. The bill agrees with the logs "
        "apart from deliberate gaps: a region with logging off, bedrock-mantle traffic, a shared guardrail, "
        "tagged adjacent services, credits and tax.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder to write (created if missing)")
    parser.add_argument("--days", type=_days, default=90, help="days of history (default 90)")
    parser.add_argument("--scale", type=_positive, default=1.0, help="traffic multiplier (default 1.0)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        default=None,
        help="last day generated, YYYY-MM-DD (default: the last day of last month, UTC)",
    )
    add_common_options(parser)
    parser.set_defaults(handler=run, lake_requirement="unused")


def run(context: Context, args: argparse.Namespace) -> int:
    """Generate the organisation and print where its parts are."""
    end = args.end or last_full_month_end(dt.datetime.now(dt.UTC).date())
    context.progress(f"generating {args.days} days ending {end} into {args.out_dir}")
    data = generate(args.out_dir, end=end, days=args.days, scale=args.scale, seed=args.seed)
    expected = json.loads(data.expected_file.read_text(encoding="utf-8"))
    print(f"billing export:        {data.billing_root}")
    print(f"earlier delivery:      {data.earlier_billing_root}")
    print(f"invocation logs:       {data.logs_root}")
    print(f"configuration:         {data.config_file}")
    print(f"expected totals:       {data.expected_file}")
    print(f"billing periods:       {', '.join(data.periods)}")
    print(f"requests generated:    {expected['requests_generated']:,}")
    return 0
