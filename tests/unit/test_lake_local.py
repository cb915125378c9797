from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from genai_finops.errors import LakeError
from genai_finops.lake.base import key_segment
from genai_finops.lake.local import LocalLake
from genai_finops.tables import BILL_SUMMARY


def _summary(rows: list[tuple[str, str, int, str]]) -> pa.Table:
    """Build bill_summary rows from (line item type, product code, row count, unblended cost)."""
    count = len(rows)
    return pa.table(
        {
            "source_format": ["cur2"] * count,
            "line_item_type": [row[0] for row in rows],
            "product_code": [row[1] for row in rows],
            "in_genai_scope": [row[1] == "AmazonBedrock" for row in rows],
            "currency": ["USD"] * count,
            "row_count": [row[2] for row in rows],
            "cost_unblended": [Decimal(row[3]) for row in rows],
            "cost_net": [Decimal(row[3]) for row in rows],
            "cost_amortized": [Decimal(row[3]) for row in rows],
        }
    ).cast(BILL_SUMMARY.schema)


def _total(lake: LocalLake, period: str) -> Decimal:
    result = lake.query("SELECT sum(cost_unblended) AS total FROM bill_summary WHERE billing_period = ?", [period])
    value = result.column("total")[0].as_py()
    return Decimal(0) if value is None else value


PARTITION = {"billing_period": "2026-10", "export_id": "main"}


def test_empty_table_queries_as_zero_rows(lake: LocalLake) -> None:
    result = lake.query("SELECT count(*) AS n FROM cost_lines")
    assert result.column("n")[0].as_py() == 0


def test_written_partition_is_queryable_with_partition_columns(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 3, "12.3400000001")]))
    result = lake.query("SELECT billing_period, export_id, cost_unblended FROM bill_summary")
    assert result.to_pylist() == [
        {"billing_period": "2026-10", "export_id": "main", "cost_unblended": Decimal("12.3400000001")}
    ]


def test_republishing_replaces_partition_not_appends(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 3, "10.00")]))
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 4, "7.50")]))
    assert _total(lake, "2026-10") == Decimal("7.50")
    generations = list((lake.root / "tables" / "bill_summary").rglob("g=*"))
    assert len(generations) == 1


def test_other_partitions_are_untouched(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 1, "1.00")]))
    other = {"billing_period": "2026-11", "export_id": "main"}
    lake.write_partition("bill_summary", other, _summary([("Usage", "AmazonBedrock", 1, "2.00")]))
    lake.write_partition("bill_summary", other, _summary([("Credit", "AmazonBedrock", 1, "-2.00")]))
    assert _total(lake, "2026-10") == Decimal("1.00")
    assert _total(lake, "2026-11") == Decimal("-2.00")
    assert lake.partitions("bill_summary") == [PARTITION, other]


def test_failed_write_keeps_previous_partition(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 1, "5.00")]))
    bad = pa.table({"source_format": ["cur2"]})
    with pytest.raises(LakeError, match="missing columns"):
        lake.write_partition("bill_summary", PARTITION, bad)
    assert _total(lake, "2026-10") == Decimal("5.00")


def test_publish_files_moves_them_into_place(lake: LocalLake) -> None:
    staging = lake.staging_dir()
    files = []
    for index, cost in enumerate(["1.25", "2.50"]):
        path = staging / f"chunk-{index}.parquet"
        pq.write_table(_summary([("Usage", "AmazonBedrock", 1, cost)]), path)
        files.append(path)
    lake.publish_partition("bill_summary", PARTITION, files)
    assert _total(lake, "2026-10") == Decimal("3.75")
    assert not any(path.exists() for path in files)


def test_empty_publish_makes_empty_partition(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 1, "5.00")]))
    lake.publish_partition("bill_summary", PARTITION, [])
    assert _total(lake, "2026-10") == Decimal(0)
    assert lake.partitions("bill_summary") == [PARTITION]


def test_drop_partition(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 1, "5.00")]))
    assert lake.drop_partition("bill_summary", PARTITION) is True
    assert lake.drop_partition("bill_summary", PARTITION) is False
    assert lake.partitions("bill_summary") == []


def test_partition_keys_must_match_table(lake: LocalLake) -> None:
    with pytest.raises(LakeError, match="partitioned by"):
        lake.write_partition("bill_summary", {"billing_period": "2026-10"}, _summary([]))


