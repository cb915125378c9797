"""S3 download adapters, the configuration source and the event models, against moto."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from genai_finops.adapters.config_source import load_config_from_s3
from genai_finops.adapters.s3_objects import download_delivery, download_object, local_path, manifest_data_keys
from genai_finops.errors import ConfigError, InputError
from genai_finops.handlers.events import ObjectCreatedEvent, ObjectCreatedQueueRecord, parse_event
from genai_finops.handlers.runtime import build_runtime
from genai_finops.settings import Settings

from .builders import load_event
from .conftest import CONFIG_BUCKET, EXPORT_BUCKET

pytestmark = pytest.mark.integration


def _manifest(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "report-Manifest.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_manifest_keys_from_cur2_data_files(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        {"dataFiles": [f"s3://{EXPORT_BUCKET}/exports/a/data/BILLING_PERIOD=2026-10/a-00001.snappy.parquet"]},
    )
    expected = ["exports/a/data/BILLING_PERIOD=2026-10/a-00001.snappy.parquet"]
    assert manifest_data_keys(manifest, EXPORT_BUCKET) == expected


def test_manifest_keys_from_legacy_report_keys(tmp_path: Path) -> None:
    folder = "exports/legacy/20261001-20261101/asm-1"
    keys = [f"{folder}/legacy-1.csv.gz", f"{folder}/legacy-2.csv.gz"]
    manifest = _manifest(tmp_path, {"bucket": EXPORT_BUCKET, "assemblyId": "asm-1", "reportKeys": keys})
    assert manifest_data_keys(manifest, EXPORT_BUCKET) == keys


def test_manifest_in_other_bucket_is_rejected(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, {"dataFiles": ["s3://someone-else/exports/a.parquet"]})
    with pytest.raises(InputError, match="is not an object of bucket"):
        manifest_data_keys(manifest, EXPORT_BUCKET)
    legacy = _manifest(tmp_path, {"bucket": "someone-else", "reportKeys": ["a.csv.gz"]})
    with pytest.raises(InputError, match="is not the manifest's bucket"):
        manifest_data_keys(legacy, EXPORT_BUCKET)


def test_manifest_without_files_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lists no data files"):
        manifest_data_keys(_manifest(tmp_path, {"reportKeys": []}), EXPORT_BUCKET)
    broken = tmp_path / "broken-Manifest.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="unreadable manifest"):
        manifest_data_keys(broken, EXPORT_BUCKET)


def test_local_path_rejects_escaping_keys(tmp_path: Path) -> None:
    assert local_path(tmp_path, "a/b/c.json") == tmp_path / "a" / "b" / "c.json"
    for key in ("../etc/passwd", "/absolute", "a//b", "a/./b", ""):
        with pytest.raises(InputError):
            local_path(tmp_path, key)


def test_download_delivery_mirrors_keys(aws: boto3.Session, tmp_path: Path) -> None:
    s3 = aws.client("s3")
    data_key = "exports/a/data/BILLING_PERIOD=2026-10/a-00001.snappy.parquet"
    manifest_key = "exports/a/metadata/BILLING_PERIOD=2026-10/a-Manifest.json"
    s3.put_object(Bucket=EXPORT_BUCKET, Key=data_key, Body=b"PAR1")
    s3.put_object(
        Bucket=EXPORT_BUCKET,
        Key=manifest_key,
        Body=json.dumps({"dataFiles": [f"s3://{EXPORT_BUCKET}/{data_key}"]}).encode(),
    )
    manifest = download_delivery(s3, EXPORT_BUCKET, manifest_key, tmp_path)
    assert manifest == tmp_path / manifest_key
    assert (tmp_path / data_key).read_bytes() == b"PAR1"


def test_download_object_returns_etag_without_quotes(aws: boto3.Session, tmp_path: Path) -> None:
    s3 = aws.client("s3")
    put = s3.put_object(Bucket=EXPORT_BUCKET, Key="x/y.json.gz", Body=b"data")
    downloaded = download_object(s3, EXPORT_BUCKET, "x/y.json.gz", tmp_path)
    assert downloaded.etag == put["ETag"].strip('"')
    assert downloaded.path.read_bytes() == b"data"
    with pytest.raises(InputError, match="object not found"):
        download_object(s3, EXPORT_BUCKET, "x/missing.json.gz", tmp_path)


def test_download_object_tries_url_decoded_key(aws: boto3.Session, tmp_path: Path) -> None:
    s3 = aws.client("s3")
    s3.put_object(Bucket=EXPORT_BUCKET, Key="exports/BILLING_PERIOD=2026-10/a b.json", Body=b"data")
    downloaded = download_object(s3, EXPORT_BUCKET, "exports/BILLING_PERIOD%3D2026-10/a+b.json", tmp_path)
    assert downloaded.key == "exports/BILLING_PERIOD=2026-10/a b.json"
    assert downloaded.path.read_bytes() == b"data"


def test_config_from_s3(aws: boto3.Session) -> None:
    s3 = aws.client("s3")
    s3.put_object(Bucket=CONFIG_BUCKET, Key="ok.yaml", Body=b"version: 1\ncurrency: EUR\n")
    s3.put_object(Bucket=CONFIG_BUCKET, Key="bad.yaml", Body=b"version: 1\ncurrency: euro\n")
    assert load_config_from_s3(s3, f"s3://{CONFIG_BUCKET}/ok.yaml").currency == "EUR"
    assert load_config_from_s3(s3, None).currency == "USD"
    with pytest.raises(ConfigError, match="currency"):
        load_config_from_s3(s3, f"s3://{CONFIG_BUCKET}/bad.yaml")
    with pytest.raises(ConfigError, match="cannot read governance configuration"):
        load_config_from_s3(s3, f"s3://{CONFIG_BUCKET}/missing.yaml")


def test_runtime_needs_aws_runtime_setting() -> None:
    with pytest.raises(ConfigError, match="GENAI_FINOPS_RUNTIME=aws"):
        build_runtime(Settings(runtime="local"))


@pytest.mark.parametrize("name", ["s3_object_created_cur2_manifest.json", "s3_object_created_legacy_cur_manifest.json"])
def test_manifest_events_parse(name: str) -> None:
    created = parse_event(load_event(name), ObjectCreatedEvent)
    assert created.bucket == EXPORT_BUCKET
    assert created.key.endswith("-Manifest.json")
    assert created.etag


def test_queue_records_carry_object_created_events() -> None:
    event = load_event("sqs_batch_invocation_log_objects.json")
    records = [ObjectCreatedQueueRecord.model_validate(record) for record in event["Records"]]
    assert [record.body.key.rsplit("/", 1)[-1] for record in records] == [
        "20261015T1405Z_3a4b5c6d7e8f9a0b.json.gz",
        "20261015T1410Z_9f8e7d6c5b4a3f2e.json.gz",
    ]
