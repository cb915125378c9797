from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from genai_finops.demo.generator import GeneratedData, generate

END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    return generate(tmp_path_factory.mktemp("demo"), end=END, days=12, scale=0.05, seed=3)


def _log_records(root: Path) -> list[dict[str, object]]:
    records = []
    for path in sorted(root.rglob("*.json.gz")):
        if "/data/" in path.as_posix():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return records


def test_export_layout_and_manifest(generated: GeneratedData) -> None:
    export = generated.billing_root / "cur2" / "org-cur2-hourly"
    for period in ("2026-10",):
        manifest_path = export / "metadata" / f"BILLING_PERIOD={period}" / "org-cur2-hourly-Manifest.json"
        manifest = json.loads(manifest_path.read_text())
        assert manifest["executionId"]
        (data_file,) = manifest["dataFiles"]
        assert data_file.startswith("s3://demo-billing-exports/cur2/org-cur2-hourly/data/BILLING_PERIOD=2026-10/")
        assert (export / "data" / f"BILLING_PERIOD={period}" / data_file.rsplit("/", 1)[-1]).is_file()


def test_earlier_delivery_is_restated_by_final(generated: GeneratedData) -> None:
    early = next(generated.earlier_billing_root.rglob("*.parquet"))
    final = next((generated.billing_root / "cur2").rglob("BILLING_PERIOD=2026-10/*.parquet"))
    query = "SELECT max(line_item_usage_start_date), sum(line_item_unblended_cost) FROM read_parquet('{}')"
    early_end, early_cost = duckdb.sql(query.format(early)).fetchall()[0]
    final_end, final_cost = duckdb.sql(query.format(final)).fetchall()[0]
    assert early_end < final_end
    assert 0 < early_cost < final_cost


def test_bill_tokens_match_logged_tokens(generated: GeneratedData) -> None:
    records = _log_records(generated.logs_root)
    # The last record of a request id is the complete one (streaming writes a zero-count record first).
    by_request = {r["requestId"]: r for r in records}
    logged = {
        "input": sum(int(r["input"]["inputTokenCount"]) for r in by_request.values()),  # type: ignore[index]
        "output": sum(int(r["output"]["outputTokenCount"]) for r in by_request.values()),  # type: ignore[index]
        "cache_read": sum(int(r["input"].get("cacheReadInputTokenCount", 0)) for r in by_request.values()),  # type: ignore[union-attr]
    }
    part = next((generated.billing_root / "cur2").rglob("BILLING_PERIOD=2026-10/*.parquet"))
    billed = duckdb.sql(
        f"""SELECT
              sum(tokens) FILTER (WHERE usage LIKE '%input-tokens%' OR usage LIKE '%InputTokenCount%') AS input,
              sum(tokens) FILTER (WHERE usage LIKE '%output-tokens%' OR usage LIKE '%OutputTokenCount%') AS output,
              sum(tokens) FILTER (WHERE usage LIKE '%cache-read%') AS cache_read
            FROM (
              SELECT line_item_usage_type AS usage,
                     line_item_usage_amount * CASE pricing_unit WHEN 'Units' THEN 1000000 ELSE 1000 END AS tokens
              FROM read_parquet('{part}')
              WHERE line_item_usage_type NOT LIKE '%mantle%' AND line_item_usage_type NOT LIKE '%-batch'
                AND product_region_code IN ('us-east-1', 'eu-central-1')
                AND line_item_line_item_type = 'Usage'
            )"""
    ).fetchall()[0]
    assert round(billed[0]) == logged["input"]
    assert round(billed[1]) == logged["output"]
    assert round(billed[2]) == logged["cache_read"]


def test_logs_carry_bodies_and_odd_records(generated: GeneratedData) -> None:
    records = _log_records(generated.logs_root)
    assert any("inputBodyJson" in r["input"] for r in records)  # type: ignore[operator]
    request_ids = [r["requestId"] for r in records]
    assert len(request_ids) > len(set(request_ids)), "expected streaming duplicates"
    assert any(r.get("errorCode") == "ThrottlingException" for r in records)
    assert any(str(r["modelId"]).startswith("arn:aws:bedrock:") for r in records)
    marker = list(generated.logs_root.rglob("amazon-bedrock-logs-permission-check"))
    assert marker


def test_bill_has_deliberate_gaps_and_credits(generated: GeneratedData) -> None:
    part = next((generated.billing_root / "cur2").rglob("BILLING_PERIOD=2026-10/*.parquet"))
    rows = duckdb.sql(
        f"""SELECT
              count(*) FILTER (WHERE line_item_usage_type LIKE '%mantle%') AS mantle,
              count(*) FILTER (WHERE product_region_code = 'us-west-2') AS unlogged_region,
              count(*) FILTER (WHERE line_item_line_item_type = 'Credit') AS credits,
              count(*) FILTER (WHERE bill_billing_entity = 'AWS Marketplace') AS marketplace,
              count(*) FILTER (WHERE line_item_usage_type LIKE '%Guardrail%') AS guardrail
            FROM read_parquet('{part}')"""
    ).fetchall()[0]
    assert rows is not None
    assert all(count > 0 for count in rows)


def test_expected_totals_match_files(generated: GeneratedData) -> None:
    expected = json.loads(generated.expected_file.read_text())
    part = next((generated.billing_root / "cur2").rglob("BILLING_PERIOD=2026-10/*.parquet"))
    total = duckdb.sql(
        f"SELECT sum(CAST(line_item_unblended_cost AS DECIMAL(38,10))) FROM read_parquet('{part}')"
    ).fetchall()[0]
    assert total is not None
    assert total[0] == Decimal(expected["periods"]["2026-10"]["total_unblended"])


def test_same_seed_gives_same_bill(tmp_path: Path, generated: GeneratedData) -> None:
    again = generate(tmp_path / "again", end=END, days=12, scale=0.05, seed=3)
    assert (
        json.loads(again.expected_file.read_text())["periods"]
        == json.loads(generated.expected_file.read_text())["periods"]
    )
