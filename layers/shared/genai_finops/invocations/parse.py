"""Reading log objects into a DuckDB table of records, without bodies.

``read_json`` parses each object with an explicit column list, so prompts (``inputBodyJson``) are
never materialised. The response body (``outputBodyJson``) is an object for plain calls and an array
of stream events, possibly with bare strings, for streaming calls. It is kept as JSON text only inside
the query, to read the guardrail outcome and the usage fields that the top-level counts lack, and is
never selected into the ``records`` table.

Fast path: all objects of a batch in one parallel ``read_json`` scan. When that scan fails, each object
is read on its own, and an object that still fails goes through ``_scan_lines``, which finds the bad
lines in Python and quarantines them by line number (never by content). A gzip stream that is
truncated or corrupt fails the whole object, because its missing lines cannot be counted.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..errors import InputError
from .lookups import create_string_table
from .objects import LogObject

SCHEMA_TYPE = "ModelInvocationLog"
MAX_LINE_BYTES = 64 * 1024 * 1024
_INT64_MAX = 2**63 - 1

# The only record fields that are read. Bodies other than ``outputBodyJson`` are left unparsed.
READ_COLUMNS = {
    "schemaType": "VARCHAR",
    "timestamp": "VARCHAR",
    "accountId": "VARCHAR",
    "region": "VARCHAR",
    "inferenceRegion": "VARCHAR",
    "requestId": "VARCHAR",
    "operation": "VARCHAR",
    "modelId": "VARCHAR",
    "errorCode": "VARCHAR",
    "identity": "STRUCT(arn VARCHAR)",
    "requestMetadata": "MAP(VARCHAR, VARCHAR)",
    "input": "STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)",
    "output": "STRUCT(outputTokenCount BIGINT, outputBodyJson JSON)",
}

# Body fallbacks, evaluated only for rows whose top-level count is missing (CASE is lazy per row).
# Converse bodies carry ``usage.inputTokens`` etc., Anthropic InvokeModel bodies ``usage.input_tokens``,
# and stream-event arrays carry ``amazon-bedrock-invocationMetrics`` on the last event.
_BODY = "output.outputBodyJson"
_ARRAY_METRIC = (
    "list_max(TRY_CAST(json_extract({body}, '$[*].\"amazon-bedrock-invocationMetrics\".{field}') AS BIGINT[]))"
)
_ARRAY_MESSAGE_USAGE = "list_max(TRY_CAST(json_extract({body}, '$[*].message.usage.{field}') AS BIGINT[]))"


def _body_count(converse: str, anthropic: str, metric: str) -> str:
    return (
        f"coalesce(TRY_CAST(json_extract({_BODY}, '$.usage.{converse}') AS BIGINT), "
        f"TRY_CAST(json_extract({_BODY}, '$.usage.{anthropic}') AS BIGINT), "
        + _ARRAY_METRIC.format(body=_BODY, field=metric)
        + ", "
        + _ARRAY_MESSAGE_USAGE.format(body=_BODY, field=anthropic)
        + ")"
    )


_INPUT_TOKENS = (
    "CASE WHEN input.inputTokenCount IS NOT NULL THEN input.inputTokenCount "
    f"ELSE {_body_count('inputTokens', 'input_tokens', 'inputTokenCount')} END"
)
_CACHE_READ_TOKENS = (
    "CASE WHEN input.cacheReadInputTokenCount IS NOT NULL THEN input.cacheReadInputTokenCount "
    f"ELSE {_body_count('cacheReadInputTokens', 'cache_read_input_tokens', 'cacheReadInputTokenCount')} END"
)
_CACHE_WRITE_TOKENS = (
    "CASE WHEN input.cacheWriteInputTokenCount IS NOT NULL THEN input.cacheWriteInputTokenCount "
    f"ELSE {_body_count('cacheWriteInputTokens', 'cache_creation_input_tokens', 'cacheWriteInputTokenCount')} END"
)
_OUTPUT_TOKENS = (
    "CASE WHEN output.outputTokenCount IS NOT NULL THEN output.outputTokenCount "
    f"ELSE coalesce(TRY_CAST(json_extract({_BODY}, '$.usage.outputTokens') AS BIGINT), "
    f"TRY_CAST(json_extract({_BODY}, '$.usage.output_tokens') AS BIGINT), "
    + _ARRAY_METRIC.format(body=_BODY, field="outputTokenCount")
    + f", list_max(TRY_CAST(json_extract({_BODY}, '$[*].usage.output_tokens') AS BIGINT[]))) END"
)
# The 1-hour share of cache writes: Converse ``usage.cacheDetails[{ttl, inputTokens}]`` or the Anthropic
# ``usage.cache_creation.ephemeral_1h_input_tokens`` (also inside a stream's ``message_start`` event).
# The log record has no top-level field for it, so it is read from the body whenever writes happened.
_CACHE_WRITE_1H_BODY = (
    f"coalesce(list_sum(list_transform(json_extract({_BODY}, '$.usage.cacheDetails[*]'), "
    "lambda detail: CASE WHEN json_extract_string(detail, '$.ttl') = '1h' "
    "THEN TRY_CAST(json_extract(detail, '$.inputTokens') AS BIGINT) ELSE 0 END)), "
    f"TRY_CAST(json_extract({_BODY}, '$.usage.cache_creation.ephemeral_1h_input_tokens') AS BIGINT), "
    + _ARRAY_MESSAGE_USAGE.format(body=_BODY, field="cache_creation.ephemeral_1h_input_tokens")
    + ")"
)
_GUARDRAIL_BLOCKED = (
    f"CASE WHEN {_BODY} IS NULL THEN false "
    f"WHEN NOT (contains({_BODY}::VARCHAR, 'guardrail_intervened') OR contains({_BODY}::VARCHAR, 'INTERVENED')) "
    "THEN false "
    "ELSE coalesce("
    f"json_extract_string({_BODY}, '$.stopReason') = 'guardrail_intervened' "
    f"OR json_extract_string({_BODY}, '$.stop_reason') = 'guardrail_intervened' "
    f"OR json_extract_string({_BODY}, '$.\"amazon-bedrock-guardrailAction\"') = 'INTERVENED' "
    f"OR list_contains(json_extract_string({_BODY}, '$[*].\"amazon-bedrock-guardrailAction\"'), 'INTERVENED') "
    f"OR list_contains(json_extract_string({_BODY}, '$[*].delta.stop_reason'), 'guardrail_intervened') "
    f"OR list_contains(json_extract_string({_BODY}, '$[*].messageStop.stopReason'), 'guardrail_intervened'), "
    "false) END"
)

RECORDS_COLUMNS = """
    source_object VARCHAR, source_line BIGINT, row_in_scan BIGINT, schema_type VARCHAR, request_id VARCHAR,
    "timestamp" TIMESTAMPTZ, has_timestamp BOOLEAN, record_account_id VARCHAR, record_region VARCHAR,
    record_inference_region VARCHAR, operation VARCHAR, model_id VARCHAR, principal VARCHAR,
    request_metadata MAP(VARCHAR, VARCHAR), error_code VARCHAR, input_tokens BIGINT, cache_read_tokens BIGINT,
    cache_write_tokens BIGINT, output_tokens BIGINT, body_cache_write_1h_tokens BIGINT, guardrail_blocked BOOLEAN,
    problem VARCHAR
