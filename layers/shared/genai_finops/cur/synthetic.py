"""Generate large synthetic billing exports for benchmarks: CUR 2.0 Parquet and legacy CUR CSV.gz.

DuckDB writes the rows from ``range()``, so generating millions of lines needs no Python object per
line and memory stays bounded. Every value is derived from the line number and the seed, so the same
arguments give the same file. A third of the lines are Bedrock token usage and the rest are EC2 and S3
usage, tax and the odd credit. Some lines carry tags, an IAM principal or an application inference profile.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Bedrock usage types cycled through by the generator, with the product name they are billed under.
_BEDROCK_USAGE = (
    "USE1-Claude4.6Sonnet-input-tokens",
    "USE1-Claude4.6Sonnet-output-tokens",
    "USE1-Claude4.6Sonnet-cache-read-input-token-count",
    "USE1-Claude4.6Sonnet-cache-write-input-token-count",
    "USE1-NovaLite-input-tokens-batch",
    "USE1-NovaLite-output-tokens-batch",
)


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + value + "'" for value in values) + "]"


def _line_values(lines: int, seed: int) -> str:
    """Return a SELECT of the generator's per-line values (shared by both formats)."""
    return f"""
        SELECT
            i,
            CAST(hash(i + {int(seed)} * 1000003) % 1000000007 AS BIGINT) AS h,
            (h % 3) = 0 AS bedrock,
            {_sql_list(_BEDROCK_USAGE)}[1 + (h // 3) % {len(_BEDROCK_USAGE)}] AS bedrock_usage,
            CASE WHEN h % 50 = 1 THEN 'Tax' WHEN h % 97 = 2 THEN 'Credit' ELSE 'Usage' END AS line_type,
            lpad(CAST(1 + h % 20 AS VARCHAR), 12, '0') AS account,
            TIMESTAMP '2026-10-01' + to_hours(CAST(h % 720 AS INTEGER)) AS usage_start,
            CAST((h % 100000) AS DECIMAL(18, 6)) / 1000000 AS cost,
            CAST(h % 5000 AS DOUBLE) / 10 AS amount,
            'team-' || CAST(h % 8 AS VARCHAR) AS team,
            CASE WHEN h % 4 = 0 THEN 'chat' WHEN h % 4 = 1 THEN 'search' END AS feature,
            CASE WHEN h % 5 = 0 THEN 'prod' ELSE 'dev' END AS environment
        FROM range({int(lines)}) AS t(i)
    """


