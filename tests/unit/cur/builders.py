"""Small billing-export files written by the tests: legacy CUR, CUR 2.0 and FOCUS, in several encodings."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from genai_finops.config import GovernanceConfig
from genai_finops.cur import DeliveryReport, discover_deliveries, ingest_delivery
from genai_finops.invocations import LocalUserKey
from genai_finops.lake.local import LocalLake

LEGACY_COLUMNS = [
    "identity/LineItemId",
    "bill/InvoiceId",
    "bill/BillingEntity",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "product/ProductName",
    "product/region",
    "pricing/unit",
]

# Short names used by the tests, mapped to legacy CUR headers.
LEGACY_NAMES = {
    "id": "identity/LineItemId",
    "invoice": "bill/InvoiceId",
    "entity": "bill/BillingEntity",
    "payer": "bill/PayerAccountId",
    "period_start": "bill/BillingPeriodStartDate",
    "period_end": "bill/BillingPeriodEndDate",
    "account": "lineItem/UsageAccountId",
    "type": "lineItem/LineItemType",
    "start": "lineItem/UsageStartDate",
    "end": "lineItem/UsageEndDate",
    "product": "lineItem/ProductCode",
    "usage_type": "lineItem/UsageType",
    "operation": "lineItem/Operation",
    "resource": "lineItem/ResourceId",
    "amount": "lineItem/UsageAmount",
    "currency": "lineItem/CurrencyCode",
    "cost": "lineItem/UnblendedCost",
    "product_name": "product/ProductName",
    "region": "product/region",
    "unit": "pricing/unit",
}


def legacy_row(**values: Any) -> dict[str, str]:
    """Return one legacy CUR row (header -> text) with Bedrock defaults, overridden by short or full names."""
    row = {
        "identity/LineItemId": "line-1",
        "bill/InvoiceId": "",
        "bill/BillingEntity": "AWS",
        "bill/PayerAccountId": "000111222333",
        "bill/BillingPeriodStartDate": "2026-10-01T00:00:00Z",
        "bill/BillingPeriodEndDate": "2026-11-01T00:00:00Z",
        "lineItem/UsageAccountId": "012345678901",
        "lineItem/LineItemType": "Usage",
        "lineItem/UsageStartDate": "2026-10-05T10:00:00Z",
        "lineItem/UsageEndDate": "2026-10-05T11:00:00Z",
        "lineItem/ProductCode": "AmazonBedrock",
        "lineItem/UsageType": "USE1-Claude4.6Sonnet-input-tokens",
        "lineItem/Operation": "InvokeModelInference",
        "lineItem/ResourceId": "",
        "lineItem/UsageAmount": "100",
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedCost": "0.30",
        "product/ProductName": "Amazon Bedrock",
        "product/region": "us-east-1",
        "pricing/unit": "1K tokens",
    }
    for key, value in values.items():
        row[LEGACY_NAMES.get(key, key)] = "" if value is None else str(value)
    return row


def _csv_text(rows: Sequence[dict[str, str]], columns: Sequence[str] | None = None) -> str:
    headers = list(columns or LEGACY_COLUMNS)
    for row in rows:
        headers.extend(key for key in row if key not in headers)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(name, "") for name in headers])
    return buffer.getvalue()


def write_csv(path: Path, rows: Sequence[dict[str, str]], columns: Sequence[str] | None = None) -> Path:
    """Write rows as CSV; ``.gz`` and ``.zip`` names are compressed accordingly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _csv_text(rows, columns).encode()
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text))
    elif path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(path.name.removesuffix(".zip"), text)
    else:
        path.write_bytes(text)
    return path


