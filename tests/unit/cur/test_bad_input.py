"""Bad input fails its delivery with file and line, and never damages data already loaded."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from genai_finops.errors import InputError
from genai_finops.lake.local import LocalLake

from .builders import LEGACY_COLUMNS, cost_lines, cur2_parquet, cur2_row, ingest, legacy_row, write_csv


@pytest.fixture
def loaded(lake: LocalLake, tmp_path: Path) -> LocalLake:
    """A lake holding one good October line of export 'cost'."""
    ingest(lake, write_csv(tmp_path / "good.csv", [legacy_row(cost="4.00")]), export_id="cost")
    return lake


def _assert_untouched(lake: LocalLake) -> None:
    [line] = cost_lines(lake)
    assert line["cost_unblended"] == Decimal("4.00")


def test_header_only_file_loads_zero_rows(lake: LocalLake, tmp_path: Path) -> None:
    [report] = ingest(lake, write_csv(tmp_path / "empty.csv", []))
    assert report.periods == []
    assert cost_lines(lake) == []


def test_ragged_row_names_file_and_line(loaded: LocalLake, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [legacy_row(id="1"), legacy_row(id="2")])
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        ingest(loaded, path, export_id="cost")
    assert str(path) in str(caught.value)
    assert caught.value.line == 3
    _assert_untouched(loaded)


def test_bad_number_names_column_and_line(loaded: LocalLake, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [legacy_row(id="1"), legacy_row(id="2", cost="12,5x")])
    with pytest.raises(InputError) as caught:
        ingest(loaded, path, export_id="cost")
    message = str(caught.value)
    assert caught.value.line == 3
    assert "lineItem/UnblendedCost" in message
    assert "12,5x" in message
    _assert_untouched(loaded)


def test_bad_date_names_column_and_line(loaded: LocalLake, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [legacy_row(start="yesterday")])
    with pytest.raises(InputError) as caught:
        ingest(loaded, path, export_id="cost")
    assert caught.value.line == 2
    assert "lineItem/UsageStartDate" in str(caught.value)
    _assert_untouched(loaded)


def test_corrupt_gzip_fails_delivery(loaded: LocalLake, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    whole = gzip.compress(("\n".join([",".join(LEGACY_COLUMNS)] * 2000)).encode())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="corrupt gzip"):
        ingest(loaded, path, export_id="cost")
    _assert_untouched(loaded)


def test_corrupt_parquet_fails_delivery(loaded: LocalLake, tmp_path: Path) -> None:
    good = cur2_parquet(tmp_path / "x.parquet", [cur2_row()])
    data = good.read_bytes()
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(data[:4] + data[len(data) // 2 :])
    with pytest.raises(InputError, match="corrupt Parquet"):
        ingest(loaded, bad, export_id="cost")
    _assert_untouched(loaded)


def test_failed_delivery_is_recorded(loaded: LocalLake, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [legacy_row(cost="x")])
    with pytest.raises(InputError):
        ingest(loaded, path, export_id="cost")
    runs = loaded.query_duckdb("SELECT status, message FROM ingest_runs ORDER BY started_at").to_pylist()
    assert runs[-1]["status"] == "failed"
    assert str(path) in runs[-1]["message"]


def test_missing_optional_columns_warn_and_total(lake: LocalLake, tmp_path: Path) -> None:
    columns = [name for name in LEGACY_COLUMNS if name != "lineItem/ResourceId"]
    row = legacy_row(cost="1.10")
    del row["lineItem/ResourceId"]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", [row], columns))
    assert report.periods[0].read.unblended == Decimal("1.10")
    assert any("resource_id" in warning and "tags" in warning for warning in report.warnings)


def test_rows_without_period_or_cost_are_quarantined(lake: LocalLake, tmp_path: Path) -> None:
    rows = [
        legacy_row(id="ok", cost="1.00"),
        legacy_row(id="nocost", cost=""),
        legacy_row(id="noperiod", period_start="", start="", cost="2.00"),
    ]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    periods = {period.billing_period: period for period in report.periods}
    assert periods["2026-10"].quarantined.rows == 1
    assert periods["__none__"].quarantined.rows == 1
    assert periods["__none__"].quarantined.unblended == Decimal("2.00")
    assert all(period.balances() for period in report.periods)
    assert len(cost_lines(lake)) == 1


def test_tag_keys_differing_in_case_merge_with_warning(lake: LocalLake, tmp_path: Path) -> None:
    rows = [
        legacy_row(id="1", **{"resourceTags/user:Team": "upper", "resourceTags/user:team": ""}),
        legacy_row(id="2", **{"resourceTags/user:Team": "upper", "resourceTags/user:team": "lower"}),
    ]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    assert [line["team"] for line in cost_lines(lake)] == ["upper", "lower"]
    assert any("differing only in case" in warning for warning in report.warnings)


def test_reconciliation_mismatch_publishes_nothing(
    loaded: LocalLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genai_finops.cur import ingest as ingest_module
    from genai_finops.errors import ReconciliationError

    monkeypatch.setattr(ingest_module, "read_totals_sql", lambda plan: "SELECT 2, CAST(9.99 AS DECIMAL(38,10))")
    path = write_csv(tmp_path / "new.csv", [legacy_row(cost="7.00")])
    with pytest.raises(ReconciliationError, match="read 2 rows"):
        ingest(loaded, path, export_id="cost")
    _assert_untouched(loaded)
    runs = loaded.query_duckdb("SELECT status FROM ingest_runs ORDER BY started_at").to_pylist()
    assert runs[-1]["status"] == "failed"


def test_lines_without_period_are_recorded(lake: LocalLake, tmp_path: Path) -> None:
    rows = [legacy_row(period_start="", start="", cost="2.00")]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    assert [period.status for period in report.periods] == ["quarantined"]
    assert any("quarantined  1 rows, unblended 2.00" in line for line in report.summary_lines())
    runs = lake.query_duckdb("SELECT status, rows_quarantined, cost_quarantined FROM ingest_runs")
    assert runs.to_pylist() == [{"status": "quarantined", "rows_quarantined": 1, "cost_quarantined": Decimal("2.00")}]


def test_genai_lines_in_other_currency_fail(loaded: LocalLake, tmp_path: Path) -> None:
    rows = [
        cur2_row(line_item_line_item_id="usd"),
        cur2_row(line_item_line_item_id="eur", line_item_currency_code="EUR"),
    ]
    with pytest.raises(InputError) as caught:
        ingest(loaded, cur2_parquet(tmp_path / "mixed.parquet", rows), export_id="cost")
    message = str(caught.value)
    assert "EUR, USD" in message
    assert "currency" in message
    _assert_untouched(loaded)


def test_other_currency_out_of_scope_is_kept(lake: LocalLake, tmp_path: Path) -> None:
    ec2 = {"line_item_product_code": "AmazonEC2", "line_item_usage_type": "BoxUsage"}
    rows = [cur2_row(line_item_currency_code="NOK", **ec2)]
    [report] = ingest(lake, cur2_parquet(tmp_path / "nok.parquet", rows))
    [period] = report.periods
    assert period.out_of_scope.rows == 1
    summary = lake.query("SELECT currency FROM bill_summary").column("currency").to_pylist()
    assert summary == ["NOK"]


def test_corrupt_parquet_page_names_file(loaded: LocalLake, tmp_path: Path) -> None:
    rows = [cur2_row(line_item_line_item_id=f"id-{i}", line_item_usage_amount=i * 1.7) for i in range(3000)]
    path = cur2_parquet(tmp_path / "part.parquet", rows)
    # Compressed pages fail to decompress when damaged; plain pages would decode to wrong values unnoticed.
    pq.write_table(pq.read_table(path), path, compression="snappy")
    data = bytearray(path.read_bytes())
    # Zero a stretch of column pages; the footer at the end of the file stays readable.
    start = len(data) // 4
    data[start : start + len(data) // 4] = bytes(len(data) // 4)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        ingest(loaded, path, export_id="cost")
    assert str(path) in str(caught.value)
    _assert_untouched(loaded)


@pytest.mark.parametrize("column", ["identity/LineItemId", "lineItem/Operation"], ids=["unused", "used"])
def test_invalid_utf8_names_file_and_line(loaded: LocalLake, tmp_path: Path, column: str) -> None:
    # The conversion writes only the columns normalising reads, but a bad byte in any column still fails.
    path = write_csv(tmp_path / "bad.csv", [legacy_row(id="1"), legacy_row(id="2", **{column: "MARK"})])
    path.write_bytes(path.read_bytes().replace(b"MARK", b"\xff\xfe"))
    with pytest.raises(InputError) as caught:
        ingest(loaded, path, export_id="cost")
    assert str(path) in str(caught.value)
    assert "malformed CSV row" in str(caught.value)
    assert caught.value.line == 3
    _assert_untouched(loaded)


@pytest.mark.parametrize("amount", [float("inf"), float("nan")])
def test_non_finite_usage_amount_names_line(lake: LocalLake, tmp_path: Path, amount: float) -> None:
    # Parquet rows are numbered from 1, so the second row is line 2.
    rows = [cur2_row(), cur2_row(line_item_usage_amount=amount)]
    with pytest.raises(InputError) as raised:
        ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    assert raised.value.line == 2
    assert "invalid usage amount" in str(raised.value)
    assert "line_item_usage_amount" in str(raised.value)
    assert cost_lines(lake) == []


def test_csv_infinite_usage_amount_rejected(loaded: LocalLake, tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        ingest(loaded, write_csv(tmp_path / "cost.csv", [legacy_row(amount="inf")]))
    assert raised.value.line == 2
    assert "invalid usage amount 'inf' in column 'lineItem/UsageAmount'" in str(raised.value)
    _assert_untouched(loaded)


def test_nan_cost_names_line_and_column(lake: LocalLake, tmp_path: Path) -> None:
    rows = [cur2_row(), cur2_row(line_item_unblended_cost=float("nan"))]
    with pytest.raises(InputError) as raised:
        ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    assert raised.value.line == 2
    assert "line_item_unblended_cost" in str(raised.value)
    assert cost_lines(lake) == []
