"""``genai-finops detect``: find spend anomalies for one hour (invocation logs) or one day (the bill)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from ..anomalies.run import detect_daily, detect_hourly
from ..errors import InputError
from ..governance.routing import Router
from .common import Context


def _timestamp(text: str) -> dt.datetime:
    """Parse --at for argparse: ISO 8601, UTC when no offset is given."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"invalid timestamp {text!r}: expected ISO 8601, for example 2026-12-04T10:00:00Z"
        ) from error
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    # The detectors step back over baseline weeks and forward to the next hour, which must stay dates.
    if not 1970 <= value.year <= 9000:
        raise argparse.ArgumentTypeError(f"invalid timestamp {text!r}: the year must be between 1970 and 9000")
    return value


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``detect`` command."""
    parser = subparsers.add_parser(
        "detect",
        help="detect spend anomalies and send alerts to the owning teams",
        description="Evaluate the last complete hour before --at on invocation logs (estimated cost), or with "
        "--daily the last billed day before --at on cost_lines, against each boundary's baseline. Opens, "
        "updates and closes rows of the anomalies table and writes alerts to the outbox in the lake "
        "(outbox/team=<team>/...). With --daily it also confirms or revises hourly anomalies with billed cost "
        "and writes the FinOps owner's digest of the day.",
    )
    parser.add_argument(
        "--at",
        type=_timestamp,
        default=None,
        metavar="TIMESTAMP",
        help="time of the run, ISO 8601 (default: now); the hour (or day) before it is evaluated",
    )
    parser.add_argument(
        "--since",
        type=_timestamp,
        default=None,
        metavar="TIMESTAMP",
        help="hourly check only: evaluate every hour from this time up to --at in order, from one read of "
        "the logs (a catch-up after an outage, or a replay of a period)",
    )
    parser.add_argument("--daily", action="store_true", help="run the daily check on billed cost")
    add_common_options(parser)
    parser.set_defaults(handler=run)


def run(context: Context, args: argparse.Namespace) -> int:
    """Run one detection and print its summary."""
    at = args.at or dt.datetime.now(dt.UTC)
    if args.since is not None and (args.daily or args.since >= at):
        raise InputError("--since works with the hourly check only and must be earlier than --at")
    router = Router(context.lake, context.config)
    if args.daily:
        report = detect_daily(context.lake, context.config, at, router)
    else:
        report = detect_hourly(context.lake, context.config, at, router, since=args.since)
    summary = report.as_dict()
    print(
        f"{summary['source']} {summary['evaluated']}: {summary['series']} series, {summary['opened']} opened, "
        f"{summary['updated']} updated, {summary['closed']} closed, {summary['still_open']} open, "
        f"{summary['confirmed']} confirmed, {summary['revised']} revised, {summary['messages_sent']} messages "
        f"sent, {summary['unpriced_requests']} unpriced requests"
    )
    for record in report.anomalies:
        impact = record.get("impact")
        print(
            f"  [{record['state']}] {record['kind']} on {record['dimension']} {record['boundary_value']} "
            f"(team {record['owner_team'] or 'none'}): impact {impact if impact is not None else 'n/a'}"
        )
    return 0
