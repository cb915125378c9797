"""The demo end to end at a small size: the printed report agrees with independent computations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from genai_finops.cli.main import main
from genai_finops.demo.generator import GeneratedData
from genai_finops.demo.run import DemoOptions, print_report, run_pipeline

END = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[GeneratedData, Path, str]:
    root = tmp_path_factory.mktemp("demo")
    options = DemoOptions(lake_dir=root / "lake", data_dir=root / "data", end=END, days=40, scale=0.04, seed=11)
    steps = io.StringIO()
    data = run_pipeline(options, steps)
    report = io.StringIO()
    print_report(options.lake_dir, data.periods[-1], report)
    return data, options.lake_dir, report.getvalue()


def _lake_files(lake_dir: Path, table: str) -> str:
    return f"'{lake_dir}/tables/{table}/**/*.parquet'"


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_bill_totals_match_generated_bill(demo: tuple[GeneratedData, Path, str]) -> None:
    data, lake_dir, _ = demo
    expected = json.loads(data.expected_file.read_text())
    totals = dict(
        duckdb.sql(
            f"SELECT billing_period, sum(cost_unblended) FROM read_parquet({_lake_files(lake_dir, 'bill_summary')}, "
            "hive_partitioning = true) GROUP BY 1"
        ).fetchall()
    )
    for period, figures in expected["periods"].items():
        assert totals[period] == Decimal(figures["total_unblended"]), period


def test_requests_loaded_match_generated_logs(demo: tuple[GeneratedData, Path, str]) -> None:
    data, lake_dir, _ = demo
    expected = json.loads(data.expected_file.read_text())
    (count,) = duckdb.sql(
        f"SELECT count(DISTINCT request_id) FROM read_parquet({_lake_files(lake_dir, 'invocations')})"
    ).fetchall()[0]
    assert count == expected["requests_logged"]


def test_printed_feature_costs_match_requests(demo: tuple[GeneratedData, Path, str]) -> None:
    data, lake_dir, report = demo
    period = data.periods[-1]
    rows = duckdb.sql(
        f"""SELECT feature, count(*), sum(cost)
            FROM read_parquet({_lake_files(lake_dir, "request_costs")}, hive_partitioning = true)
            WHERE billing_period = '{period}' GROUP BY 1"""
    ).fetchall()
    section = report.split("Unit economics per feature")[1].split("Showback per team")[0]
    for feature, requests, cost in rows:
        line = next(line for line in section.splitlines() if line.strip().startswith(feature + " "))
        fields = line.split()
        assert _amount(fields[1]) == requests, feature
        if cost is not None:
            assert _amount(fields[3]) == cost.quantize(Decimal("0.01")), feature


def test_printed_showback_adds_up_to_net_bill(demo: tuple[GeneratedData, Path, str]) -> None:
    data, lake_dir, report = demo
    period = data.periods[-1]
    (net_bill,) = duckdb.sql(
        f"""SELECT sum(cost_net) FROM read_parquet({_lake_files(lake_dir, "cost_lines")}, hive_partitioning = true)
            WHERE billing_period = '{period}'"""
    ).fetchall()[0]
    section = report.split("Showback per team")[1].split("Forecast for the next quarter")[0]
    net_column = [_amount(line.split()[4]) for line in section.splitlines()[3:] if re.match(r"^\s{4}[a-z]", line)]
    # Each printed team figure is rounded to the cent, so the sum may differ by half a cent per team.
    assert abs(sum(net_column) - net_bill) <= Decimal("0.005") * len(net_column)


def test_report_shows_cap_breach_of_dev_load_test(demo: tuple[GeneratedData, Path, str]) -> None:
    _, _, report = demo
    alerts = report.split("Budget and cap alerts")[1]
    assert "budget_cap_breached" in alerts


def test_prompts_never_reach_the_lake(demo: tuple[GeneratedData, Path, str]) -> None:
    _, lake_dir, _ = demo
    marker = b"Customer record"
    for path in lake_dir.rglob("*"):
        if path.is_file():
            assert marker not in path.read_bytes(), path


def test_detection_finds_load_test_and_retry_storm(demo: tuple[GeneratedData, Path, str]) -> None:
    _, lake_dir, report = demo
    rows = duckdb.sql(
        f"""SELECT kind, boundary_value, owner_team
            FROM read_parquet({_lake_files(lake_dir, "anomalies")}, hive_partitioning = true)
            WHERE source = 'hourly_logs'"""
    ).fetchall()
    load_test = [row for row in rows if row[0] == "nonprod_frontier" and row[1].startswith("classifier | dev |")]
    assert load_test, rows
    assert load_test[0][2] == "risk"
    retry_storms = [row for row in rows if row[0] == "retry_storm"]
    assert retry_storms, rows
    assert retry_storms[0][2] == "support"
    section = report.split("Anomalies found on the invocation logs")[1]
    assert "nonprod_frontier" in section


def test_printed_query_commands_reproduce_figures(
    demo: tuple[GeneratedData, Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lake_dir, report = demo
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    section = report.split("Showback per team")[1].split("Forecast for the next quarter")[0]
    command = re.search(r"\(genai-finops (query --file \S+ --param \S+)\)", section)
    assert command is not None
    capsys.readouterr()
    assert main([*command.group(1).split(), "--lake", str(lake_dir), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    printed = {line.split()[0]: line.split()[4] for line in section.splitlines()[3:] if re.match(r"^\s{4}[a-z]", line)}
    assert {row["team"]: f"{Decimal(row['net_cost']):,.2f}" for row in rows} == printed
