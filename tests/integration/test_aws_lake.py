"""AwsLake against moto S3 and Glue: publishing, the partition swap, documents and query parameters.

Athena cannot run SQL under moto, so the query tests check what AwsLake sends (workgroup, database,
execution parameters) and how it converts the result, with awswrangler's reader replaced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from genai_finops.errors import ConfigError, LakeError
from genai_finops.lake.aws import AwsLake, athena_literal, athena_type, referenced_tables, split_s3_uri
from genai_finops.settings import Settings
from genai_finops.tables import BILL_SUMMARY, COST_LINES, INFERENCE_PROFILES, INVOCATIONS

from .conftest import DATABASE, LAKE_BUCKET, WORKGROUP

PARTITION = {"billing_period": "2026-10", "export_id": "main"}

pytestmark = pytest.mark.integration


def _summary(row_count: int, cost: str) -> pa.Table:
    return pa.table(
        {
            "source_format": ["cur2"],
            "line_item_type": ["Usage"],
            "product_code": ["AmazonBedrock"],
            "in_genai_scope": [True],
            "currency": ["USD"],
            "row_count": [row_count],
            "cost_unblended": [Decimal(cost)],
            "cost_net": [Decimal(cost)],
            "cost_amortized": [Decimal(cost)],
        }
    ).cast(BILL_SUMMARY.schema)


def _widen(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """Return rows with every other column of ``schema`` added as nulls."""
    columns = {
        field.name: rows.column(field.name) if field.name in rows.column_names else pa.nulls(rows.num_rows, field.type)
        for field in schema
    }
    return pa.table(columns).cast(schema)


def _keys(session: boto3.Session, prefix: str) -> list[str]:
    response = session.client("s3").list_objects_v2(Bucket=LAKE_BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in response.get("Contents", []))


def _partition_location(session: boto3.Session, table: str, values: list[str]) -> str:
    response = session.client("glue").get_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=values)
    return str(response["Partition"]["StorageDescriptor"]["Location"])


def _read_location(session: boto3.Session, location: str, tmp_path: Path) -> pa.Table:
    prefix = location.removeprefix(f"s3://{LAKE_BUCKET}/")
    tables = []
    for index, key in enumerate(_keys(session, prefix)):
        target = tmp_path / f"read-{index}.parquet"
        session.client("s3").download_file(LAKE_BUCKET, key, str(target))
        tables.append(pq.read_table(target))
    return pa.concat_tables(tables)


# -- type mapping and parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrow_type", "expected"),
    [
        (pa.string(), "string"),
        (pa.int64(), "bigint"),
        (pa.int32(), "int"),
        (pa.float64(), "double"),
        (pa.bool_(), "boolean"),
        (pa.decimal128(38, 10), "decimal(38,10)"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.date32(), "date"),
        (pa.map_(pa.string(), pa.string()), "map<string,string>"),
        (pa.list_(pa.string()), "array<string>"),
        (pa.struct([("a", pa.int64()), ("b", pa.string())]), "struct<a:bigint,b:string>"),
    ],
)
def test_athena_type_of_arrow_type(arrow_type: pa.DataType, expected: str) -> None:
    assert athena_type(arrow_type) == expected


def test_athena_type_rejects_unmapped_type() -> None:
    with pytest.raises(LakeError, match="no Athena equivalent"):
        athena_type(pa.duration("s"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "NULL"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (Decimal("12.3400000001"), "DECIMAL '12.3400000001'"),
        (1.5, "DOUBLE '1.5'"),
        ("2026-10", "'2026-10'"),
        ("O'Brien", "'O''Brien'"),
        (date(2026, 10, 1), "CAST('2026-10-01' AS DATE)"),
        (datetime(2026, 10, 1, 12, 30, tzinfo=UTC), "CAST('2026-10-01 12:30:00.000000' AS TIMESTAMP)"),
    ],
)
def test_athena_literal_of_parameter(value: Any, expected: str) -> None:
    assert athena_literal(value) == expected


def test_athena_literal_rejects_unsupported_values() -> None:
    with pytest.raises(LakeError, match="not supported"):
        athena_literal(object())
    with pytest.raises(LakeError, match="not a finite number"):
        athena_literal(float("nan"))


def test_split_s3_uri_checks_form() -> None:
    assert split_s3_uri("s3://bucket/config/governance.yaml") == ("bucket", "config/governance.yaml")
    with pytest.raises(ConfigError, match="expected s3://bucket/key"):
        split_s3_uri("https://bucket/key")


def test_from_settings_names_missing_variables() -> None:
    settings = Settings(runtime="aws", lake_bucket="lake")
    with pytest.raises(ConfigError, match="GENAI_FINOPS_GLUE_DATABASE, GENAI_FINOPS_ATHENA_WORKGROUP"):
        AwsLake.from_settings(settings)


# -- publishing -----------------------------------------------------------------------------------


def test_publish_creates_glue_table_from_registry(aws: boto3.Session, aws_lake: AwsLake) -> None:
    aws_lake.write_partition("cost_lines", PARTITION, COST_LINES.schema.empty_table())
    table = aws.client("glue").get_table(DatabaseName=DATABASE, Name="cost_lines")["Table"]
    columns = {column["Name"]: column["Type"] for column in table["StorageDescriptor"]["Columns"]}
    assert [key["Name"] for key in table["PartitionKeys"]] == ["billing_period", "export_id"]
    assert {key["Type"] for key in table["PartitionKeys"]} == {"string"}
    assert columns["cost_unblended"] == "decimal(38,10)"
    assert columns["usage_start"] == "timestamp"
    assert columns["tags"] == "map<string,string>"
    assert list(columns) == COST_LINES.schema.names
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert table["StorageDescriptor"]["Location"] == f"s3://{LAKE_BUCKET}/tables/cost_lines/"


def test_publish_registers_partition_at_generation_prefix(
    aws: boto3.Session, aws_lake: AwsLake, tmp_path: Path
) -> None:
    aws_lake.write_partition("bill_summary", PARTITION, _summary(3, "12.3400000001"))
    location = _partition_location(aws, "bill_summary", ["2026-10", "main"])
    assert location.startswith(f"s3://{LAKE_BUCKET}/tables/bill_summary/billing_period=2026-10/export_id=main/g=")
    data = _read_location(aws, location, tmp_path)
    assert data.column("cost_unblended").to_pylist() == [Decimal("12.3400000001")]
    assert aws_lake.partitions("bill_summary") == [PARTITION]


def test_republish_swaps_location_and_deletes_old_generation(
    aws: boto3.Session, aws_lake: AwsLake, tmp_path: Path
) -> None:
    aws_lake.write_partition("bill_summary", PARTITION, _summary(3, "10.00"))
    first = _partition_location(aws, "bill_summary", ["2026-10", "main"])
    aws_lake.write_partition("bill_summary", PARTITION, _summary(4, "7.50"))
    second = _partition_location(aws, "bill_summary", ["2026-10", "main"])

    assert second != first
    assert _keys(aws, first.removeprefix(f"s3://{LAKE_BUCKET}/")) == []
    assert _read_location(aws, second, tmp_path).column("row_count").to_pylist() == [4]
    assert len(_keys(aws, "tables/bill_summary/")) == 1


def test_publish_leaves_other_partitions_alone(aws: boto3.Session, aws_lake: AwsLake) -> None:
    other = {"billing_period": "2026-09", "export_id": "main"}
    aws_lake.write_partition("bill_summary", other, _summary(1, "1.00"))
    kept = _partition_location(aws, "bill_summary", ["2026-09", "main"])
    aws_lake.write_partition("bill_summary", PARTITION, _summary(2, "2.00"))
    aws_lake.write_partition("bill_summary", PARTITION, _summary(3, "3.00"))
    assert _partition_location(aws, "bill_summary", ["2026-09", "main"]) == kept
    assert aws_lake.partitions("bill_summary") == [other, PARTITION]


def test_publish_of_no_files_registers_empty_partition(aws: boto3.Session, aws_lake: AwsLake) -> None:
    aws_lake.publish_partition("bill_summary", PARTITION, [])
    assert aws_lake.partitions("bill_summary") == [PARTITION]
    location = _partition_location(aws, "bill_summary", ["2026-10", "main"])
    assert _keys(aws, location.removeprefix(f"s3://{LAKE_BUCKET}/")) == []


def test_publish_removes_local_staged_files(aws_lake: AwsLake) -> None:
    staging = aws_lake.staging_dir()
    file = staging / "summary.parquet"
    pq.write_table(_summary(1, "1.00"), file)
    aws_lake.publish_partition("bill_summary", PARTITION, [file])
    assert not file.exists()


def test_publish_rejects_wrong_partition_keys(aws_lake: AwsLake) -> None:
    with pytest.raises(LakeError, match="partitioned by"):
        aws_lake.write_partition("bill_summary", {"billing_period": "2026-10"}, _summary(1, "1.00"))


def test_unpartitioned_table_moves_table_location(aws: boto3.Session, aws_lake: AwsLake, tmp_path: Path) -> None:
    rows = INFERENCE_PROFILES.schema.empty_table()
    aws_lake.write_partition("inference_profiles", {}, rows)
    glue = aws.client("glue")
    first = glue.get_table(DatabaseName=DATABASE, Name="inference_profiles")["Table"]["StorageDescriptor"]["Location"]
    aws_lake.write_partition("inference_profiles", {}, rows)
    second = glue.get_table(DatabaseName=DATABASE, Name="inference_profiles")["Table"]["StorageDescriptor"]["Location"]

    assert first != second
    assert second.startswith(f"s3://{LAKE_BUCKET}/tables/inference_profiles/g=")
    assert _keys(aws, first.removeprefix(f"s3://{LAKE_BUCKET}/")) == []
    assert aws_lake.partitions("inference_profiles") == [{}]


def test_changed_registry_columns_update_glue_table(aws: boto3.Session, aws_lake: AwsLake) -> None:
    glue = aws.client("glue")
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": "invocations",
            "PartitionKeys": [{"Name": "date", "Type": "string"}],
            "StorageDescriptor": {"Columns": [{"Name": "request_id", "Type": "string"}], "Location": "s3://x/"},
        },
    )
    aws_lake.write_partition("invocations", {"date": "2026-10-01"}, INVOCATIONS.schema.empty_table())
    table = glue.get_table(DatabaseName=DATABASE, Name="invocations")["Table"]
    assert [column["Name"] for column in table["StorageDescriptor"]["Columns"]] == INVOCATIONS.schema.names


def test_drop_partition_deletes_catalog_entry_and_objects(aws: boto3.Session, aws_lake: AwsLake) -> None:
    aws_lake.write_partition("bill_summary", PARTITION, _summary(1, "1.00"))
    assert aws_lake.drop_partition("bill_summary", PARTITION) is True
    assert aws_lake.partitions("bill_summary") == []
    assert _keys(aws, "tables/bill_summary/") == []
    assert aws_lake.drop_partition("bill_summary", PARTITION) is False


def test_partitions_of_missing_table_is_empty(aws_lake: AwsLake) -> None:
    assert aws_lake.partitions("cost_lines") == []
    assert aws_lake.partitions("inference_profiles") == []


def test_missing_bucket_raises_lake_error(aws: boto3.Session, tmp_path: Path) -> None:
    lake = AwsLake("no-such-bucket", DATABASE, WORKGROUP, session=aws, scratch_dir=tmp_path)
    with pytest.raises(LakeError, match="no-such-bucket"):
        lake.write_partition("bill_summary", PARTITION, _summary(1, "1.00"))
    with pytest.raises(LakeError, match="no-such-bucket"):
        lake.put_document("reports/a.json", b"{}")


# -- documents ------------------------------------------------------------------------------------


def test_documents_round_trip_under_documents_prefix(aws: boto3.Session, aws_lake: AwsLake) -> None:
    aws_lake.put_document("reports/2026-10/run.json", b'{"ok": true}')
    aws_lake.put_document("outbox/team-a/1.json", b"{}")
    assert aws_lake.get_document("reports/2026-10/run.json") == b'{"ok": true}'
    assert aws_lake.get_document("reports/missing.json") is None
    assert aws_lake.list_documents("reports/") == ["reports/2026-10/run.json"]
    assert aws_lake.list_documents("") == ["outbox/team-a/1.json", "reports/2026-10/run.json"]
    assert _keys(aws, "documents/") == ["documents/outbox/team-a/1.json", "documents/reports/2026-10/run.json"]


def test_document_key_rejects_parent_references(aws_lake: AwsLake) -> None:
    with pytest.raises(LakeError, match="invalid document key"):
        aws_lake.put_document("../escape", b"")


# -- query ----------------------------------------------------------------------------------------


def test_query_sends_workgroup_and_execution_parameters(aws_lake: AwsLake, monkeypatch: pytest.MonkeyPatch) -> None:
    import awswrangler as wr

    calls: list[dict[str, Any]] = []

    def fake_read_sql_query(sql: str, **kwargs: Any) -> pd.DataFrame:
        calls.append({"sql": sql, **kwargs})
        return pd.DataFrame({"total": pd.array([Decimal("1.25")], dtype=pd.ArrowDtype(pa.decimal128(38, 10)))})

    monkeypatch.setattr(wr.athena, "read_sql_query", fake_read_sql_query)
    sql = "SELECT sum(cost_net) AS total FROM cost_lines WHERE billing_period = ? AND x > ?"
    result = aws_lake.query(sql, ["2026-10", 3])

    assert len(calls) == 1
    call = calls[0]
    assert call["sql"] == sql
    assert call["workgroup"] == WORKGROUP
    assert call["database"] == DATABASE
    assert call["params"] == ["'2026-10'", "3"]
    assert call["paramstyle"] == "qmark"
    assert call["ctas_approach"] is False
    assert result.schema.field("total").type == pa.decimal128(38, 10)
    assert result.column("total").to_pylist() == [Decimal("1.25")]


def test_query_without_parameters_sends_none(aws_lake: AwsLake, monkeypatch: pytest.MonkeyPatch) -> None:
    import awswrangler as wr

    sent: list[Any] = []

    def fake_read_sql_query(sql: str, **kwargs: Any) -> pd.DataFrame:
        sent.append(kwargs["params"])
        return pd.DataFrame({"n": [1]})

    monkeypatch.setattr(wr.athena, "read_sql_query", fake_read_sql_query)
    aws_lake.query("SELECT 1 AS n")
    assert sent == [None]


def test_query_failure_becomes_lake_error(aws_lake: AwsLake, monkeypatch: pytest.MonkeyPatch) -> None:
    import awswrangler as wr

    def failing_read_sql_query(sql: str, **kwargs: Any) -> pd.DataFrame:
        raise wr.exceptions.QueryFailed("SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved")

    monkeypatch.setattr(wr.athena, "read_sql_query", failing_read_sql_query)
    with pytest.raises(LakeError, match="cannot be resolved") as raised:
        aws_lake.query("SELECT x FROM cost_lines")
    assert isinstance(raised.value.__cause__, wr.exceptions.QueryFailed)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM cost_lines", {"cost_lines"}),
        (
            "WITH recent AS (SELECT * FROM invocations) SELECT * FROM recent JOIN inference_profiles p ON true",
            {"invocations", "inference_profiles"},
        ),
        ("SELECT count(*) FROM (SELECT request_id FROM invocations WHERE date IN (?, ?))", {"invocations"}),
    ],
)
def test_referenced_tables_skips_ctes(sql: str, expected: set[str]) -> None:
    assert referenced_tables(sql) == expected


def test_query_creates_missing_tables_empty(
    aws: boto3.Session, aws_lake: AwsLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import awswrangler as wr

    monkeypatch.setattr(wr.athena, "read_sql_query", lambda sql, **kwargs: pd.DataFrame({"n": [0]}))
    aws_lake.query("SELECT count(*) AS n FROM ingest_runs JOIN inference_profiles ON true")

    glue = aws.client("glue")
    for name in ("ingest_runs", "inference_profiles"):
        table = glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]
        assert table["StorageDescriptor"]["Location"] == f"s3://{LAKE_BUCKET}/tables/{name}/"
    assert aws_lake.partitions("ingest_runs") == []
    assert aws_lake.partitions("inference_profiles") == []


def test_publish_after_empty_table_keeps_new_data(
    aws: boto3.Session, aws_lake: AwsLake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import awswrangler as wr

    monkeypatch.setattr(wr.athena, "read_sql_query", lambda sql, **kwargs: pd.DataFrame({"n": [0]}))
    aws_lake.query("SELECT count(*) AS n FROM inference_profiles")
    rows = pa.table({"profile_id": ["arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/p1"]})
    aws_lake.write_partition("inference_profiles", {}, _widen(rows, INFERENCE_PROFILES.schema))

    location = aws.client("glue").get_table(DatabaseName=DATABASE, Name="inference_profiles")["Table"]
    data = _read_location(aws, location["StorageDescriptor"]["Location"], tmp_path)
    assert data.column("profile_id").to_pylist() == rows.column("profile_id").to_pylist()
    assert aws_lake.partitions("inference_profiles") == [{}]


def test_query_reaches_athena_in_workgroup(aws: boto3.Session, aws_lake: AwsLake) -> None:
    """Under moto the query starts in the workgroup; moto writes no result file, so reading it fails."""
    with pytest.raises(LakeError):
        aws_lake.query("SELECT 1 AS n WHERE 1 = ?", [1])
    executions = aws.client("athena").list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    assert len(executions) == 1
    execution = aws.client("athena").get_query_execution(QueryExecutionId=executions[0])["QueryExecution"]
    assert execution["QueryExecutionContext"]["Database"] == DATABASE
    assert execution["ExecutionParameters"] == ["1"]
