"""Run the whole pipeline locally on a generated organisation and print a short report.

Every step is the ``genai-finops`` command a user would run, called in-process, and every figure in
the report comes from a packaged SQL file (``sql/queries/report_*.sql``) that ``genai-finops query``
can run again against the same lake.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from ..cli.main import main as cli_main
from ..errors import FinOpsError
from ..lake.local import LocalLake
from ..sql import load_query, query_path
from .generator import GeneratedData, generate, last_full_month_end


@dataclass(frozen=True)
class DemoOptions:
    """Demo settings: the generated period, its size and seed, and the input and lake folders."""

    lake_dir: Path
    data_dir: Path
    end: dt.date
    days: int = 90
    scale: float = 1.0
    seed: int = 7


class DemoError(FinOpsError):
    """A step of the demo pipeline exited with an error."""


def _step(title: str, argv: list[str], out: TextIO) -> None:
    out.write(f"\n==> {title}\n    genai-finops {' '.join(argv)}\n")
    out.flush()
    started = time.perf_counter()
    status = cli_main(argv)
    if status != 0:
        raise DemoError(f"step '{title}' failed with exit status {status}; its error is printed above")
    out.write(f"    done in {time.perf_counter() - started:.1f} s\n")


def run_pipeline(options: DemoOptions, out: TextIO = sys.stdout) -> GeneratedData:
    """Generate the organisation and run ingest, attribution and the monthly workflow on it."""
    out.write(f"==> generating {options.days} days of a demo organisation into {options.data_dir}\n")
    shutil.rmtree(options.data_dir, ignore_errors=True)
    started = time.perf_counter()
    data = generate(options.data_dir, end=options.end, days=options.days, scale=options.scale, seed=options.seed)
    expected = json.loads(data.expected_file.read_text(encoding="utf-8"))
    out.write(
        f"    {expected['requests_generated']:,} requests, {len(data.periods)} billing periods, "
        f"done in {time.perf_counter() - started:.1f} s\n"
    )

    shutil.rmtree(options.lake_dir, ignore_errors=True)
    common = ["--lake", str(options.lake_dir), "--config", str(data.config_file), "--quiet"]
    _step("ingesting an early delivery of the last month", ["ingest-cur", str(data.earlier_billing_root), *common], out)
    _step(
        "ingesting the billing export (restates the last month)", ["ingest-cur", str(data.billing_root), *common], out
    )
    _step("ingesting Bedrock invocation logs", ["ingest-logs", str(data.logs_root), *common], out)
    _step("attributing the bill to requests", ["attribute", *common], out)
    _step(
        f"running the monthly workflow for {data.periods[-1]}",
        ["run-month", data.periods[-1], "--no-refresh", *common],
        out,
    )
    # Detection replays every hour after three weeks of history, as the hourly schedule would have run.
    since = dt.datetime.combine(options.end - dt.timedelta(days=options.days - 22), dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(options.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    _step(
        "detecting anomalies hour by hour on the invocation logs",
        ["detect", "--since", since.isoformat(), "--at", until.isoformat(), *common],
        out,
    )
    _step("confirming anomalies against the bill", ["detect", "--daily", "--at", until.isoformat(), *common], out)
    return data


# -- report -----------------------------------------------------------------------------------------


def _format(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal | float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(result: pa.Table, columns: Sequence[tuple[str, str, int]], out: TextIO) -> None:
    """Print selected columns as an aligned table: (column, heading, decimal places).

    Numbers are right-aligned and text left-aligned.
    """
    records = result.to_pylist()
    rows = [[_format(record[name], digits) for name, _, digits in columns] for record in records]
    headings = [heading for _, heading, _ in columns]
    numeric = [
        all(isinstance(record[name], int | float | Decimal) or record[name] is None for record in records)
        for name, _, _ in columns
    ]
    widths = [max([len(heading), *(len(row[i]) for row in rows)]) for i, heading in enumerate(headings)]

    def line(cells: list[str]) -> str:
        aligned = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(cells, widths, numeric, strict=True)
        ]
        return "    " + "  ".join(aligned).rstrip() + "\n"

    out.write(line(headings))
    for row in rows:
        out.write(line(row))
    if not rows:
        out.write("    (none)\n")


def _display_path(path: Path) -> str:
    """Return a path relative to the working folder when it is inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _section(lake: LocalLake, title: str, query: str, params: list[Any], out: TextIO) -> pa.Table:
    command = f"genai-finops query --file {_display_path(query_path(query))}"
    command += "".join(f" --param {param}" for param in params)
    out.write(f"\n{title}\n    ({command})\n")
    return lake.query(load_query(query), params)