"""

# Ten times the largest context window we know of (about ten million tokens in 2026, an estimate). A
# record with more tokens of one class is taken as corrupt. The bound also keeps token costs far inside
# the 64-bit money quanta of attribution and anomaly detection, which 10^15 tokens overflowed.
MAX_TOKENS_PER_REQUEST = 100_000_000

# Reason a ModelInvocationLog record cannot be loaded, NULL for a good record. least() and greatest()
# skip NULLs.
_PROBLEM = f"""
    CASE
        WHEN scan.schema_type IS DISTINCT FROM 'ModelInvocationLog' THEN NULL
        WHEN scan.request_id IS NULL OR trim(scan.request_id) = '' THEN 'missing requestId'
        WHEN NOT scan.has_timestamp THEN 'missing timestamp'
        WHEN scan."timestamp" IS NULL THEN 'invalid timestamp'
        WHEN scan."timestamp" > now() + INTERVAL 1 DAY THEN 'timestamp more than a day in the future'
        WHEN scan."timestamp" < TIMESTAMPTZ '2023-01-01 00:00:00+00'
            THEN 'timestamp before 2023, when Bedrock had no logs'
        WHEN least(scan.input_tokens, scan.cache_read_tokens, scan.cache_write_tokens, scan.output_tokens) < 0
            THEN 'negative token count'
        WHEN greatest(
            scan.input_tokens, scan.cache_read_tokens, scan.cache_write_tokens, scan.output_tokens,
            scan.body_cache_write_1h_tokens
        ) > {MAX_TOKENS_PER_REQUEST}
            THEN 'token count above {MAX_TOKENS_PER_REQUEST:,}'
    END
