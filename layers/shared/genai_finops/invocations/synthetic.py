"""Generated invocation log objects shaped like real ones, for benchmarks and load tests.

Records are built by DuckDB in bulk (no Python object per record) and written as gzip NDJSON objects
in the bucket layout ``AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/``. They carry
prompt and response bodies: Converse objects, and stream-event arrays ending in a bare ``"[DONE]"``.
They also carry request metadata, STS and IAM principals, and base, system-profile and
application-profile model ids. Some records have cache reads and writes (some with a 1-hour share),
some are guardrail-blocked, and some are zero-count streaming records that repeat a request id.
The same ``seed`` gives the same files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
SECONDS_BETWEEN_RECORDS = 2

MODEL_IDS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "arn:aws:bedrock:us-east-1:{account}:inference-profile/us.amazon.nova-pro-v1:0",
    "arn:aws:bedrock:us-east-1:{account}:application-inference-profile/support0bot01",
    "arn:aws:bedrock:us-east-1:{account}:application-inference-profile/search0rank02",
    "meta.llama3-1-70b-instruct-v1:0",
)
TEAMS = ("support", "search", "growth", "platform")
FEATURES = ("chat", "summarize", "rank", "classify", "draft")
WORDS = (
    "invoice", "customer", "order", "refund", "shipment", "account", "policy", "summary", "question",
    "answer", "product", "delivery", "payment", "contract", "report", "ticket", "status", "review",
    "please", "thanks", "update", "issue", "detail", "request", "service", "plan", "team", "budget",
)  # fmt: skip

_RECORDS_SQL = """
WITH base AS (
    SELECT
        i,
        (hash(i, $seed) >> 1)::BIGINT AS h,
        $start::TIMESTAMPTZ + to_seconds(i * $step) AS ts
    FROM range($low, $high) AS t(i)
), shaped AS (
    SELECT
        i, h, ts,
        ['Converse', 'ConverseStream', 'InvokeModel', 'InvokeModelWithResponseStream'][1 + h % 4] AS operation,
        $models[1 + (h // 4) % len($models)] AS model_id,
        (h // 32) % 100 AS p,
        100 + (h // 3200) % 3000 AS input_tokens,
        20 + (h // 9600000) % 800 AS output_tokens,
        array_to_string(list_transform(range(8 + (h % 40)::BIGINT),
            lambda x: $words[1 + (hash(i, x, $seed) % len($words))::BIGINT]), ' ') AS prompt,
        array_to_string(list_transform(range(6 + (h % 50)::BIGINT),
            lambda x: $words[1 + (hash(x, i, $seed) % len($words))::BIGINT]), ' ') AS reply,
        lower(hex(md5_number(i::VARCHAR || ':' || $seed::VARCHAR))) AS hex_id
    FROM base
), usage AS (
    SELECT *,
        p < 2 AS blocked,
        CASE WHEN p BETWEEN 10 AND 29 THEN 1024 + (h % 4096) ELSE 0 END AS cache_read,
        CASE WHEN p BETWEEN 30 AND 34 THEN 2048 + (h % 2048) ELSE 0 END AS cache_write,
        p BETWEEN 30 AND 32 AS write_1h,
        operation IN ('InvokeModelWithResponseStream') AS stream_array
    FROM shaped
)
SELECT
    'ModelInvocationLog' AS schemaType,
    '1.0' AS schemaVersion,
    strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS "timestamp",
    $account AS accountId,
    {'arn': CASE WHEN p % 5 = 0 THEN 'arn:aws:iam::' || $account || ':user/builder' || (h % 7)::VARCHAR
                 ELSE 'arn:aws:sts::' || $account || ':assumed-role/App' || $teams[1 + h % len($teams)]
                      || 'Role/session-' || (h % 97)::VARCHAR END} AS identity,
    $region AS region,
    CASE WHEN model_id LIKE 'us.%' OR model_id LIKE 'global.%' THEN 'us-west-2' END AS inferenceRegion,
    substr(hex_id, 1, 8) || '-' || substr(hex_id, 9, 4) || '-' || substr(hex_id, 13, 4) || '-'
        || substr(hex_id, 17, 4) || '-' || substr(lpad(hex_id, 32, '0'), 21, 12) AS requestId,
    operation,
    model_id AS modelId,
    CASE WHEN p < 70 THEN map(['team', 'feature', 'user_id'],
        [$teams[1 + (h // 7) % len($teams)], $features[1 + (h // 11) % len($features)],
         'user-' || ((h // 13) % 5000)::VARCHAR]) END AS requestMetadata,
    {'inputContentType': 'application/json',
     'inputBodyJson': json_object('messages', json_array(json_object('role', 'user',
        'content', json_array(json_object('text', prompt))))),
     'inputTokenCount': CASE WHEN blocked THEN 0 ELSE input_tokens END,
     'cacheReadInputTokenCount': cache_read,
     'cacheWriteInputTokenCount': cache_write} AS input,
    {'outputContentType': 'application/json',
     'outputBodyJson': CASE
        WHEN stream_array THEN json_array(
            json_object('type', 'message_start', 'message', json_object('role', 'assistant',
                'usage', json_object('input_tokens', input_tokens, 'output_tokens', 1,
                    'cache_creation', json_object('ephemeral_1h_input_tokens',
                        CASE WHEN write_1h THEN cache_write ELSE 0 END)))),
            json_object('type', 'content_block_delta', 'index', 0,
                'delta', json_object('type', 'text_delta', 'text', reply)),
            json_object('type', 'message_delta', 'delta', json_object('stop_reason',
                CASE WHEN blocked THEN 'guardrail_intervened' ELSE 'end_turn' END), 'usage',
                json_object('output_tokens', output_tokens)),
            json_object('type', 'message_stop', 'amazon-bedrock-invocationMetrics',
                json_object('inputTokenCount', input_tokens, 'outputTokenCount', output_tokens)),
            '[DONE]')
        ELSE json_object(
            'output', json_object('message', json_object('role', 'assistant',
                'content', json_array(json_object('text', reply)))),
            'stopReason', CASE WHEN blocked THEN 'guardrail_intervened' ELSE 'end_turn' END,
            'usage', json_object('inputTokens', input_tokens, 'outputTokens', output_tokens,
                'cacheReadInputTokens', cache_read, 'cacheWriteInputTokens', cache_write,
                'cacheDetails', CASE WHEN cache_write > 0 THEN json_array(json_object(
                    'ttl', CASE WHEN write_1h THEN '1h' ELSE '5m' END, 'inputTokens', cache_write)) END))
        END,
     'outputTokenCount': CASE WHEN blocked THEN 0 ELSE output_tokens END} AS output
FROM usage
"""

# Streaming calls that first log a zero-count record under the same request id (about one in a hundred).
_ZERO_COUNT_SQL = """
SELECT * REPLACE (
    {'inputContentType': input.inputContentType, 'inputBodyJson': input.inputBodyJson, 'inputTokenCount': 0,
     'cacheReadInputTokenCount': 0, 'cacheWriteInputTokenCount': 0} AS input,
    {'outputContentType': output.outputContentType, 'outputBodyJson': '[]'::JSON, 'outputTokenCount': 0} AS output)
FROM generated
WHERE operation = 'InvokeModelWithResponseStream' AND hash(requestId) % 25 = 0
"""


def write_log_objects(
    folder: Path | str,
    records: int,
    seed: int = 0,
    *,
    records_per_object: int = 5000,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    start: dt.datetime = DEFAULT_START,
) -> list[Path]:
    """Write ``records`` generated requests as log objects under ``folder``; return the object paths.

    Objects also hold the zero-count duplicates described above, so they contain slightly more lines
    than ``records``; ``records`` is the number of distinct request ids.
    """
    if records < 0 or records_per_object <= 0:
        raise ValueError("records must be >= 0 and records_per_object > 0")
    root = Path(folder)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    models = [model.format(account=account) for model in MODEL_IDS]
    paths: list[Path] = []
    try:
        for low in range(0, records, records_per_object):
            high = min(records, low + records_per_object)
            first = start + dt.timedelta(seconds=low * SECONDS_BETWEEN_RECORDS)
            hour_folder = root.joinpath(
                "AWSLogs", account, "BedrockModelInvocationLogs", region, first.strftime("%Y/%m/%d/%H")
            )
            hour_folder.mkdir(parents=True, exist_ok=True)
            name = f"{first.strftime('%Y%m%dT%H%M%S')}{first.microsecond // 1000:03d}Z_{seed:08x}{low:08x}.json.gz"
            path = hour_folder / name
            params = {
                "seed": seed,
                "start": start.isoformat(),
                "step": SECONDS_BETWEEN_RECORDS,
                "low": low,
                "high": high,
                "models": models,
                "words": list(WORDS),
                "teams": list(TEAMS),
                "features": list(FEATURES),
                "account": account,
                "region": region,
            }
            connection.execute("CREATE OR REPLACE TEMP TABLE generated AS " + _RECORDS_SQL, params)
            connection.execute(
                f"COPY (SELECT * FROM ({_ZERO_COUNT_SQL}) UNION ALL SELECT * FROM generated) "
                f"TO '{_sql_path(path)}' (FORMAT json, COMPRESSION gzip)"
            )
            paths.append(path)
    finally:
        connection.close()
    return paths


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
