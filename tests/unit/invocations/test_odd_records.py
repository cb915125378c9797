"""The rules for odd records: token totals, duplicates, body shapes, guardrails, bad lines, counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from genai_finops.config import GovernanceConfig
from genai_finops.errors import InputError
from genai_finops.invocations import LocalUserKey, ProfileResolver, ingest_log_objects
from genai_finops.invocations.ingest import QUARANTINE_PREFIX
from genai_finops.invocations.objects import LogObject, file_etag
from genai_finops.lake.local import LocalLake
from genai_finops.tables import INVOCATIONS

from .conftest import Ingest, rows
from .logs import SECRET_MARKER, bucket_key, record, stream_record, write_object


def test_cache_tokens_stored_apart_from_input(ingest: Ingest, lake: LocalLake) -> None:
    line = record(
        "req-cache",
        input={"inputTokenCount": 50, "cacheReadInputTokenCount": 3000, "cacheWriteInputTokenCount": 700},
        output={
            "outputTokenCount": 10,
            "outputBodyJson": {
                "usage": {
                    "inputTokens": 50,
                    "outputTokens": 10,
                    "cacheReadInputTokens": 3000,
                    "cacheWriteInputTokens": 700,
                }
            },
        },
    )
    report = ingest([line])
    (row,) = rows(lake)
    assert row["input_tokens"] == 50
    assert row["cache_read_tokens"] == 3000
    assert row["cache_write_tokens"] == 700
    assert row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] == 3750
    assert report.input_tokens == 50
    assert report.cache_read_tokens == 3000
    assert report.cache_write_tokens == 700


def test_body_usage_used_only_when_top_level_missing(ingest: Ingest, lake: LocalLake) -> None:
    top_level = record("req-top", input={"inputTokenCount": 40}, output={"outputTokenCount": 9, "outputBodyJson": {
        "usage": {"inputTokens": 999, "outputTokens": 999, "cacheReadInputTokens": 5}}})  # fmt: skip
    body_usage = {"inputTokens": 31, "outputTokens": 7, "cacheReadInputTokens": 200, "cacheWriteInputTokens": 60}
    body_only = record("req-body", input={}, output={"outputBodyJson": {"usage": body_usage}})
    ingest([top_level, body_only])
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert by_id["req-top"]["input_tokens"] == 40
    assert by_id["req-top"]["output_tokens"] == 9
    assert by_id["req-top"]["cache_read_tokens"] == 5
    assert by_id["req-body"]["input_tokens"] == 31
    assert by_id["req-body"]["output_tokens"] == 7
    assert by_id["req-body"]["cache_read_tokens"] == 200
    assert by_id["req-body"]["cache_write_tokens"] == 60


def test_one_hour_cache_write_share(ingest: Ingest, lake: LocalLake) -> None:
    converse = record(
        "req-converse",
        input={"inputTokenCount": 10, "cacheWriteInputTokenCount": 900},
        output={"outputTokenCount": 5, "outputBodyJson": {"usage": {"cacheWriteInputTokens": 900, "cacheDetails": [
            {"ttl": "1h", "inputTokens": 600}, {"ttl": "5m", "inputTokens": 300}]}}},
    )  # fmt: skip
    anthropic = record(
        "req-anthropic",
        operation="InvokeModel",
        input={"inputTokenCount": 10, "cacheWriteInputTokenCount": 400},
        output={"outputTokenCount": 5, "outputBodyJson": {"usage": {"cache_creation_input_tokens": 400,
            "cache_creation": {"ephemeral_1h_input_tokens": 400, "ephemeral_5m_input_tokens": 0}}}},
    )  # fmt: skip
    unknown_share = record("req-unknown", input={"inputTokenCount": 10, "cacheWriteInputTokenCount": 250},
                           output={"outputTokenCount": 5, "outputBodyJson": {"usage": {}}})  # fmt: skip
    no_writes = record("req-none")
    ingest([converse, anthropic, unknown_share, no_writes])
    share = {row["request_id"]: row["cache_write_1h_tokens"] for row in rows(lake)}
    assert share["req-converse"] == 600
    assert share["req-anthropic"] == 400
    assert share["req-unknown"] is None
    assert share["req-none"] == 0


def test_zero_count_stream_record_loses_to_real_one(ingest: Ingest, lake: LocalLake) -> None:
    zero = stream_record("req-stream", 0, 0)
    zero["output"]["outputBodyJson"] = []
    real = stream_record("req-stream", 812, 95)
    report = ingest([zero, real])
    (row,) = rows(lake)
    assert row["input_tokens"] == 812
    assert row["output_tokens"] == 95
    assert row["source_line"] == 2
    assert report.rows_loaded == 1
    assert report.rows_duplicate == 1


def test_duplicate_arriving_later_replaces_zero_row(ingest: Ingest, lake: LocalLake) -> None:
    zero = stream_record("req-late", 0, 0)
    ingest([zero])
    report = ingest([stream_record("req-late", 300, 40)])
    (row,) = rows(lake)
    assert row["input_tokens"] == 300
    assert report.rows_loaded == 1
    assert report.rows_replaced == 1
    assert report.rows_duplicate == 0


def test_same_object_twice_changes_nothing(ingest: Ingest, lake: LocalLake, tmp_path: Path) -> None:
    key = bucket_key()
    path = write_object(tmp_path / key, [record("a"), record("b")])
    obj = LogObject(key=key, etag=file_etag(path), path=path)
    config = GovernanceConfig()
    first = ingest_log_objects(lake, config, [obj], LocalUserKey(lake.root), ProfileResolver())
    files_before = sorted(p.relative_to(lake.root) for p in lake.root.rglob("*.parquet"))
    second = ingest_log_objects(lake, config, [obj, obj], LocalUserKey(lake.root), ProfileResolver())
    files_after = sorted(p.relative_to(lake.root) for p in lake.root.rglob("*.parquet"))
    assert first.rows_loaded == 2
    assert second.objects_unchanged == 2
    assert second.lines_read == 0
    assert files_after == files_before


def test_same_records_in_new_object_count_once(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("a"), record("b")])
    report = ingest([record("a"), record("b")])
    assert len(rows(lake)) == 2
    assert report.rows_loaded == 0
    assert report.rows_duplicate == 2
    assert report.partitions_written == []


def test_duplicate_across_midnight_counts_once(ingest: Ingest, lake: LocalLake) -> None:
    ingest([stream_record("req-midnight", 0, 0, timestamp="2026-11-03T23:59:59Z")])
    report = ingest([stream_record("req-midnight", 70, 8, timestamp="2026-11-04T00:00:01Z")])
    all_rows = rows(lake, "request_id, input_tokens, date")
    assert all_rows == [{"request_id": "req-midnight", "input_tokens": 70, "date": "2026-11-04"}]
    assert report.rows_replaced == 1
    assert report.partitions_written == ["2026-11-03", "2026-11-04"]


def test_output_body_array_with_bare_strings(ingest: Ingest, lake: LocalLake) -> None:
    line = stream_record("req-array", 0, 0)
    line["input"] = {}
    line["output"] = {"outputBodyJson": line["output"]["outputBodyJson"]}
    line["output"]["outputBodyJson"][0]["message"]["usage"]["input_tokens"] = 44
    line["output"]["outputBodyJson"][3]["amazon-bedrock-invocationMetrics"] = {
        "inputTokenCount": 44,
        "outputTokenCount": 12,
    }
    report = ingest([line, record("req-object")])
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert report.rows_loaded == 2
    assert by_id["req-array"]["input_tokens"] == 44
    assert by_id["req-array"]["output_tokens"] == 12
    assert by_id["req-array"]["guardrail_blocked"] is False


def test_guardrail_blocked_with_zero_tokens(ingest: Ingest, lake: LocalLake) -> None:
    converse = record("req-blocked", input={"inputTokenCount": 0}, output={"outputTokenCount": 0, "outputBodyJson": {
        "stopReason": "guardrail_intervened", "usage": {"inputTokens": 0, "outputTokens": 0}}})  # fmt: skip
    stream = stream_record("req-blocked-stream", 0, 0)
    stream["output"]["outputBodyJson"][1]["amazon-bedrock-guardrailAction"] = "INTERVENED"
    report = ingest([converse, stream])
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert report.rows_loaded == 2
    for request_id in ("req-blocked", "req-blocked-stream"):
        assert by_id[request_id]["guardrail_blocked"] is True
        assert by_id[request_id]["input_tokens"] == 0
        assert by_id[request_id]["output_tokens"] == 0
        assert by_id[request_id]["status"] == "success"


def test_guardrail_blocked_keeps_used_tokens(ingest: Ingest, lake: LocalLake) -> None:
    line = record("req-used", input={"inputTokenCount": 70}, output={"outputTokenCount": 209, "outputBodyJson": {
        "stopReason": "guardrail_intervened", "usage": {"inputTokens": 70, "outputTokens": 209}}})  # fmt: skip
    ingest([line])
    (row,) = rows(lake)
    assert row["guardrail_blocked"] is True
    assert row["input_tokens"] == 70
    assert row["output_tokens"] == 209


def test_guardrail_text_in_reply_is_not_a_block(ingest: Ingest, lake: LocalLake) -> None:
    line = record("req-text", output={"outputTokenCount": 5, "outputBodyJson": {"stopReason": "end_turn",
        "output": {"message": {"content": [{"text": "a guardrail_intervened INTERVENED story"}]}}}})  # fmt: skip
    ingest([line])
    (row,) = rows(lake)
    assert row["guardrail_blocked"] is False


def test_error_record_kept_with_status(ingest: Ingest, lake: LocalLake) -> None:
    line = record("req-error", errorCode="ThrottlingException", input={}, output={})
    ingest([line])
    (row,) = rows(lake)
    assert row["status"] == "error"
    assert row["error_code"] == "ThrottlingException"
    assert row["input_tokens"] == 0


@pytest.mark.parametrize(
    ("model_id", "model", "profile", "route"),
    [
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0", None, "in_region"),
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0",
         "us.anthropic.claude-3-5-sonnet-20240620-v1:0", "geo"),
        ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.anthropic.claude-opus-4-6-v1",
         "anthropic.claude-opus-4-6-v1", "global.anthropic.claude-opus-4-6-v1", "global"),
        ("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", None,
         "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", None),
    ],
)  # fmt: skip
def test_model_id_forms_in_rows(
    ingest: Ingest, lake: LocalLake, model_id: str, model: str | None, profile: str | None, route: str | None
) -> None:
    report = ingest([record("req-model", modelId=model_id)])
    (row,) = rows(lake)
    assert row["model_id"] == model_id
    assert row["model"] == model
    assert row["inference_profile_id"] == profile
    assert row["route"] == route
    assert report.rows_unresolved_profile == (1 if "application-inference-profile" in model_id else 0)


@pytest.mark.parametrize("kept", [0.5, -8], ids=["half", "without-trailer"])
def test_truncated_gzip_fails_whole_object(lake: LocalLake, tmp_path: Path, kept: float) -> None:
    lines = [record(f"req-{index}", input={"inputBodyJson": {"text": "x" * 2000}, "inputTokenCount": 1})
             for index in range(200)]  # fmt: skip
    key = bucket_key()
    path = write_object(tmp_path / key, lines)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * kept)] if kept > 0 else data[: int(kept)])
    obj = LogObject(key=key, etag=file_etag(path), path=path)
    with pytest.raises(InputError) as raised:
        ingest_log_objects(lake, GovernanceConfig(), [obj], LocalUserKey(lake.root), ProfileResolver())
    message = str(raised.value)
    assert key in message
    assert "truncated or corrupt" in message
    assert raised.value.line is not None and raised.value.line > 1
    assert lake.partitions("invocations") == []
    assert lake.list_documents("invocations/ingested/") == []


def test_invalid_lines_quarantined_with_count(ingest: Ingest, lake: LocalLake) -> None:
    lines = [
        record("good-1"),
        '{"schemaType": "ModelInvocationLog", "requestId": "cut-' + SECRET_MARKER,
        "[1, 2]",
        record("good-2"),
        record("bad-type", input={"inputTokenCount": "many"}),
        record(None),
        record("bad-time", timestamp="yesterday"),
    ]
    report = ingest(lines)
    assert [row["request_id"] for row in rows(lake)] == ["good-1", "good-2"]
    assert report.lines_read == 7
    assert report.rows_loaded == 2
    assert report.lines_quarantined == 5
    assert report.quarantine_reasons == {
        "not valid JSON": 1,
        "not a JSON object": 1,
        "field input.inputTokenCount is not an integer": 1,
        "missing requestId": 1,
        "invalid timestamp": 1,
    }
    assert report.balanced
    (document_key,) = lake.list_documents(QUARANTINE_PREFIX)
    document = json.loads(lake.get_document(document_key) or b"")
    assert [entry["line"] for entry in document["lines"]] == [2, 3, 5, 6, 7]
    assert SECRET_MARKER not in json.dumps(document)


def test_absurd_token_count_quarantined(ingest: Ingest, lake: LocalLake) -> None:
    # 10^15 tokens would overflow the money quanta of attribution; such a record is corrupt.
    huge = record("huge", input={"inputTokenCount": 10**15, "cacheReadInputTokenCount": 0})
    largest = record("largest", output={"outputTokenCount": 100_000_000})
    report = ingest([record("good"), huge, largest])
    assert sorted(row["request_id"] for row in rows(lake)) == ["good", "largest"]
    assert report.quarantine_reasons == {"token count above 100,000,000": 1}
    assert report.balanced


def test_implausible_timestamps_quarantined(ingest: Ingest, lake: LocalLake) -> None:
    # A clock far ahead or at the epoch would open billing periods with no bill.
    report = ingest(
        [
            record("good"),
            record("future", timestamp="2099-01-01T00:00:00Z"),
            record("epoch", timestamp="1970-01-01T00:00:00Z"),
        ]
    )
    assert [row["request_id"] for row in rows(lake)] == ["good"]
    assert report.quarantine_reasons == {
        "timestamp more than a day in the future": 1,
        "timestamp before 2023, when Bedrock had no logs": 1,
    }


def test_good_rows_keep_line_numbers_after_bad_line(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("first"), "not json", record("third")])
    assert [(row["request_id"], row["source_line"]) for row in rows(lake)] == [("first", 1), ("third", 3)]


def test_line_numbers_after_bad_first_line(ingest: Ingest, lake: LocalLake) -> None:
    ingest(["not json", record("second"), record("third", schemaType="Other"), record("fourth")])
    assert [(row["request_id"], row["source_line"]) for row in rows(lake)] == [("fourth", 4), ("second", 2)]


def test_unknown_schema_type_skipped_and_counted(ingest: Ingest, lake: LocalLake) -> None:
    report = ingest([record("kept"), record("other", schemaType="SomethingElse"), {"requestId": "no-type"}])
    assert [row["request_id"] for row in rows(lake)] == ["kept"]
    assert report.lines_skipped == 2
    assert report.skipped_schema_types == {"SomethingElse": 1, "(missing)": 1}
    assert report.balanced


def test_counts_balance_with_every_outcome(ingest: Ingest) -> None:
    report = ingest(
        [
            record("a"),
            record("a"),
            record("b", schemaType="Other"),
            "{broken",
            "",
            record("c"),
        ]
    )
    assert report.lines_read == 5
    assert (report.rows_loaded, report.rows_duplicate, report.lines_skipped, report.lines_quarantined) == (2, 1, 1, 1)
    assert report.balanced


def test_uncompressed_object_is_read(ingest: Ingest, lake: LocalLake) -> None:
    report = ingest([record("plain")], compress=False)
    assert report.rows_loaded == 1
    assert rows(lake, "request_id")[0]["request_id"] == "plain"


def test_empty_object_reads_no_lines(lake: LocalLake, tmp_path: Path) -> None:
    path = tmp_path / bucket_key()
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b""))
    empty = LogObject(key="empty-gzip", etag=file_etag(path), path=path)
    zero = tmp_path / "zero.json.gz"
    zero.write_bytes(b"")
    zero_object = LogObject(key="zero-bytes", etag=file_etag(zero), path=zero)
    report = ingest_log_objects(
        lake, GovernanceConfig(), [empty, zero_object], LocalUserKey(lake.root), ProfileResolver()
    )
    assert report.objects_ingested == 2
    assert report.lines_read == 0
    assert report.balanced


def test_parquet_files_match_table_schema(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("a", requestMetadata={"team": "t"}), stream_record("b", 3, 4)])
    (file,) = list(lake.root.rglob("*.parquet"))
    assert pq.read_schema(file).remove_metadata() == INVOCATIONS.schema


def test_objects_merged_in_size_batches(lake: LocalLake, tmp_path: Path) -> None:
    objects = []
    for index in range(3):
        key = bucket_key(name=f"20261103T10150{index}000Z_000000000000000{index}.json.gz")
        path = write_object(tmp_path / key, [record(f"req-{index}"), record("req-shared")])
        objects.append(LogObject(key=key, etag=file_etag(path), path=path))
    report = ingest_log_objects(
        lake, GovernanceConfig(), objects, LocalUserKey(lake.root), ProfileResolver(), batch_bytes=1
    )
    assert report.objects_ingested == 3
    assert report.rows_loaded == 4
    assert report.rows_duplicate == 2
    assert report.balanced
    assert len(rows(lake)) == 4
