"""Small billing exports and invocation logs, written to moto S3 at the keys the sample events name."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
PAYER = "111122223333"
MEMBER = "444455556666"
PROFILE_ARN = f"arn:aws:bedrock:us-east-1:{MEMBER}:application-inference-profile/a1b2c3d4e5f6"
STRING_MAP = pa.map_(pa.string(), pa.string())


def load_event(name: str) -> dict[str, Any]:
    """Load a sample event from events/ by file name."""
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return loaded


def event_object(event: dict[str, Any]) -> tuple[str, str]:
    """Return (bucket, key) of an EventBridge S3 event."""
    return event["detail"]["bucket"]["name"], event["detail"]["object"]["key"]


def sqs_record_objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (bucket, key) of each EventBridge event carried by an SQS batch."""
    return [event_object(json.loads(record["body"])) for record in event["Records"]]


# -- CUR 2.0 ----------------------------------------------------------------------------------------

CUR2_LINES = [
    # (usage type, product code, line item type, usage amount, pricing unit, unblended cost, resource id, tags)
    ("USE1-Claude4.5Sonnet-input-tokens", "AmazonBedrock", "Usage", 1200.0, "1K tokens", "3.60", PROFILE_ARN,
     {"user_team": "search", "user_feature": "rag-answer"}),
    ("USE1-Claude4.5Sonnet-output-tokens", "AmazonBedrock", "Usage", 300.0, "1K tokens", "4.50", PROFILE_ARN,
     {"user_team": "search", "user_feature": "rag-answer"}),
    ("USE1-BoxUsage:m7g.large", "AmazonEC2", "Usage", 24.0, "Hrs", "1.96", "i-0abc123def4567890", {}),
]  # fmt: skip
CUR2_UNBLENDED_IN_SCOPE = Decimal("8.10")


def cur2_table(period_start: dt.date) -> pa.Table:
    """Return a CUR 2.0 export of a few lines: two Bedrock token lines in GenAI scope, one EC2 line outside."""
    start = dt.datetime.combine(period_start, dt.time(10))
    count = len(CUR2_LINES)
    column = list(zip(*CUR2_LINES, strict=True))
    return pa.table(
        {
            "bill_billing_entity": ["AWS"] * count,
            "bill_billing_period_start_date": [dt.datetime.combine(period_start, dt.time())] * count,
            "bill_invoice_id": [""] * count,
            "bill_payer_account_id": [PAYER] * count,
            "bill_payer_account_name": ["example-payer"] * count,
            "line_item_line_item_type": list(column[2]),
            "line_item_usage_account_id": [MEMBER] * count,
            "line_item_usage_account_name": ["example-genai"] * count,
            "line_item_usage_start_date": [start] * count,
            "line_item_usage_end_date": [start + dt.timedelta(hours=1)] * count,
            "line_item_product_code": list(column[1]),
            "line_item_usage_type": list(column[0]),
            "line_item_operation": ["InvokeModelInference", "InvokeModelInference", "RunInstances"],
            "line_item_resource_id": list(column[6]),
            "line_item_usage_amount": list(column[3]),
            "line_item_currency_code": ["USD"] * count,
            "line_item_unblended_cost": [float(value) for value in column[5]],
            "line_item_net_unblended_cost": [float(value) for value in column[5]],
            "line_item_iam_principal": [f"arn:aws:sts::{MEMBER}:assumed-role/rag-service/session-1"] * count,
            "pricing_unit": list(column[4]),
            "product_region_code": ["us-east-1"] * count,
            "product": pa.array(
                [[("product_name", "Amazon Bedrock")], [("product_name", "Amazon Bedrock")], [("product_name", "EC2")]],
                type=STRING_MAP,
            ),
            "resource_tags": pa.array([list(tags.items()) for tags in column[7]], type=STRING_MAP),
            "tags": pa.array([[] for _ in range(count)], type=STRING_MAP),
        }
    )


def put_cur2_delivery(session: boto3.Session, bucket: str, manifest_key: str, execution_id: str) -> None:
    """Write a CUR 2.0 delivery (one Parquet part plus its manifest) whose manifest sits at ``manifest_key``."""
    export_root, _, rest = manifest_key.partition("/metadata/")
    period_folder = rest.split("/", 1)[0]
    period = period_folder.removeprefix("BILLING_PERIOD=")
    export_name = export_root.rsplit("/", 1)[-1]
    data_key = f"{export_root}/data/{period_folder}/{export_name}-00001.snappy.parquet"

    buffer = io.BytesIO()
    pq.write_table(cur2_table(dt.date.fromisoformat(period + "-01")), buffer, compression="snappy")
    manifest = {
        "executionId": execution_id,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER}:export/{export_name}-0b1c2d3e",
        "billingPeriod": {"start": f"{period}-01T00:00:00Z"},
        "dataFiles": [f"s3://{bucket}/{data_key}"],
    }
    s3 = session.client("s3")
    s3.put_object(Bucket=bucket, Key=data_key, Body=buffer.getvalue())
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())