@pytest.mark.parametrize("value", ["", "../x", "a/b", ".."])
def test_partition_values_cannot_escape_table(lake: LocalLake, value: str) -> None:
    with pytest.raises(LakeError, match="invalid partition value"):
        lake.write_partition("bill_summary", {"billing_period": value, "export_id": "main"}, _summary([]))


def test_catalog_is_written_atomically_as_json(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 1, "5.00")]))
    catalog = json.loads((lake.root / "_catalog" / "bill_summary.json").read_text())
    (location,) = catalog["partitions"].values()
    assert location.startswith("tables/bill_summary/billing_period=2026-10/export_id=main/g=")
    assert not list((lake.root / "_catalog").glob("*.tmp"))


def test_trino_sql_is_translated_for_duckdb(lake: LocalLake) -> None:
    result = lake.query("SELECT date_format(from_iso8601_timestamp('2026-10-05T07:00:00Z'), '%Y-%m') AS month")
    assert result.column("month")[0].as_py() == "2026-10"


def test_query_error_is_lake_error(lake: LocalLake) -> None:
    with pytest.raises(LakeError, match="query failed"):
        lake.query("SELECT no_such_column FROM cost_lines")


def test_documents_round_trip_and_list(lake: LocalLake) -> None:
    lake.put_document("state/cur/main/2026-10.json", b'{"delivery": "a"}')
    lake.put_document("state/cur/main/2026-11.json", b'{"delivery": "b"}')
    assert lake.get_document("state/cur/main/2026-10.json") == b'{"delivery": "a"}'
    assert lake.get_document("state/cur/other.json") is None
    assert lake.list_documents("state/cur/main/") == [
        "state/cur/main/2026-10.json",
        "state/cur/main/2026-11.json",
    ]


@pytest.mark.parametrize("key", ["", "../escape", "a/../../b"])
def test_document_keys_cannot_escape_lake(lake: LocalLake, key: str) -> None:
    with pytest.raises(LakeError, match="invalid document key"):
        lake.put_document(key, b"x")


def test_lake_folder_is_created_on_first_write(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path / "new" / "lake")
    lake.write_partition("bill_summary", PARTITION, _summary([]))
    assert (tmp_path / "new" / "lake" / "_catalog" / "bill_summary.json").exists()


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("COPY (SELECT 1) TO '{outside}/copy.csv'", "only SELECT queries"),
        ("SELECT * FROM read_csv('{outside}/secret.csv')", "Permission Error"),
        ("SELECT * FROM glob('{outside}/*')", "Permission Error"),
        ("ATTACH '{outside}/other.db'", "only SELECT queries"),
        ("SELECT 1; SELECT 2", "exactly one SQL statement"),
    ],
)
def test_query_cannot_touch_files_outside_lake(lake: LocalLake, tmp_path: Path, sql: str, message: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("a\n1\n")
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 1, "5.00")]))
    with pytest.raises(LakeError, match=message):
        lake.query_duckdb(sql.format(outside=outside))
    assert not (outside / "copy.csv").exists()
    assert _total(lake, "2026-10") == Decimal("5.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("support", "support"),
        ("growth team", "growth team"),
        ("a/b", "a%2Fb"),
        ("../../etc", "..%2F..%2Fetc"),
        ("..", "%2E%2E"),
        ('=HYPERLINK("http://x")', "=HYPERLINK(%22http:%2F%2Fx%22)"),
        ("équipe", "%C3%A9quipe"),
    ],
)
def test_key_segment_keeps_value_in_one_segment(lake: LocalLake, value: str, expected: str) -> None:
    segment = key_segment(value)
    assert segment == expected
    assert "/" not in segment
    lake.put_document(f"outbox/team={segment}/message.json", b"{}")
    assert lake.list_documents("outbox/") == [f"outbox/team={segment}/message.json"]


def test_corrupt_table_file_gives_lake_error(lake: LocalLake) -> None:
    lake.write_partition("bill_summary", PARTITION, _summary([("Usage", "AmazonBedrock", 3, "10.00")]))
    [file] = (lake.root / "tables" / "bill_summary").rglob("*.parquet")
    file.write_bytes(b"garbage")
    with pytest.raises(LakeError) as raised:
        lake.query_duckdb("SELECT count(*) AS n FROM bill_summary")
    assert "cannot open the lake" in str(raised.value)
    assert str(file) in str(raised.value)