def write_cur2_parquet(path: Path, lines: int, seed: int = 0) -> Path:
    """Write a CUR 2.0 Parquet file of ``lines`` lines with map columns, as AWS Data Exports does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    try:
        connection.execute(
            f"""
            COPY (
                WITH v AS ({_line_values(lines, seed)})
                SELECT
                    'Anniversary' AS bill_bill_type,
                    'AWS' AS bill_billing_entity,
                    TIMESTAMP '2026-10-01' AS bill_billing_period_start_date,
                    TIMESTAMP '2026-11-01' AS bill_billing_period_end_date,
                    CAST(NULL AS VARCHAR) AS bill_invoice_id,
                    '000111222333' AS bill_payer_account_id,
                    'payer' AS bill_payer_account_name,
                    MAP {{}}::MAP(VARCHAR, VARCHAR) AS cost_category,
                    MAP {{'bundled_discount': -0.0}}::MAP(VARCHAR, DOUBLE) AS discount,
                    md5(CAST(i AS VARCHAR)) AS identity_line_item_id,
                    line_type AS line_item_line_item_type,
                    CAST(cost AS DOUBLE) * CASE WHEN line_type = 'Credit' THEN -1 ELSE 1 END
                        AS line_item_unblended_cost,
                    CAST(cost AS DOUBLE) * CASE WHEN line_type = 'Credit' THEN -1 ELSE 1 END
                        AS line_item_net_unblended_cost,
                    CASE WHEN bedrock THEN 'InvokeModelInference' ELSE 'RunInstances' END AS line_item_operation,
                    CASE WHEN bedrock THEN 'AmazonBedrock' WHEN h % 3 = 1 THEN 'AmazonEC2' ELSE 'AmazonS3' END
                        AS line_item_product_code,
                    CASE WHEN bedrock AND h % 5 = 0
                        THEN 'arn:aws:bedrock:us-east-1:' || account || ':application-inference-profile/p'
                            || CAST(h % 7 AS VARCHAR)
                        WHEN NOT bedrock THEN 'i-' || CAST(h % 10000 AS VARCHAR) END AS line_item_resource_id,
                    account AS line_item_usage_account_id,
                    'member-' || account AS line_item_usage_account_name,
                    amount AS line_item_usage_amount,
                    usage_start AS line_item_usage_start_date,
                    usage_start + INTERVAL 1 HOUR AS line_item_usage_end_date,
                    CASE WHEN bedrock THEN bedrock_usage WHEN h % 3 = 1 THEN 'BoxUsage:m5.large'
                        ELSE 'TimedStorage-ByteHrs' END AS line_item_usage_type,
                    'USD' AS line_item_currency_code,
                    CASE WHEN bedrock THEN
                        'arn:aws:sts::' || account || ':assumed-role/App' || CAST(h % 4 AS VARCHAR) || '/s'
                            || CAST(i AS VARCHAR) END AS line_item_iam_principal,
                    CASE WHEN bedrock THEN '1K tokens' WHEN h % 3 = 1 THEN 'Hrs' ELSE 'GB-Mo' END AS pricing_unit,
                    MAP {{'product_name': CASE WHEN bedrock THEN 'Amazon Bedrock' ELSE 'Amazon EC2' END,
                          'region_code': 'us-east-1'}} AS product,
                    map_from_entries(list_filter(
                        [{{'k': 'user_team', 'v': team}}, {{'k': 'user_feature', 'v': feature}},
                         {{'k': 'user_environment', 'v': environment}}],
                        lambda e: e.v IS NOT NULL)) AS resource_tags,
                    MAP {{'iamPrincipal/project': 'p' || CAST(h % 5 AS VARCHAR), 'accountTag/owner': 'platform'}}
                        AS tags
                FROM v
            ) TO '{str(path).replace("'", "''")}' (FORMAT parquet, COMPRESSION snappy)
            """
        )
    finally:
        connection.close()
    return path


def write_legacy_csv_gz(path: Path, lines: int, seed: int = 0) -> Path:
    """Write a legacy CUR CSV.gz file of ``lines`` lines with ``lineItem/...`` headers and tag columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    try:
        connection.execute(
            f"""
            COPY (
                WITH v AS ({_line_values(lines, seed)})
                SELECT
                    md5(CAST(i AS VARCHAR)) AS "identity/LineItemId",
                    '' AS "bill/InvoiceId",
                    'AWS' AS "bill/BillingEntity",
                    '000111222333' AS "bill/PayerAccountId",
                    '2026-10-01T00:00:00Z' AS "bill/BillingPeriodStartDate",
                    '2026-11-01T00:00:00Z' AS "bill/BillingPeriodEndDate",
                    account AS "lineItem/UsageAccountId",
                    line_type AS "lineItem/LineItemType",
                    strftime(usage_start, '%Y-%m-%dT%H:%M:%SZ') AS "lineItem/UsageStartDate",
                    strftime(usage_start + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS "lineItem/UsageEndDate",
                    CASE WHEN bedrock THEN 'AmazonBedrock' WHEN h % 3 = 1 THEN 'AmazonEC2' ELSE 'AmazonS3' END
                        AS "lineItem/ProductCode",
                    CASE WHEN bedrock THEN bedrock_usage WHEN h % 3 = 1 THEN 'BoxUsage:m5.large'
                        ELSE 'TimedStorage-ByteHrs' END AS "lineItem/UsageType",
                    CASE WHEN bedrock THEN 'InvokeModelInference' ELSE 'RunInstances' END AS "lineItem/Operation",
                    CASE WHEN NOT bedrock THEN 'i-' || CAST(h % 10000 AS VARCHAR) ELSE '' END
                        AS "lineItem/ResourceId",
                    CAST(amount AS VARCHAR) AS "lineItem/UsageAmount",
                    'USD' AS "lineItem/CurrencyCode",
                    CAST(cost * CASE WHEN line_type = 'Credit' THEN -1 ELSE 1 END AS VARCHAR)
                        AS "lineItem/UnblendedCost",
                    CASE WHEN bedrock THEN 'Amazon Bedrock' ELSE 'Amazon Elastic Compute Cloud' END
                        AS "product/ProductName",
                    'us-east-1' AS "product/region",
                    CASE WHEN bedrock THEN '1K tokens' WHEN h % 3 = 1 THEN 'Hrs' ELSE 'GB-Mo' END AS "pricing/unit",
                    team AS "resourceTags/user:Team",
                    COALESCE(feature, '') AS "resourceTags/user:Feature",
                    environment AS "resourceTags/user:Environment"
                FROM v
            ) TO '{str(path).replace("'", "''")}' (FORMAT csv, HEADER, COMPRESSION gzip)
            """
        )
    finally:
        connection.close()
    return path