def print_report(lake_dir: Path, period: str, out: TextIO = sys.stdout) -> None:
    """Print the demo report for the last full month from the lake's tables."""
    lake = LocalLake(lake_dir)
    out.write(f"\n================ GenAI FinOps report: {period} ================\n")

    coverage = _section(lake, "Attributable share of GenAI spend (before credits)", "report_coverage", [], out)
    _table(
        coverage,
        [
            ("billing_period", "period", 0),
            ("spend", "spend $", 2),
            ("credit_cost", "credits $", 2),
            ("attributed_cost", "attributed $", 2),
            ("attributable_percent", "attributable %", 1),
            ("request_count", "requests", 0),
        ],
        out,
    )

    units = _section(lake, f"Unit economics per feature, {period}", "report_feature_unit_costs", [period], out)
    _table(
        units,
        [
            ("feature", "feature", 0),
            ("requests", "requests", 0),
            ("active_users", "users", 0),
            ("cost", "cost $", 2),
            ("cost_per_request", "$/request", 5),
            ("cost_per_active_user", "$/user", 3),
            ("input_tokens_per_request", "in tok/req", 0),
            ("output_tokens_per_request", "out tok/req", 0),
        ],
        out,
    )

    showback = _section(lake, f"Showback per team, {period}", "report_showback", [period], out)
    _table(
        showback,
        [
            ("team", "team", 0),
            ("direct_cost", "direct $", 2),
            ("shared_cost", "shared $", 2),
            ("credits_applied", "credits $", 2),
            ("net_cost", "net $", 2),
            ("statement_mode", "statement", 0),
        ],
        out,
    )

    forecast = _section(lake, "Forecast for the next quarter by scenario", "report_forecast", [period], out)
    _table(
        forecast,
        [
            ("scenario", "scenario", 0),
            ("target_period", "month", 0),
            ("cost", "cost $", 2),
            ("cost_low", "low $", 2),
            ("cost_high", "high $", 2),
        ],
        out,
    )

    alerts = _section(lake, f"Budget and cap alerts, {period}", "report_budget_alerts", [period], out)
    _table(
        alerts, [("team", "team", 0), ("kind", "kind", 0), ("severity", "severity", 0), ("subject", "subject", 0)], out
    )

    anomalies = _section(lake, "Anomalies found on the invocation logs", "report_anomalies", [], out)
    _table(
        anomalies,
        [
            ("opened_at", "opened (UTC)", 0),
            ("kind", "kind", 0),
            ("boundary", "boundary", 0),
            ("owner_team", "owner", 0),
            ("impact", "impact $", 2),
            ("main_driver", "main driver", 0),
        ],
        out,
    )

    out.write(
        f"\nOutputs\n    lake tables:        {lake_dir}/tables (query them with genai-finops query --lake {lake_dir})\n"
        f"    team statements:    {lake_dir}/documents/reports/{period}/\n"
        f"    alert outbox:       {lake_dir}/documents/outbox/\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, run the pipeline and print the report."""
    parser = argparse.ArgumentParser(prog="python -m genai_finops.demo", description=__doc__)
    parser.add_argument("--lake", type=Path, default=Path(".finops"), help="lake folder to create (replaced)")
    parser.add_argument("--data", type=Path, default=Path("demo-data"), help="folder for generated inputs (replaced)")
    parser.add_argument("--days", type=int, default=90, help="days of history ending last month (default 90)")
    parser.add_argument("--scale", type=float, default=1.0, help="traffic multiplier (default 1.0)")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        default=None,
        help="last day generated, YYYY-MM-DD (default: end of last month)",
    )
    args = parser.parse_args(argv)
    end = args.end or last_full_month_end(dt.datetime.now(dt.UTC).date())
    options = DemoOptions(args.lake, args.data, end, args.days, args.scale, args.seed)
    started = time.perf_counter()
    try:
        data = run_pipeline(options)
    except FinOpsError as error:
        sys.stderr.write(f"demo failed: {error}\n")
        return 1
    print_report(options.lake_dir, data.periods[-1])
    sys.stdout.write(f"\nDemo finished in {time.perf_counter() - started:.0f} s.\n")
    return 0