"""

# One row per non-blank line, in file order: its fields and, for a bad record, the problem.
# ``$row_in_scan`` is the record's position in the scan for a scan of one object, and NULL in the fast
# path, which numbers records afterwards from the table's row ids (see ``_number_records``).
_RECORDS_SELECT = f"""
SELECT
    objects.key AS source_object,
    NULL::BIGINT AS source_line,
    scan.* EXCLUDE (filename),
    {_PROBLEM} AS problem
FROM (
    SELECT
        filename,
        $row_in_scan AS row_in_scan,
        schemaType AS schema_type,
        requestId AS request_id,
        TRY_CAST("timestamp" AS TIMESTAMPTZ) AS "timestamp",
        "timestamp" IS NOT NULL AS has_timestamp,
        accountId AS record_account_id,
        region AS record_region,
        inferenceRegion AS record_inference_region,
        operation,
        modelId AS model_id,
        identity.arn AS principal,
        requestMetadata AS request_metadata,
        errorCode AS error_code,
        {_INPUT_TOKENS} AS input_tokens,
        {_CACHE_READ_TOKENS} AS cache_read_tokens,
        {_CACHE_WRITE_TOKENS} AS cache_write_tokens,
        {_OUTPUT_TOKENS} AS output_tokens,
        CASE WHEN input.cacheWriteInputTokenCount = 0 OR {_BODY} IS NULL THEN NULL
             ELSE {_CACHE_WRITE_1H_BODY} END AS body_cache_write_1h_tokens,
        {_GUARDRAIL_BLOCKED} AS guardrail_blocked
    FROM read_json($paths, format = 'newline_delimited', columns = $columns, filename = true,
                   maximum_object_size = {MAX_LINE_BYTES}, compression = $compression)
) AS scan
JOIN objects ON objects.path = scan.filename
"""


@dataclass
class QuarantinedLine:
    """A line that could not be loaded: where it is and why, never its content."""

    key: str
    line: int
    reason: str


@dataclass
class ParseResult:
    """Outcome of parsing a batch, besides the ``records`` table: quarantined lines and lines per object."""

    quarantined: list[QuarantinedLine] = field(default_factory=list)
    lines_read: dict[str, int] = field(default_factory=dict)


def _columns_literal() -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in READ_COLUMNS.items()) + "}"


def _compression(path: Path) -> str:
    with open(path, "rb") as handle:
        return "gzip" if handle.read(2) == b"\x1f\x8b" else "none"


def _records_sql(paths: Sequence[str], compression: str, *, numbered: bool) -> str:
    # row_number() OVER () keeps the whole scan on one thread, so only the one-object scans use it.
    quoted = "[" + ", ".join("'" + path.replace("'", "''") + "'" for path in paths) + "]"
    return (
        _RECORDS_SELECT.replace("$paths", quoted)
        .replace("$columns", _columns_literal())
        .replace("$compression", f"'{compression}'")
        .replace("$row_in_scan", "row_number() OVER ()" if numbered else "NULL::BIGINT")
    )


def parse_objects(connection: duckdb.DuckDBPyConnection, objects: Sequence[LogObject]) -> ParseResult:
    """Fill the ``records`` table of ``connection`` from log objects (one row per non-blank line).

    ``connection`` must preserve insertion order (DuckDB's default), because records are numbered from
    row ids. Raises ``InputError`` naming the key and line when an object's gzip stream is truncated or
    corrupt.
    """
    result = ParseResult()
    connection.execute(f"CREATE OR REPLACE TABLE records ({RECORDS_COLUMNS})")
    readable = [obj for obj in objects if obj.path.stat().st_size > 0]
    for obj in objects:
        result.lines_read[obj.key] = 0
    if not readable:
        return result

    groups: dict[str, list[LogObject]] = {}
    for obj in readable:
        groups.setdefault(_compression(obj.path), []).append(obj)
    for compression, group in groups.items():
        _register_objects(connection, group, {obj.key: str(obj.path) for obj in group})
        try:
            connection.execute(
                "INSERT INTO records BY NAME " + _records_sql([str(o.path) for o in group], compression, numbered=False)
            )
        except duckdb.Error:
            # NOTE: DuckDB's message can quote record content, so it is neither logged nor re-raised.
            for obj in group:
                _parse_one(connection, obj, compression, result)

    _number_records(connection)
    counts = connection.sql("SELECT source_object, count(*) FROM records GROUP BY ALL").fetchall()
    for key, count in counts:
        result.lines_read[key] = int(count)
    for line in result.quarantined:
        result.lines_read[line.key] += 1
    return result


def _number_records(connection: duckdb.DuckDBPyConnection) -> None:
    """Set ``source_line`` of the fast path's rows to the record's number within its object (from 1).

    The connection preserves insertion order, so an insert from a parallel scan still appends rows in
    file order, one object after another, and a row id minus its object's first row id counts records.
    Rows from one-object scans already have their number and are left alone.
    """
    connection.execute(
        "UPDATE records SET source_line = records.rowid - firsts.first_row + 1 "
        "FROM (SELECT source_object, min(rowid) AS first_row FROM records WHERE source_line IS NULL GROUP BY ALL) "
        "AS firsts WHERE records.source_object = firsts.source_object AND records.source_line IS NULL"
    )


def _register_objects(connection: duckdb.DuckDBPyConnection, group: Sequence[LogObject], paths: dict[str, str]) -> None:
    columns = {"key": [obj.key for obj in group], "path": [paths[obj.key] for obj in group]}
    create_string_table(connection, "objects", columns)


def _parse_one(connection: duckdb.DuckDBPyConnection, obj: LogObject, compression: str, result: ParseResult) -> None:
    # A scan of one object numbers its records directly, which stays right when a bad first line is dropped.
    _register_objects(connection, [obj], {obj.key: str(obj.path)})
    try:
        connection.execute(
            "INSERT INTO records BY NAME SELECT * REPLACE (row_in_scan AS source_line) FROM ("
            + _records_sql([str(obj.path)], compression, numbered=True)
            + ")"
        )
        return
    except duckdb.Error:
        pass

    with tempfile.TemporaryDirectory(prefix="genai-finops-") as scratch:
        cleaned = Path(scratch) / "cleaned.jsonl"
        bad = _scan_lines(obj, cleaned)
        _register_objects(connection, [obj], {obj.key: str(cleaned)})
        bad_records = {record for record, _, _ in bad}
        try:
            connection.execute(
                "INSERT INTO records BY NAME SELECT * REPLACE (row_in_scan AS source_line) FROM ("
                + _records_sql([str(cleaned)], "none", numbered=True)
                + ") WHERE row_in_scan NOT IN (SELECT unnest($bad))",
                {"bad": sorted(bad_records) or [0]},
            )
        except duckdb.Error:
            raise InputError(
                "records could not be parsed after removing invalid lines; check that each line is one JSON "
                "object of a Bedrock model invocation log",
                source=obj.key,
            ) from None
        result.quarantined.extend(QuarantinedLine(obj.key, line, reason) for _, line, reason in bad)


def _scan_lines(obj: LogObject, cleaned: Path) -> list[tuple[int, int, str]]:
    """Copy an object's lines to ``cleaned`` with invalid lines replaced by ``{}``.

    Returns ``(record number, line number, reason)`` for each invalid line. The copy lives in a private
    scratch folder that the caller deletes right after the read.
    """
    bad: list[tuple[int, int, str]] = []
    line_number = 0
    record_number = 0
    opener: Any = gzip.open if _compression(obj.path) == "gzip" else open
    descriptor = os.open(cleaned, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out, opener(obj.path, "rb") as source:
        try:
            for raw in source:
                line_number += 1
                if not raw.strip():
                    continue
                record_number += 1
                reason = _line_problem(raw)
                if reason is None:
                    out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                else:
                    bad.append((record_number, line_number, reason))
                    out.write(b"{}\n")
        except (EOFError, gzip.BadGzipFile, zlib.error):
            raise InputError(
                f"gzip stream is truncated or corrupt after line {line_number}; no line of this object was "
                "loaded. Copy the object again from its source (for example the account's own log bucket) "
                "or delete it, then run the ingest again",
                source=obj.key,
                line=line_number + 1,
            ) from None
    return bad


_STRING_FIELDS = (
    "schemaType",
    "timestamp",
    "accountId",
    "region",
    "inferenceRegion",
    "requestId",
    "operation",
    "modelId",
    "errorCode",
)


def _line_problem(raw: bytes) -> str | None:
    """Return why a line cannot be read with ``READ_COLUMNS``, or None when it can."""
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "not valid JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    for name in _STRING_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            return f"field {name} is not a string"
    identity = record.get("identity")
    if identity is not None and (not isinstance(identity, dict) or not _is_optional_str(identity.get("arn"))):
        return "field identity is not an object with a string arn"
    metadata = record.get("requestMetadata")
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(value, str) for value in metadata.values())
    ):
        return "field requestMetadata is not a map of strings"
    for section, counts in (
        ("input", ("inputTokenCount", "cacheReadInputTokenCount", "cacheWriteInputTokenCount")),
        ("output", ("outputTokenCount",)),
    ):
        part = record.get(section)
        if part is None:
            continue
        if not isinstance(part, dict):
            return f"field {section} is not an object"
        for name in counts:
            value = part.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value > _INT64_MAX):
                return f"field {section}.{name} is not an integer"
    return None


def _is_optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)
