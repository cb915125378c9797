"""Each export format and encoding lands in cost_lines with the same columns and values."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from genai_finops.config import parse_config
from genai_finops.errors import InputError
from genai_finops.invocations import LocalUserKey
from genai_finops.lake.local import LocalLake
from genai_finops.principals import mask_principal

from .builders import (
    cost_lines,
    cur2_csv_gz,
    cur2_parquet,
    cur2_row,
    focus_columns,
    focus_row,
    ingest,
    legacy_row,
    snake_legacy_parquet,
    write_csv,
)


def _legacy_rows() -> list[dict[str, str]]:
    return [
        legacy_row(id="a", cost="0.30", amount="100", **{"resourceTags/user:Team": "search"}),
        legacy_row(id="b", usage_type="USE1-Claude4.6Sonnet-output-tokens", cost="1.50", amount="100"),
        legacy_row(id="c", product="AmazonEC2", usage_type="BoxUsage:m5.large", cost="2.00", unit="Hrs"),
    ]


@pytest.mark.parametrize("name", ["cur.csv", "cur.csv.gz", "cur.csv.zip"])
def test_legacy_csv_encodings_load_same_lines(lake: LocalLake, tmp_path: Path, name: str) -> None:
    [report] = ingest(lake, write_csv(tmp_path / name, _legacy_rows()))
    [period] = report.periods
    assert period.billing_period == "2026-10"
    assert period.source_formats == ["cur-legacy"]
    assert period.read.rows == 3
    assert period.read.unblended == Decimal("3.80")
    assert period.in_scope.rows == 2
    assert period.in_scope.unblended == Decimal("1.80")
    assert period.out_of_scope.unblended == Decimal("2.00")
    lines = cost_lines(lake)
    assert [line["usage_type"] for line in lines] == [
        "USE1-Claude4.6Sonnet-input-tokens",
        "USE1-Claude4.6Sonnet-output-tokens",
    ]
    assert [line["source_line"] for line in lines] == [2, 3]


def test_legacy_snake_case_parquet_loads(lake: LocalLake, tmp_path: Path) -> None:
    [report] = ingest(lake, snake_legacy_parquet(tmp_path / "cur.parquet", _legacy_rows()))
    [period] = report.periods
    assert period.source_formats == ["cur-legacy"]
    assert period.in_scope.unblended == Decimal("1.80")
    first = cost_lines(lake)[0]
    assert first["team"] == "search"
    assert first["source_line"] == 1


def test_legacy_line_fields_are_normalised(lake: LocalLake, tmp_path: Path) -> None:
    ingest(lake, write_csv(tmp_path / "cur.csv", _legacy_rows()))
    line = cost_lines(lake)[0]
    assert line["payer_account_id"] == "000111222333"
    assert line["usage_account_id"] == "012345678901"
    assert line["model"] == "Claude4.6Sonnet"
    assert line["token_class"] == "input"
    assert line["tier"] == "standard"
    assert line["route"] == "in_region"
    assert line["usage_family"] == "model-inference"
    assert line["tokens"] == 100_000.0
    assert line["region"] == "us-east-1"
    assert line["cost_unblended"] == Decimal("0.30")
    assert line["currency"] == "USD"
    assert line["usage_start"].isoformat() == "2026-10-05T10:00:00+00:00"
    assert line["tags"] == {"team": "search"}


def test_cur2_parquet_maps_and_principal(lake: LocalLake, tmp_path: Path) -> None:
    rows = [
        cur2_row(
            line_item_resource_id="arn:aws:bedrock:us-east-1:012345678901:application-inference-profile/prof123",
            line_item_iam_principal="arn:aws:sts::012345678901:assumed-role/ChatBackend/session-42",
            resource_tags={"user_team": "search", "user_environment": "Production"},
            tags={"iamPrincipal/project": "alpha", "accountTag/owner": "platform", "user_feature": "chat"},
        ),
        cur2_row(line_item_product_code="AmazonS3", line_item_usage_type="TimedStorage-ByteHrs", pricing_unit="GB-Mo"),
    ]
    [report] = ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    assert report.periods[0].source_formats == ["cur2"]
    [line] = cost_lines(lake)
    assert line["inference_profile_id"] == (
        "arn:aws:bedrock:us-east-1:012345678901:application-inference-profile/prof123"
    )
    assert line["iam_role"] == "ChatBackend"
    assert line["team"] == "search"
    assert line["environment"] == "prod"
    assert line["feature"] == "chat"
    assert line["principal_tags"] == {"project": "alpha"}
    assert line["account_tags"] == {"owner": "platform"}
    assert line["product_name"] == "Amazon Bedrock"


def test_cur2_csv_gz_reads_json_maps(lake: LocalLake, tmp_path: Path) -> None:
    rows = [cur2_row(resource_tags={"user_team": "search"}, product={"product_name": "Amazon Bedrock"})]
    [report] = ingest(lake, cur2_csv_gz(tmp_path / "cur2.csv.gz", rows))
    assert report.periods[0].source_formats == ["cur2"]
    [line] = cost_lines(lake)
    assert line["team"] == "search"
    assert line["cost_unblended"] == Decimal("0.3")


@pytest.mark.parametrize("version", ["1.0", "1.2"])
def test_focus_versions_load(lake: LocalLake, tmp_path: Path, version: str) -> None:
    rows = [
        focus_row(version, Tags='{"user:Team": "search", "application": "chat"}'),
        focus_row(version, x_ServiceCode="AmazonEC2", ServiceName="Amazon EC2", BilledCost="2", EffectiveCost="1.5"),
    ]
    config = parse_config({"tag_standard": {"keys": {"feature": {"aliases": ["feature", "application"]}}}})
    [report] = ingest(lake, write_csv(tmp_path / "focus.csv", rows, focus_columns(version)), config=config)
    [period] = report.periods
    assert period.source_formats == [f"focus-{version}"]
    assert period.read.unblended == Decimal("2.30")
    assert period.read.amortized == Decimal("1.80")
    [line] = cost_lines(lake)
    assert line["usage_type"] == "USE1-Claude4.6Sonnet-input-tokens"
    assert line["token_class"] == "input"
    assert line["team"] == "search"
    assert line["feature"] == "chat"


def test_account_ids_keep_leading_zeros(lake: LocalLake, tmp_path: Path) -> None:
    ingest(lake, write_csv(tmp_path / "cur.csv", [legacy_row(payer="0099999999999", account="000000000042")]))
    [line] = cost_lines(lake)
    assert line["payer_account_id"] == "0099999999999"
    assert line["usage_account_id"] == "000000000042"


def test_written_files_match_table_schema(lake: LocalLake, tmp_path: Path) -> None:
    from genai_finops.tables import COST_LINES

    ingest(lake, write_csv(tmp_path / "cur.csv", _legacy_rows()))
    files = sorted((lake.root / "tables" / "cost_lines").rglob("*.parquet"))
    assert files
    schema = pq.read_schema(files[0])
    assert schema.names == COST_LINES.schema.names
    for field in COST_LINES.schema:
        assert schema.field(field.name).type == field.type, field.name


def test_unknown_schema_is_skipped_with_warning(lake: LocalLake, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    [report] = ingest(lake, other)
    assert report.periods == []
    assert report.skipped_files == [str(other)]
    assert any("unknown schema" in warning and str(other) in warning for warning in report.warnings)


def test_unknown_schema_warning_omits_long_text(lake: LocalLake, tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text('{"prompt": "SECRETMARKER please summarise my medical record for the insurer"}\nx\n')
    [report] = ingest(lake, other)
    assert report.skipped_files == [str(other)]
    assert all("SECRETMARKER" not in warning for warning in report.warnings)


class TestGenAIScope:
    def test_marketplace_bedrock_edition_in_scope(self, lake: LocalLake, tmp_path: Path) -> None:
        row = legacy_row(
            entity="AWS Marketplace",
            product="prod-abc123",
            product_name="Claude 3 Haiku (Amazon Bedrock Edition)",
            usage_type="USW2-MP:USW2_InputTokenCount-Units",
            unit="Units",
            amount="2.5",
        )
        ingest(lake, write_csv(tmp_path / "cur.csv", [row]))
        [line] = cost_lines(lake)
        assert line["model"] == "Claude 3 Haiku"
        assert line["tokens"] == 2_500_000.0

    def test_feature_tag_brings_line_in_scope(self, lake: LocalLake, tmp_path: Path) -> None:
        row = legacy_row(product="AWSLambda", usage_type="USE1-Lambda-GB-Second", unit="GB-Seconds")
        row["resourceTags/user:Feature"] = "chat"
        [report] = ingest(lake, write_csv(tmp_path / "cur.csv", [row]))
        [line] = cost_lines(lake)
        assert line["feature"] == "chat"
        assert line["token_class"] is None
        assert line["tokens"] is None
        assert report.periods[0].unknown_usage_types == {}

    def test_extra_product_code_in_scope(self, lake: LocalLake, tmp_path: Path) -> None:
        config = parse_config({"genai_scope": {"extra_product_codes": ["AmazonSageMaker"]}})
        rows = [legacy_row(product="AmazonSageMaker", usage_type="USE1-Notebook:ml.t3.medium", unit="Hrs")]
        ingest(lake, write_csv(tmp_path / "cur.csv", rows), config=config)
        assert [line["product_code"] for line in cost_lines(lake)] == ["AmazonSageMaker"]

    def test_unknown_bedrock_usage_type_is_kept_and_counted(self, lake: LocalLake, tmp_path: Path) -> None:
        rows = [legacy_row(usage_type="USE1-BrandNewThing-Widgets", unit="Widgets", cost="0.10")]
        [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
        [line] = cost_lines(lake)
        assert line["token_class"] is None
        assert line["cost_unblended"] == Decimal("0.10")
        assert report.periods[0].unknown_usage_types == {"USE1-BrandNewThing-Widgets": 1}
        assert any("1 Bedrock lines with unrecognised usage types" in warning for warning in report.warnings)


@pytest.mark.parametrize(
    ("principal", "role"),
    [
        ("arn:aws:sts::012345678901:assumed-role/ChatBackend/session-42", "ChatBackend"),
        ("arn:aws:sts::012345678901:assumed-role/ChatBackend/other-session", "ChatBackend"),
        ("arn:aws:iam::012345678901:role/service/BatchRunner", "BatchRunner"),
        ("arn:aws:iam::012345678901:user/alice", None),
        ("BedrockAPIKey-abc123", None),
    ],
)
def test_iam_role_groups_sessions(lake: LocalLake, tmp_path: Path, principal: str, role: str | None) -> None:
    ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", [cur2_row(line_item_iam_principal=principal)]))
    [line] = cost_lines(lake)
    assert line["iam_principal"] == mask_principal(principal, LocalUserKey(lake.root).key())
    assert line["iam_role"] == role


def test_principal_session_name_stored_masked(lake: LocalLake, tmp_path: Path) -> None:
    principal = "arn:aws:sts::012345678901:assumed-role/AWSReservedSSO_Dev_1a/alice@example.com"
    ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", [cur2_row(line_item_iam_principal=principal)]))
    [line] = cost_lines(lake)
    assert line["iam_principal"].startswith("arn:aws:sts::012345678901:assumed-role/AWSReservedSSO_Dev_1a/hmac-")
    assert "alice" not in line["iam_principal"]
    assert line["iam_role"] == "AWSReservedSSO_Dev_1a"


def test_zip_with_two_members_loads_both(lake: LocalLake, tmp_path: Path) -> None:
    import io
    import zipfile

    first = tmp_path / "a.csv"
    second = tmp_path / "b.csv"
    write_csv(first, [legacy_row(id="1", cost="1.00")])
    write_csv(second, [legacy_row(id="2", cost="2.00")])
    archive = tmp_path / "export.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.write(first, "part-1.csv")
        zipped.write(second, "part-2.csv")
    archive.write_bytes(buffer.getvalue())
    [report] = ingest(lake, archive)
    assert report.periods[0].read.unblended == Decimal("3.00")
    assert [line["source_file"] for line in cost_lines(lake)] == [f"{archive}/part-1.csv", f"{archive}/part-2.csv"]


def test_focus_parquet_tags_map(lake: LocalLake, tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa

    table = pa.table(
        {
            "BilledCost": pa.array([Decimal("0.5")], pa.decimal128(20, 10)),
            "EffectiveCost": pa.array([Decimal("0.4")], pa.decimal128(20, 10)),
            "ChargeCategory": ["Usage"],
            "ChargePeriodStart": pa.array([dt.datetime(2026, 10, 2)], pa.timestamp("us", tz="UTC")),
            "BillingPeriodStart": pa.array([dt.datetime(2026, 10, 1)], pa.timestamp("us", tz="UTC")),
            "BillingAccountId": ["000111222333"],
            "SubAccountId": ["012345678901"],
            "x_ServiceCode": ["AmazonBedrock"],
            "SkuMeter": ["USE1-NovaLite-output-tokens"],
            "PricingQuantity": [2.0],
            "PricingUnit": ["1K tokens"],
            "Tags": pa.array([[("Team", "search"), ("env", "prd")]], pa.map_(pa.string(), pa.string())),
        }
    )
    path = tmp_path / "focus.parquet"
    pq.write_table(table, path)
    [report] = ingest(lake, path)
    assert report.periods[0].source_formats == ["focus-1.2"]
    [line] = cost_lines(lake)
    assert line["team"] == "search"
    assert line["environment"] == "prod"
    assert line["token_class"] == "output"
    assert line["tokens"] == 2000.0
    assert line["cost_amortized"] == Decimal("0.4")


def test_bill_summary_accounts_every_line(lake: LocalLake, tmp_path: Path) -> None:
    rows = [
        legacy_row(id="1", cost="1.00"),
        legacy_row(id="2", cost="0.10", type="Tax", usage_type=""),
        legacy_row(id="3", product="AmazonEC2", usage_type="BoxUsage:m5.large", cost="2.00"),
        legacy_row(id="4", period_start="2026-11-01T00:00:00Z", start="2026-11-02T00:00:00Z", cost="0.40"),
    ]
    [report] = ingest(lake, write_csv(tmp_path / "cur.csv", rows))
    assert [period.billing_period for period in report.periods] == ["2026-10", "2026-11"]
    summary = lake.query_duckdb(
        "SELECT billing_period, line_item_type, product_code, in_genai_scope, row_count, cost_unblended "
        "FROM bill_summary ORDER BY ALL"
    ).to_pylist()
    assert [tuple(row.values()) for row in summary] == [
        ("2026-10", "Tax", "AmazonBedrock", True, 1, Decimal("0.10")),
        ("2026-10", "Usage", "AmazonBedrock", True, 1, Decimal("1.00")),
        ("2026-10", "Usage", "AmazonEC2", False, 1, Decimal("2.00")),
        ("2026-11", "Usage", "AmazonBedrock", True, 1, Decimal("0.40")),
    ]


def test_source_line_survives_parallel_read(lake: LocalLake, tmp_path: Path) -> None:
    header = (
        "lineItem/LineItemType,lineItem/UsageStartDate,lineItem/ProductCode,lineItem/ResourceId,lineItem/UnblendedCost"
    )
    body = "".join(f"Usage,2026-10-01T00:00:00Z,AmazonBedrock,{index},0.01\n" for index in range(300_000))
    path = tmp_path / "big.csv"
    path.write_text(header + "\n" + body)
    [report] = ingest(lake, path)
    assert report.periods[0].read.rows == 300_000
    wrong = lake.query_duckdb(
        "SELECT count(*) AS wrong FROM cost_lines WHERE CAST(resource_id AS BIGINT) + 2 <> source_line"
    )
    assert wrong.column("wrong")[0].as_py() == 0


@pytest.mark.parametrize("extra_keys", [0, 3], ids=["struct-cast", "map-from-entries"])
def test_cur2_tag_maps_per_null_pattern(lake: LocalLake, tmp_path: Path, extra_keys: int) -> None:
    # Three keys are built with a STRUCT cast per pattern and six with map_from_entries, so both are checked.
    patterns = list(itertools.product([None, "", "v"], repeat=3))
    rows = []
    for index, values in enumerate(patterns):
        tags = {f"user_k{position}": value for position, value in enumerate(values) if value is not None}
        tags.update({f"user_extra{position}": "x" for position in range(extra_keys)})
        rows.append(cur2_row(identity_line_item_id=f"line-{index}", resource_tags=tags))
    ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    table = lake.query_duckdb(
        "SELECT source_line, map_keys(tags) AS keys, map_values(tags) AS values FROM cost_lines ORDER BY source_line"
    ).to_pylist()
    assert [row["source_line"] for row in table] == list(range(1, len(patterns) + 1))
    for row, values in zip(table, patterns, strict=True):
        expected = {f"extra{position}": "x" for position in range(extra_keys)}
        expected.update({f"k{position}": value for position, value in enumerate(values) if value})
        assert row["keys"] == sorted(expected), values
        assert row["values"] == [expected[key] for key in sorted(expected)], values


def test_cur2_naive_timestamps_read_as_utc(lake: LocalLake, tmp_path: Path) -> None:
    import datetime as dt

    starts = ["1969-12-31 23:59:59.999", "2026-10-31 23:59:59.999", "2026-11-01 00:00:00"]
    rows = [
        cur2_row(
            identity_line_item_id=f"line-{index}", bill_billing_period_start_date=None, line_item_usage_start_date=start
        )
        for index, start in enumerate(starts)
    ]
    [report] = ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", rows))
    assert [period.billing_period for period in report.periods] == ["1969-12", "2026-10", "2026-11"]
    lines = cost_lines(lake)
    expected = sorted(dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC) for start in starts)
    assert sorted(line["usage_start"] for line in lines) == expected


def test_cur2_without_usage_start_rejected(lake: LocalLake, tmp_path: Path) -> None:
    # Without usage start no line matches its requests, so all cost would become remainder.
    row = cur2_row()
    del row["line_item_usage_start_date"]
    with pytest.raises(InputError) as raised:
        ingest(lake, cur2_parquet(tmp_path / "cur2.parquet", [row]))
    assert "line_item_usage_start_date" in str(raised.value)
    assert lake.partitions("cost_lines") == []


def test_legacy_without_usage_start_names_header(lake: LocalLake, tmp_path: Path) -> None:
    row = legacy_row()
    del row["lineItem/UsageStartDate"]
    with pytest.raises(InputError) as raised:
        ingest(lake, write_csv(tmp_path / "cost.csv", [row], columns=list(row)))
    assert "lineItem/UsageStartDate" in str(raised.value)
    assert lake.partitions("cost_lines") == []


def test_lines_without_usage_start_warned(lake: LocalLake, tmp_path: Path) -> None:
    undated = legacy_row(**{"lineItem/UsageStartDate": ""})
    [report] = ingest(lake, write_csv(tmp_path / "cost.csv", [legacy_row(), undated]))
    assert any("1 GenAI lines have no usage start date" in warning for warning in report.warnings)
    assert len(cost_lines(lake)) == 2
