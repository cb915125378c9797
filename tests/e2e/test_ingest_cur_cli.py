"""``genai-finops ingest-cur`` end to end on a local lake, run as a separate process."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.e2e

LEGACY_HEADER = (
    "bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,"
    "lineItem/ProductCode,lineItem/UsageType,lineItem/UsageAmount,lineItem/UnblendedCost,pricing/unit"
)


def _legacy_line(cost: str, period: str = "2026-09") -> str:
    return (
        f"{period}-01T00:00:00Z,999999999999,Usage,{period}-03T00:00:00Z,"
        f"AmazonBedrock,USE1-NovaLite-input-tokens,10,{cost},1K tokens"
    )


def _write_legacy(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join([LEGACY_HEADER, *lines]) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if path.name.endswith(".gz") else text.encode())
    return path


def _write_cur2(path: Path) -> Path:
    string_map = pa.map_(pa.string(), pa.string())
    table = pa.table(
        {
            "bill_billing_period_start_date": pa.array([dt.datetime(2026, 10, 1)] * 2, pa.timestamp("ms")),
            "bill_payer_account_name": ["payer", "payer"],
            "line_item_usage_account_id": ["012345678901", "012345678901"],
            "line_item_line_item_type": ["Usage", "Usage"],
            "line_item_usage_start_date": pa.array([dt.datetime(2026, 10, 5)] * 2, pa.timestamp("ms")),
            "line_item_product_code": ["AmazonBedrock", "AmazonEC2"],
            "line_item_usage_type": ["USE1-Claude4.6Sonnet-input-tokens", "BoxUsage:m5.large"],
            "line_item_usage_amount": [100.0, 1.0],
            "line_item_unblended_cost": [1.25, 2.0],
            "pricing_unit": ["1K tokens", "Hrs"],
            "resource_tags": pa.array([[("user_team", "search")], []], string_map),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genai_finops.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _bucket_tree(root: Path) -> None:
    period = "2026-10"
    data = root / "exports" / "org-cur2" / "data" / f"BILLING_PERIOD={period}"
    part = _write_cur2(data / "org-cur2-00001.snappy.parquet")
    metadata = root / "exports" / "org-cur2" / "metadata" / f"BILLING_PERIOD={period}"
    metadata.mkdir(parents=True)
    (metadata / "org-cur2-Manifest.json").write_text(
        json.dumps(
            {
                "executionId": "exec-1",
                "dataFiles": [f"s3://bucket/exports/org-cur2/data/BILLING_PERIOD={period}/{part.name}"],
            }
        )
    )
    _write_legacy(root / "legacy" / "cost" / "20260901-20261001" / "asm-1" / "cost-1.csv.gz", _legacy_line("0.50"))


def test_ingest_tree_prints_summary_and_loads(tmp_path: Path) -> None:
    _bucket_tree(tmp_path / "bucket")
    lake = tmp_path / "lake"
    result = _cli("ingest-cur", str(tmp_path / "bucket"), "--lake", str(lake))
    assert result.returncode == 0, result.stderr
    assert "delivery org-cur2/exec-1" in result.stdout
    assert "period 2026-10: loaded" in result.stdout
    assert "read         2 rows, unblended 3.25" in result.stdout
    assert "in scope     1 rows, unblended 1.25" in result.stdout
    assert "period 2026-09: loaded" in result.stdout
    assert "reading " in result.stderr

    query = _cli(
        "query",
        "SELECT billing_period, export_id, sum(cost_unblended) AS cost FROM bill_summary GROUP BY 1, 2 ORDER BY 1",
        "--lake",
        str(lake),
        "--format",
        "json",
    )
    rows = [json.loads(line) for line in query.stdout.splitlines()]
    assert [(row["billing_period"], row["export_id"], Decimal(row["cost"])) for row in rows] == [
        ("2026-09", "cost", Decimal("0.50")),
        ("2026-10", "org-cur2", Decimal("3.25")),
    ]


def test_ingest_same_tree_twice_reports_already_loaded(tmp_path: Path) -> None:
    _bucket_tree(tmp_path / "bucket")
    lake = str(tmp_path / "lake")
    assert _cli("ingest-cur", str(tmp_path / "bucket"), "--lake", lake).returncode == 0
    again = _cli("ingest-cur", str(tmp_path / "bucket"), "--lake", lake)
    assert again.returncode == 0
    assert "period 2026-10: already loaded" in again.stdout


def test_bad_file_exits_non_zero_with_reason(tmp_path: Path) -> None:
    path = _write_legacy(tmp_path / "bad.csv", _legacy_line("abc"))
    result = _cli("ingest-cur", str(path), "--lake", str(tmp_path / "lake"))
    assert result.returncode == 1
    assert "error:" in result.stderr
    assert f"{path}:2" in result.stderr
    assert result.stdout == ""


def test_missing_path_exits_non_zero(tmp_path: Path) -> None:
    result = _cli("ingest-cur", str(tmp_path / "missing"), "--lake", str(tmp_path / "lake"))
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr


def test_export_id_joins_loose_restatements(tmp_path: Path) -> None:
    import os

    draft = _write_legacy(tmp_path / "draft.csv", _legacy_line("1.00"))
    final = _write_legacy(tmp_path / "final.csv", _legacy_line("1.20"))
    os.utime(draft, (1_000, 1_000))
    os.utime(final, (2_000, 2_000))
    lake = str(tmp_path / "lake")
    for path in (draft, final):
        assert _cli("ingest-cur", str(path), "--export-id", "cost", "--lake", lake).returncode == 0
    query = _cli(
        "query",
        "SELECT export_id, sum(cost_unblended) AS cost FROM cost_lines GROUP BY 1",
        "--lake",
        lake,
        "--format",
        "json",
    )
    assert [json.loads(line) for line in query.stdout.splitlines()] == [{"export_id": "cost", "cost": "1.2000000000"}]
