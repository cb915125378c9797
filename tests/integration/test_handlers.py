"""The real Lambda handlers, driven with the events in events/, against moto S3, Glue, SQS and Secrets Manager.

Athena is replaced by DuckDB over the Glue catalog (``GlueDuckDbEngine``), because moto cannot run SQL;
everything else is the code that runs in Lambda.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.stub import Stubber

from genai_finops.errors import ConfigError, InputError
from genai_finops.handlers import ingest_cur, ingest_invocations, refresh_profiles
from genai_finops.handlers.runtime import reset_runtime

from .builders import (
    CUR2_UNBLENDED_IN_SCOPE,
    LEGACY_UNBLENDED_IN_SCOPE,
    MEMBER,
    PROFILE_ARN,
    event_object,
    load_event,
    log_object_bytes,
    log_record,
    put_cur2_delivery,
    put_legacy_delivery,
    sqs_record_objects,
    truncated_gzip,
)
from .conftest import DATABASE, LAKE_BUCKET, FakeLambdaContext
from .fakes import GlueDuckDbEngine

CUR2_EVENT = "s3_object_created_cur2_manifest.json"
LOG_BATCH_EVENT = "sqs_batch_invocation_log_objects.json"

pytestmark = pytest.mark.integration


def _partition_locations(session: boto3.Session, table: str) -> dict[tuple[str, ...], str]:
    glue = session.client("glue")
    try:
        pages = glue.get_paginator("get_partitions").paginate(DatabaseName=DATABASE, TableName=table)
        partitions = [item for page in pages for item in page["Partitions"]]
        return {tuple(item["Values"]): item["StorageDescriptor"]["Location"] for item in partitions}
    except glue.exceptions.EntityNotFoundException:
        return {}


def _lake_keys(session: boto3.Session, prefix: str) -> list[str]:
    pages = session.client("s3").get_paginator("list_objects_v2").paginate(Bucket=LAKE_BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _scratch_entries(session_env: Path) -> list[Path]:
    return [path for path in session_env.rglob("*") if path.is_file()]


def _put_cur2(session: boto3.Session, execution_id: str = "exec-2026-10-a") -> dict[str, Any]:
    event = load_event(CUR2_EVENT)
    bucket, key = event_object(event)
    put_cur2_delivery(session, bucket, key, execution_id)
    return event


# -- ingest_cur -----------------------------------------------------------------------------------


def test_cur2_manifest_loads_cost_lines(aws: boto3.Session, handler_env: GlueDuckDbEngine, tmp_path: Path) -> None:
    event = _put_cur2(aws)

    result = ingest_cur.lambda_handler(event, FakeLambdaContext())

    assert result["periods"] == {"2026-10": "loaded"}
    assert result["export_id"] == "genai-cur2"
    total = handler_env.run("SELECT sum(cost_unblended) AS total FROM cost_lines WHERE billing_period = ?", ["2026-10"])
    assert total.column("total")[0].as_py() == CUR2_UNBLENDED_IN_SCOPE
    rows = handler_env.run("SELECT usage_type, team, feature FROM cost_lines ORDER BY usage_type", [])
    assert rows.column("team").to_pylist() == ["search", "search"]
    assert rows.column("feature").to_pylist() == ["rag-answer", "rag-answer"]
    summary = handler_env.run("SELECT sum(cost_unblended) AS total FROM bill_summary", [])
    assert summary.column("total")[0].as_py() == Decimal("10.06")
    assert _scratch_entries(tmp_path / "lambda-tmp") == []


def test_cur2_manifest_registers_glue_partitions(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = _put_cur2(aws)
    ingest_cur.lambda_handler(event, FakeLambdaContext())

    cost_lines = _partition_locations(aws, "cost_lines")
    summary = _partition_locations(aws, "bill_summary")
    assert list(cost_lines) == [("2026-10", "genai-cur2")]
    assert list(summary) == [("2026-10", "genai-cur2")]
    prefix = f"s3://{LAKE_BUCKET}/tables/cost_lines/billing_period=2026-10/export_id=genai-cur2/g="
    assert cost_lines[("2026-10", "genai-cur2")].startswith(prefix)
    table = aws.client("glue").get_table(DatabaseName=DATABASE, Name="cost_lines")["Table"]
    assert [key["Name"] for key in table["PartitionKeys"]] == ["billing_period", "export_id"]


def test_redelivered_manifest_event_changes_nothing(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = _put_cur2(aws)
    ingest_cur.lambda_handler(event, FakeLambdaContext())
    locations = {table: _partition_locations(aws, table) for table in ("cost_lines", "bill_summary")}
    objects = _lake_keys(aws, "tables/cost_lines/") + _lake_keys(aws, "tables/bill_summary/")

    again = ingest_cur.lambda_handler(copy.deepcopy(event), FakeLambdaContext())

    assert again["periods"] == {"2026-10": "already loaded"}
    assert {table: _partition_locations(aws, table) for table in ("cost_lines", "bill_summary")} == locations
    assert _lake_keys(aws, "tables/cost_lines/") + _lake_keys(aws, "tables/bill_summary/") == objects
    total = handler_env.run("SELECT sum(cost_unblended) AS total FROM cost_lines", [])
    assert total.column("total")[0].as_py() == CUR2_UNBLENDED_IN_SCOPE


def test_newer_delivery_replaces_period(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = _put_cur2(aws, "exec-2026-10-a")
    ingest_cur.lambda_handler(event, FakeLambdaContext())
    first = _partition_locations(aws, "cost_lines")

    _put_cur2(aws, "exec-2026-10-b")
    result = ingest_cur.lambda_handler(event, FakeLambdaContext())

    assert result["periods"] == {"2026-10": "loaded"}
    assert _partition_locations(aws, "cost_lines") != first
    total = handler_env.run("SELECT sum(cost_unblended) AS total FROM cost_lines", [])
    assert total.column("total")[0].as_py() == CUR2_UNBLENDED_IN_SCOPE


def test_manifest_naming_missing_file_fails_and_publishes_nothing(
    aws: boto3.Session, handler_env: GlueDuckDbEngine
) -> None:
    event = _put_cur2(aws)
    bucket, key = event_object(event)
    data_key = key.replace("/metadata/", "/data/").replace("-Manifest.json", "-00001.snappy.parquet")
    aws.client("s3").delete_object(Bucket=bucket, Key=data_key)

    with pytest.raises(InputError, match="object not found"):
        ingest_cur.lambda_handler(event, FakeLambdaContext())
    assert _partition_locations(aws, "cost_lines") == {}


def test_event_that_is_not_object_created_is_rejected(handler_env: GlueDuckDbEngine) -> None:
    event = load_event(CUR2_EVENT)
    del event["detail"]["object"]
    with pytest.raises(InputError, match=r"invalid or missing fields: detail\.object"):
        ingest_cur.lambda_handler(event, FakeLambdaContext())


def test_legacy_period_and_assembly_manifests(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = load_event("s3_object_created_legacy_cur_manifest.json")
    bucket, key = event_object(event)
    assembly_manifest_key = put_legacy_delivery(aws, bucket, key, "asm-20261102")

    result = ingest_cur.lambda_handler(event, FakeLambdaContext())

    assert result["periods"] == {"2026-10": "loaded"}
    assert result["delivery_id"] == "asm-20261102"
    total = handler_env.run("SELECT sum(cost_unblended) AS total, max(team) AS team FROM cost_lines", [])
    assert total.column("total")[0].as_py() == LEGACY_UNBLENDED_IN_SCOPE
    assert total.column("team")[0].as_py() == "search"

    # S3 also reports the assembly folder's manifest; it names the same delivery, so nothing changes.
    locations = _partition_locations(aws, "cost_lines")
    assembly_event = copy.deepcopy(event)
    assembly_event["detail"]["object"]["key"] = assembly_manifest_key
    again = ingest_cur.lambda_handler(assembly_event, FakeLambdaContext())
    assert again["periods"] == {"2026-10": "already loaded"}
    assert _partition_locations(aws, "cost_lines") == locations


# -- ingest_invocations ---------------------------------------------------------------------------


def _put_log_objects(session: boto3.Session, event: dict[str, Any]) -> None:
    (good_bucket, good_key), (bad_bucket, bad_key) = sqs_record_objects(event)
    records = [
        log_record("req-0001", "2026-10-15T14:01:00Z", 100, 20, team="search", feature="rag-answer", user_id="u-1"),
        log_record("req-0002", "2026-10-15T14:02:00Z", 300, 40, team="search", feature="rag-answer", user_id="u-2"),
    ]
    s3 = session.client("s3")
    s3.put_object(Bucket=good_bucket, Key=good_key, Body=log_object_bytes(records))
    corrupt = [log_record(f"req-1{index:03d}", "2026-10-15T14:10:00Z", 10, 1) for index in range(50)]
    s3.put_object(Bucket=bad_bucket, Key=bad_key, Body=truncated_gzip(corrupt))


def test_log_batch_reports_only_corrupt_object(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = load_event(LOG_BATCH_EVENT)
    _put_log_objects(aws, event)
    bad_message_id = event["Records"][1]["messageId"]

    response = ingest_invocations.lambda_handler(event, FakeLambdaContext())

    assert response["batchItemFailures"] == [{"itemIdentifier": bad_message_id}]
    assert list(_partition_locations(aws, "invocations")) == [("2026-10-15",)]
    rows = handler_env.run("SELECT request_id, input_tokens, team, user_key FROM invocations ORDER BY request_id", [])
    assert rows.column("request_id").to_pylist() == ["req-0001", "req-0002"]
    assert rows.column("input_tokens").to_pylist() == [100, 300]
    assert rows.column("team").to_pylist() == ["search", "search"]
    assert all(value and value not in {"u-1", "u-2"} for value in rows.column("user_key").to_pylist())


def test_log_batch_logs_failure_without_bodies(
    aws: boto3.Session, handler_env: GlueDuckDbEngine, caplog: pytest.LogCaptureFixture
) -> None:
    event = load_event(LOG_BATCH_EVENT)
    _put_log_objects(aws, event)
    with caplog.at_level(logging.INFO):
        ingest_invocations.lambda_handler(event, FakeLambdaContext())

    failed = [record for record in caplog.records if record.getMessage() == "log object failed"]
    assert len(failed) == 1
    assert failed[0].__dict__["message_id"] == event["Records"][1]["messageId"]
    assert failed[0].__dict__["object_key"] == sqs_record_objects(event)[1][1]
    assert failed[0].__dict__["error_type"] == "InputError"
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "log object processed" in logged
    for text in ("private prompt", "private answer", "u-1", "u-2"):
        assert text not in logged


def test_redelivered_log_batch_changes_nothing(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = load_event(LOG_BATCH_EVENT)
    _put_log_objects(aws, event)
    ingest_invocations.lambda_handler(event, FakeLambdaContext())
    locations = _partition_locations(aws, "invocations")
    objects = _lake_keys(aws, "tables/invocations/")

    good_only = {"Records": [copy.deepcopy(event["Records"][0])]}
    response = ingest_invocations.lambda_handler(good_only, FakeLambdaContext())

    assert response["batchItemFailures"] == []
    assert _partition_locations(aws, "invocations") == locations
    assert _lake_keys(aws, "tables/invocations/") == objects
    count = handler_env.run("SELECT count(*) AS n FROM invocations", [])
    assert count.column("n")[0].as_py() == 2


def test_side_object_and_marker_are_acknowledged(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    # Neither object exists in S3: downloading either would fail the record.
    event = load_event("sqs_batch_side_object_and_permission_check.json")
    response = ingest_invocations.lambda_handler(event, FakeLambdaContext())
    assert response["batchItemFailures"] == []
    assert _partition_locations(aws, "invocations") == {}


def test_message_that_is_not_an_event_fails_alone(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    event = load_event(LOG_BATCH_EVENT)
    _put_log_objects(aws, event)
    event["Records"][1]["body"] = json.dumps({"unexpected": "shape"})
    response = ingest_invocations.lambda_handler(event, FakeLambdaContext())
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["messageId"]}]
    assert list(_partition_locations(aws, "invocations")) == [("2026-10-15",)]


def test_missing_user_key_secret_fails_whole_batch(
    aws: boto3.Session, handler_env: GlueDuckDbEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAI_FINOPS_USER_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope")
    event = load_event(LOG_BATCH_EVENT)
    _put_log_objects(aws, event)
    # When every record fails, Powertools raises so that Lambda returns the whole batch to the queue.
    with pytest.raises(BatchProcessingError, match="All records failed"):
        ingest_invocations.lambda_handler(event, FakeLambdaContext())
    assert _partition_locations(aws, "invocations") == {}


# -- refresh_profiles -----------------------------------------------------------------------------


def _stubbed_bedrock(session: boto3.Session) -> tuple[Any, Stubber]:
    client = session.client("bedrock")
    stubber = Stubber(client)
    created = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    model_arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
    profile = {
        "inferenceProfileName": "rag-answer-prod",
        "inferenceProfileArn": PROFILE_ARN,
        "inferenceProfileId": "a1b2c3d4e5f6",
        "models": [{"modelArn": model_arn}],
        "status": "ACTIVE",
        "type": "APPLICATION",
        "createdAt": created,
    }
    stubber.add_response("list_inference_profiles", {"inferenceProfileSummaries": [profile]})
    stubber.add_response("get_inference_profile", profile)
    stubber.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "team", "value": "search"}, {"key": "feature", "value": "rag-answer"}]},
    )
    return client, stubber


def test_refresh_profiles_writes_inventory(
    aws: boto3.Session, handler_env: GlueDuckDbEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = _stubbed_bedrock(aws)
    monkeypatch.setattr(refresh_profiles, "_bedrock_client", lambda runtime: client)

    with stubber:
        result = refresh_profiles.lambda_handler(
            load_event("eventbridge_schedule_refresh_profiles.json"), FakeLambdaContext()
        )

    stubber.assert_no_pending_responses()
    assert result["profile_count"] == 1
    table = aws.client("glue").get_table(DatabaseName=DATABASE, Name="inference_profiles")["Table"]
    assert table["StorageDescriptor"]["Location"].startswith(f"s3://{LAKE_BUCKET}/tables/inference_profiles/g=")
    rows = handler_env.run("SELECT profile_id, model, team, account_id FROM inference_profiles", [])
    assert rows.to_pylist() == [
        {
            "profile_id": PROFILE_ARN,
            "model": "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "team": "search",
            "account_id": MEMBER,
        }
    ]


# -- cold start ---------------------------------------------------------------------------------------


def test_handler_import_creates_no_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def no_clients(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a boto3 client or session was created at import time")

    monkeypatch.setattr(boto3, "client", no_clients)
    monkeypatch.setattr(boto3, "Session", no_clients)
    for module in (ingest_cur, ingest_invocations, refresh_profiles):
        importlib.reload(module)


def test_configuration_read_once_per_container(aws: boto3.Session, handler_env: GlueDuckDbEngine) -> None:
    from .conftest import CONFIG_BUCKET, CONFIG_KEY

    event = _put_cur2(aws)
    ingest_cur.lambda_handler(event, FakeLambdaContext())
    # A warm container keeps the configuration it read at cold start.
    aws.client("s3").delete_object(Bucket=CONFIG_BUCKET, Key=CONFIG_KEY)
    again = ingest_cur.lambda_handler(copy.deepcopy(event), FakeLambdaContext())
    assert again["periods"] == {"2026-10": "already loaded"}
    # A new container reads it again, and now finds it missing.
    reset_runtime()
    with pytest.raises(ConfigError, match="cannot read governance configuration"):
        ingest_cur.lambda_handler(copy.deepcopy(event), FakeLambdaContext())
