"""``genai-finops ingest-cur``: load billing-export files, folders or bucket trees into the lake."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cur import discover_deliveries, ingest_delivery
from ..cur.discovery import sanitize_export_id
from ..cur.ingest import DEFAULT_MEMORY_LIMIT
from ..invocations.user_key import LocalUserKey
from ..observability import logger
from .common import Context, memory_limit


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``ingest-cur`` command."""
    parser = subparsers.add_parser(
        "ingest-cur",
        help="ingest legacy CUR, CUR 2.0 and FOCUS billing exports",
        description="Ingest billing-export files, export folders or whole bucket-style trees into cost_lines "
        "and bill_summary. Each delivery replaces the billing periods it covers for its export; the same "
        "delivery twice changes nothing.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file, export folder or bucket tree")
    parser.add_argument(
        "--export-id",
        default=None,
        help="export id for every delivery found (default: the export or report name from the folder layout, "
        "or the file name for a loose file); give the same id to successive loose files of one export",
    )
    parser.add_argument(
        "--memory-limit",
        type=memory_limit,
        default=DEFAULT_MEMORY_LIMIT,
        help=f"DuckDB memory limit, a number and a unit such as 512MB or 4GB (default {DEFAULT_MEMORY_LIMIT}); "
        "raise it for exports with thousands of columns",
    )
    add_common_options(parser)
    parser.set_defaults(handler=run, lake_requirement="may_create")


def run(context: Context, args: argparse.Namespace) -> int:
    """Ingest every delivery found and print a summary per delivery and billing period."""
    # Progress lines on stderr replace the JSON info logs that the Lambda functions write.
    logger.setLevel("WARNING")
    deliveries = discover_deliveries(args.paths)
    if args.export_id:
        export_id = sanitize_export_id(args.export_id)
        deliveries = [dataclasses.replace(delivery, export_id=export_id) for delivery in deliveries]
    if not deliveries:
        print("genai-finops ingest-cur: error: no billing data files found", file=sys.stderr)
        return 1
    context.progress(f"found {len(deliveries)} deliveries")
    user_key = LocalUserKey(context.lake_dir)
    for delivery in deliveries:
        context.progress(f"ingesting {delivery.export_id} delivery {delivery.delivery_id}")
        report = ingest_delivery(
            context.lake,
            context.config,
            delivery,
            context.progress,
            user_key=user_key,
            memory_limit=args.memory_limit,
        )
        for line in report.summary_lines():
            print(line)
    return 0