# -- Bedrock invocation logs -------------------------------------------------------------------------


def log_record(
    request_id: str, timestamp: str, input_tokens: int, output_tokens: int, **metadata: str
) -> dict[str, Any]:
    """Return one model invocation log record with small bodies (never read as content by the pipeline)."""
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": timestamp,
        "accountId": MEMBER,
        "region": "us-east-1",
        "inferenceRegion": "us-east-1",
        "requestId": request_id,
        "operation": "Converse",
        "modelId": PROFILE_ARN,
        "identity": {"arn": f"arn:aws:sts::{MEMBER}:assumed-role/rag-service/session-1"},
        "requestMetadata": metadata,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "private prompt"}]}]},
            "inputTokenCount": input_tokens,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {"output": {"message": {"content": [{"text": "private answer"}]}}},
            "outputTokenCount": output_tokens,
        },
    }


def log_object_bytes(records: list[dict[str, Any]]) -> bytes:
    """Return records as a gzip NDJSON object, as Bedrock writes them."""
    text = "".join(json.dumps(record) + "\n" for record in records)
    return gzip.compress(text.encode("utf-8"))


def truncated_gzip(records: list[dict[str, Any]]) -> bytes:
    """Return a gzip NDJSON object cut off in the middle, as a broken upload leaves it."""
    whole = log_object_bytes(records)
    return whole[: len(whole) // 2]


# -- legacy CUR -------------------------------------------------------------------------------------

LEGACY_HEADER = [
    "identity/LineItemId", "bill/InvoiceId", "bill/BillingEntity", "bill/PayerAccountId",
    "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "lineItem/UsageAccountId",
    "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
    "lineItem/UsageType", "lineItem/Operation", "lineItem/ResourceId", "lineItem/UsageAmount",
    "lineItem/CurrencyCode", "lineItem/UnblendedCost", "product/ProductName", "product/region", "pricing/unit",
    "resourceTags/user:Team",
]  # fmt: skip
LEGACY_ROWS = [
    ["l-1", "", "AWS", PAYER, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", MEMBER, "Usage",
     "2026-10-05T10:00:00Z", "2026-10-05T11:00:00Z", "AmazonBedrock", "USE1-Claude4.5Sonnet-input-tokens",
     "InvokeModelInference", "", "100", "USD", "0.30", "Amazon Bedrock", "us-east-1", "1K tokens", "search"],
    ["l-2", "", "AWS", PAYER, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", MEMBER, "Usage",
     "2026-10-05T10:00:00Z", "2026-10-05T11:00:00Z", "AmazonS3", "USE1-TimedStorage-ByteHrs",
     "StandardStorage", "", "10", "USD", "0.23", "Amazon Simple Storage Service", "us-east-1", "GB-Mo", ""],
]  # fmt: skip
LEGACY_UNBLENDED_IN_SCOPE = Decimal("0.30")


def put_legacy_delivery(session: boto3.Session, bucket: str, manifest_key: str, assembly_id: str) -> str:
    """Write a legacy CUR delivery: one CSV.gz part, the period manifest and the assembly manifest.

    Return the key of the assembly folder's manifest, which names the same files as the period's.
    """
    period_folder = manifest_key.rsplit("/", 1)[0]
    report_name = manifest_key.rsplit("/", 1)[-1].removesuffix("-Manifest.json")
    part_key = f"{period_folder}/{assembly_id}/{report_name}-1.csv.gz"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([LEGACY_HEADER, *LEGACY_ROWS])
    manifest = {
        "assemblyId": assembly_id,
        "account": PAYER,
        "reportName": report_name,
        "compression": "GZIP",
        "contentType": "text/csv",
        "billingPeriod": {"start": "20261001T000000.000Z", "end": "20261101T000000.000Z"},
        "bucket": bucket,
        "reportKeys": [part_key],
    }
    assembly_manifest_key = f"{period_folder}/{assembly_id}/{report_name}-Manifest.json"
    s3 = session.client("s3")
    s3.put_object(Bucket=bucket, Key=part_key, Body=gzip.compress(text.getvalue().encode()))
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=bucket, Key=assembly_manifest_key, Body=json.dumps(manifest).encode())
    return assembly_manifest_key