def snake_legacy_parquet(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    """Write legacy CUR rows as Parquet with the snake_case column names of Athena-style exports."""
    from genai_finops.cur.formats import legacy_header_to_snake

    headers: list[str] = list(LEGACY_COLUMNS)
    for row in rows:
        headers.extend(key for key in row if key not in headers)
    columns: dict[str, list[Any]] = {}
    for header in headers:
        if header.startswith("resourceTags/user:"):
            name = "resource_tags_user_" + legacy_header_to_snake(header.split(":", 1)[1])
        else:
            name = legacy_header_to_snake(header)
        values = [row.get(header) or None for row in rows]
        if name in ("line_item_unblended_cost", "line_item_usage_amount"):
            columns[name] = [float(value) if value is not None else None for value in values]
        else:
            columns[name] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


STRING_MAP = pa.map_(pa.string(), pa.string())


def cur2_row(**values: Any) -> dict[str, Any]:
    """Return one CUR 2.0 row with Bedrock defaults; map columns are Python dicts."""
    row: dict[str, Any] = {
        "bill_bill_type": "Anniversary",
        "bill_billing_entity": "AWS",
        "bill_billing_period_start_date": "2026-10-01 00:00:00",
        "bill_invoice_id": None,
        "bill_payer_account_id": "000111222333",
        "bill_payer_account_name": "payer",
        "discount": {},
        "identity_line_item_id": "line-1",
        "line_item_line_item_type": "Usage",
        "line_item_unblended_cost": 0.3,
        "line_item_net_unblended_cost": None,
        "line_item_operation": "InvokeModelInference",
        "line_item_product_code": "AmazonBedrock",
        "line_item_resource_id": None,
        "line_item_usage_account_id": "012345678901",
        "line_item_usage_account_name": "member",
        "line_item_usage_amount": 100.0,
        "line_item_usage_start_date": "2026-10-05 10:00:00",
        "line_item_usage_end_date": "2026-10-05 11:00:00",
        "line_item_usage_type": "USE1-Claude4.6Sonnet-input-tokens",
        "line_item_currency_code": "USD",
        "line_item_iam_principal": None,
        "pricing_unit": "1K tokens",
        "product": {"product_name": "Amazon Bedrock", "region_code": "us-east-1"},
        "resource_tags": {},
        "tags": {},
    }
    row.update(values)
    return row


CUR2_TYPES = {
    "discount": pa.map_(pa.string(), pa.float64()),
    "product": STRING_MAP,
    "resource_tags": STRING_MAP,
    "tags": STRING_MAP,
    "line_item_unblended_cost": pa.float64(),
    "line_item_net_unblended_cost": pa.float64(),
    "line_item_usage_amount": pa.float64(),
    "bill_billing_period_start_date": pa.timestamp("ms"),
    "line_item_usage_start_date": pa.timestamp("ms"),
    "line_item_usage_end_date": pa.timestamp("ms"),
}


def cur2_parquet(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write CUR 2.0 rows as Parquet with real map columns and typed timestamps and costs."""
    import datetime as dt

    names = list(rows[0])
    arrays = []
    fields = []
    for name in names:
        column_type = CUR2_TYPES.get(name, pa.string())
        values = [row.get(name) for row in rows]
        if isinstance(column_type, pa.MapType):
            values = [list(value.items()) if value is not None else None for value in values]
        elif pa.types.is_timestamp(column_type):
            values = [dt.datetime.fromisoformat(value) if value else None for value in values]
        arrays.append(pa.array(values, type=column_type))
        fields.append(pa.field(name, column_type))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path)
    return path


def cur2_csv_gz(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write CUR 2.0 rows as gzip CSV, with map columns as JSON text the way Data Exports writes them."""
    import json

    text_rows = []
    for row in rows:
        text: dict[str, str] = {}
        for key, value in row.items():
            if isinstance(value, dict):
                text[key] = json.dumps(value)
            elif value is None:
                text[key] = ""
            else:
                text[key] = str(value)
        text_rows.append(text)
    return write_csv(path, text_rows, list(rows[0]))


FOCUS_1_0_COLUMNS = [
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "CommitmentDiscountId",
    "EffectiveCost",
    "InvoiceIssuerName",
    "PricingQuantity",
    "PricingUnit",
    "RegionId",
    "ResourceId",
    "ServiceName",
    "SubAccountId",
    "Tags",
    "x_Operation",
    "x_ServiceCode",
    "x_UsageType",
]


def focus_row(version: str = "1.0", **values: Any) -> dict[str, str]:
    """Return one FOCUS row (AWS columns) with Bedrock defaults; ``Tags`` is JSON text."""
    row = {
        "BilledCost": "0.30",
        "BillingAccountId": "000111222333",
        "BillingCurrency": "USD",
        "BillingPeriodStart": "2026-10-01 00:00:00",
        "BillingPeriodEnd": "2026-11-01 00:00:00",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargePeriodStart": "2026-10-05 10:00:00",
        "ChargePeriodEnd": "2026-10-05 11:00:00",
        "CommitmentDiscountId": "",
        "EffectiveCost": "0.30",
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "PricingQuantity": "100",
        "PricingUnit": "1K tokens",
        "RegionId": "us-east-1",
        "ResourceId": "",
        "ServiceName": "Amazon Bedrock",
        "SubAccountId": "012345678901",
        "Tags": "{}",
        "x_Operation": "InvokeModelInference",
        "x_ServiceCode": "AmazonBedrock",
        "x_UsageType": "USE1-Claude4.6Sonnet-input-tokens",
    }
    if version == "1.2":
        row["SkuMeter"] = row.pop("x_UsageType")
        row["InvoiceId"] = "INV-1"
    row.update({key: "" if value is None else str(value) for key, value in values.items()})
    return row


def focus_columns(version: str) -> list[str]:
    """Return the FOCUS columns the builders write for a version."""
    if version == "1.2":
        return [name for name in FOCUS_1_0_COLUMNS if name != "x_UsageType"] + ["SkuMeter", "InvoiceId"]
    return list(FOCUS_1_0_COLUMNS)


def ingest(
    lake: LocalLake, *paths: Path, config: GovernanceConfig | None = None, export_id: str | None = None
) -> list[DeliveryReport]:
    """Discover and ingest every delivery under the paths, as the CLI does."""
    import dataclasses

    reports = []
    for delivery in discover_deliveries(list(paths)):
        if export_id:
            delivery = dataclasses.replace(delivery, export_id=export_id)
        reports.append(ingest_delivery(lake, config or GovernanceConfig(), delivery, user_key=LocalUserKey(lake.root)))
    return reports


def cost_lines(lake: LocalLake, where: str = "true") -> list[dict[str, Any]]:
    """Return cost_lines rows as dictionaries, ordered by source line."""
    table = lake.query_duckdb(f"SELECT * FROM cost_lines WHERE {where} ORDER BY source_file, source_line")
    rows = table.to_pylist()
    for row in rows:
        for name in ("tags", "principal_tags", "account_tags"):
            if row[name] is not None:
                row[name] = dict(row[name])
    return rows
