"""Ingesting Bedrock invocation log objects into the ``invocations`` table.

One call handles a batch of objects: parse them (``parse``), derive attribution keys and user keys
(``keys``), then merge into the date partitions (``merge``). An object already ingested with the same
ETag is skipped, so a redelivered event or a re-run changes nothing. Ledger entries are written only
after the partitions are published. A crash in between is harmless because the merge is idempotent.

Error policy: a truncated or corrupt gzip object raises ``InputError`` naming the key and line before
anything of the batch is published (in AWS the message is retried, then goes to the DLQ). Lines that are
not JSON, or records without a request id or a valid timestamp, are quarantined: counted, and listed
by line number and reason (never content) in a quarantine document, while the object's other lines load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb

from ..config import GovernanceConfig
from ..errors import ReconciliationError
from ..lake.base import Lake
from ..observability import logger
from .keys import (
    MODEL_JOIN,
    attribution_columns,
    attribution_joins,
    metadata_expressions,
    register_model_lookup,
    register_principal_lookup,
    register_user_keys,
    register_value_lookups,
)
from .lookups import create_string_table
from .merge import CandidateRows, merge_candidates
from .objects import LogObject
from .parse import SCHEMA_TYPE, QuarantinedLine, parse_objects
from .profiles import ProfileResolver
from .user_key import UserKeyProvider

LEDGER_PREFIX = "invocations/ingested/"
# 64 MiB of gzip objects is about 430k records shaped like real ones (synthetic.py). Ingesting 1M such
# records in these batches peaked at 0.85 GB resident memory (measured with DuckDB 2.0.1 on 2 cores).
# 32 MiB batches peaked at 0.68 GB but took 11% more CPU, and 160 MiB batches peaked at 1.5 GB.
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024
QUARANTINE_PREFIX = "invocations/quarantine/"


@dataclass
class LogIngestReport:
    """Counts of one ingest call. ``lines_read`` = loaded + duplicate + skipped + quarantined."""

    objects_given: int = 0
    objects_ingested: int = 0
    objects_unchanged: int = 0
    lines_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    lines_skipped: int = 0
    lines_quarantined: int = 0
    rows_replaced: int = 0
    rows_unresolved_profile: int = 0
    rows_unknown_model: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    skipped_schema_types: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    partitions_written: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """Return whether lines read equals loaded + duplicate + skipped + quarantined."""
        accounted = self.rows_loaded + self.rows_duplicate + self.lines_skipped + self.lines_quarantined
        return self.lines_read == accounted

    def add(self, other: LogIngestReport) -> None:
        """Add another report's counts to this one (for a run made of several batches)."""
        for name in (
            "objects_given", "objects_ingested", "objects_unchanged", "lines_read", "rows_loaded",
            "rows_duplicate", "lines_skipped", "lines_quarantined", "rows_replaced",
            "rows_unresolved_profile", "rows_unknown_model", "input_tokens", "cache_read_tokens",
            "cache_write_tokens", "output_tokens",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for target, source in (
            (self.skipped_schema_types, other.skipped_schema_types),
            (self.quarantine_reasons, other.quarantine_reasons),
        ):
            for key, count in source.items():
                target[key] = target.get(key, 0) + count
        self.partitions_written = sorted({*self.partitions_written, *other.partitions_written})


def split_batches(objects: Sequence[LogObject], batch_bytes: int) -> list[list[LogObject]]:
    """Split objects, in order, into batches of at most ``batch_bytes`` file bytes (at least one object each)."""
    batches: list[list[LogObject]] = []
    size = 0
    for obj in objects:
        object_size = obj.path.stat().st_size
        if not batches or size + object_size > batch_bytes:
            batches.append([])
            size = 0
        batches[-1].append(obj)
        size += object_size
    return batches


def ledger_key(object_key: str) -> str:
    """Return the document key that records an ingested object."""
    return LEDGER_PREFIX + hashlib.sha256(object_key.encode("utf-8")).hexdigest() + ".json"


def _already_ingested(lake: Lake, obj: LogObject) -> bool:
    body = lake.get_document(ledger_key(obj.key))
    if body is None:
        return False
    return bool(json.loads(body).get("etag") == obj.etag)


def ingest_log_objects(
    lake: Lake,
    config: GovernanceConfig,
    objects: Sequence[LogObject],
    user_key: UserKeyProvider,
    profiles: ProfileResolver | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    memory_limit: str | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> LogIngestReport:
    """Load log objects into ``invocations``; objects already ingested with the same ETag are skipped.

    Objects are parsed and merged in batches of at most ``batch_bytes`` compressed bytes (at least one
    object each), so memory grows with the batch, not with the number of objects. Raises ``InputError``
    (naming the object key and line) when an object cannot be read at all. Nothing of the failing batch
    is published, while earlier batches of the same call stay loaded and are skipped on a re-run.
    ``memory_limit`` caps DuckDB's memory (for example ``"512MB"``), beyond which it spills to disk.
    """
    report = LogIngestReport(objects_given=len(objects))
    pending: dict[str, LogObject] = {}
    for obj in objects:
        if obj.key in pending:
            continue
        if _already_ingested(lake, obj):
            report.objects_unchanged += 1
            continue
        pending[obj.key] = obj
    if not pending:
        return report

    resolver = profiles if profiles is not None else ProfileResolver.from_lake(lake)
    for batch in split_batches(list(pending.values()), batch_bytes):
        with tempfile.TemporaryDirectory(prefix="genai-finops-duckdb-") as scratch:
            settings: dict[str, str | bool | int | float | list[str]] = {
                "temp_directory": scratch,
                "preserve_insertion_order": True,
            }
            if memory_limit:
                settings["memory_limit"] = memory_limit
            connection = duckdb.connect(config=settings)
            try:
                connection.execute("SET TimeZone = 'UTC'")
                connection.execute("SET enable_progress_bar = false")
                _ingest_batch(connection, lake, config, batch, user_key, resolver, report, progress)
            finally:
                connection.close()

    if not report.balanced:
        raise ReconciliationError(
            f"invocation log counts do not balance: read {report.lines_read}, loaded {report.rows_loaded}, "
            f"duplicate {report.rows_duplicate}, skipped {report.lines_skipped}, "
            f"quarantined {report.lines_quarantined}"
        )
    return report


def _ingest_batch(
    connection: duckdb.DuckDBPyConnection,
    lake: Lake,
    config: GovernanceConfig,
    objects: Sequence[LogObject],
    user_key: UserKeyProvider,
    resolver: ProfileResolver,
    report: LogIngestReport,
    progress: Callable[[str], None] | None,
) -> None:
    parsed = parse_objects(connection, objects)
    if progress is not None:
        progress(f"parsed {len(objects)} log objects, {sum(parsed.lines_read.values())} lines")

    quarantined = list(parsed.quarantined)
    for key, line, reason in connection.sql(
        "SELECT source_object, source_line, problem FROM records WHERE problem IS NOT NULL ORDER BY ALL"
    ).fetchall():
        quarantined.append(QuarantinedLine(str(key), int(line), str(reason)))
    skipped = connection.sql(
        f"SELECT coalesce(schema_type, '(missing)'), count(*) FROM records "
        f"WHERE schema_type IS DISTINCT FROM '{SCHEMA_TYPE}' GROUP BY ALL"
    ).fetchall()

    candidates = _candidate_rows(connection, config, objects, user_key, resolver)
    stats = merge_candidates(connection, lake, candidates, progress)

    report.objects_ingested += len(objects)
    report.lines_read += sum(parsed.lines_read.values())
    report.rows_loaded += stats.loaded
    report.rows_duplicate += stats.duplicate
    report.rows_replaced += stats.replaced
    report.lines_skipped += sum(int(count) for _, count in skipped)
    report.lines_quarantined += len(quarantined)
    report.rows_unresolved_profile += stats.unresolved_profile
    report.rows_unknown_model += stats.unknown_model
    report.input_tokens += stats.tokens[0]
    report.cache_read_tokens += stats.tokens[1]
    report.cache_write_tokens += stats.tokens[2]
    report.output_tokens += stats.tokens[3]
    for schema_type, count in skipped:
        name = str(schema_type)
        report.skipped_schema_types[name] = report.skipped_schema_types.get(name, 0) + int(count)
    for reason, count in Counter(line.reason for line in quarantined).items():
        report.quarantine_reasons[reason] = report.quarantine_reasons.get(reason, 0) + count
    report.partitions_written = sorted({*report.partitions_written, *stats.partitions_written})

    _write_quarantine(lake, objects, quarantined)
    _write_ledger(lake, objects, parsed.lines_read)
    if stats.unresolved_profile:
        logger.warning("application inference profiles not resolved", extra={"request_count": stats.unresolved_profile})
    logger.info(
        "invocation log objects ingested",
        extra={
            "object_count": len(objects),
            "lines_read": sum(parsed.lines_read.values()),
            "rows_loaded": stats.loaded,
            "rows_duplicate": stats.duplicate,
            "lines_quarantined": len(quarantined),
        },
    )


# Expressions that the candidate rows and their keys share, so that both read the same records.
_GOOD_RECORDS = f"(SELECT * FROM records WHERE schema_type = '{SCHEMA_TYPE}' AND problem IS NULL) AS records"
_DATE = "strftime(records.\"timestamp\", '%Y-%m-%d')"
_TOKENS = ", ".join(
    f"coalesce(records.{name}, 0) AS {name}"
    for name in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
)


def _candidate_rows(
    connection: duckdb.DuckDBPyConnection,
    config: GovernanceConfig,
    objects: Sequence[LogObject],
    user_key: UserKeyProvider,
    resolver: ProfileResolver,
) -> CandidateRows:
    """Create the lookup tables and return the SELECT that turns good ``records`` rows into ``invocations`` rows.

    The SELECT is not run here. The merge runs it once per changed date, and its keys SELECT once.
    """
    expressions = metadata_expressions(connection, config)
    register_value_lookups(connection, config, expressions)
    register_user_keys(connection, expressions, user_key.key())
    register_model_lookup(connection, resolver, config)
    register_principal_lookup(connection, config, user_key.key())

    create_string_table(
        connection,
        "object_info",
        {
            "key": [obj.key for obj in objects],
            "account_id": [obj.account_id for obj in objects],
            "region": [obj.region for obj in objects],
        },
    )

    sql = f"""
    SELECT
        records.request_id,
        records."timestamp",
        coalesce(records.record_account_id, object_info.account_id) AS account_id,
        coalesce(records.record_region, object_info.region) AS region,
        coalesce(records.record_inference_region, records.record_region, object_info.region) AS inference_region,
        records.operation,
        records.model_id,
        model_lookup.model,
        model_lookup.inference_profile_id,
        model_lookup.route,
        principal_lookup.principal_masked AS principal,
        principal_lookup.iam_role,
        {_TOKENS},
        CASE WHEN coalesce(records.cache_write_tokens, 0) = 0 THEN 0
             WHEN records.body_cache_write_1h_tokens IS NULL THEN NULL
             ELSE least(records.body_cache_write_1h_tokens, records.cache_write_tokens) END AS cache_write_1h_tokens,
        CASE WHEN records.error_code IS NULL THEN 'success' ELSE 'error' END AS status,
        records.error_code,
        records.guardrail_blocked,
        {expressions.stored_metadata} AS request_metadata,
        {attribution_columns(expressions)},
        user_keys.user_key,
        records.source_object,
        records.source_line,
        {_DATE} AS date
    FROM {_GOOD_RECORDS}
    {attribution_joins(expressions)}
    LEFT JOIN object_info ON object_info.key = records.source_object
    """
    keys_sql = f"""
    SELECT records.request_id, {_DATE} AS date, records.source_object, records.source_line, {_TOKENS},
        model_lookup.model, model_lookup.inference_profile_id
    FROM {_GOOD_RECORDS}
    {MODEL_JOIN}
    """
    return CandidateRows(sql, keys_sql, {k: v for k, v in expressions.params.items() if f"${k}" in sql})


def _write_quarantine(lake: Lake, objects: Sequence[LogObject], quarantined: Sequence[QuarantinedLine]) -> None:
    by_key: dict[str, list[QuarantinedLine]] = {}
    for line in quarantined:
        by_key.setdefault(line.key, []).append(line)
    etags = {obj.key: obj.etag for obj in objects}
    for key, lines in by_key.items():
        document = {
            "object_key": key,
            "etag": etags.get(key),
            "lines": [{"line": line.line, "reason": line.reason} for line in sorted(lines, key=lambda x: x.line)],
        }
        lake.put_document(
            QUARANTINE_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json",
            json.dumps(document, indent=1).encode("utf-8"),
        )
        logger.warning("invocation log lines quarantined", extra={"object_key": key, "line_count": len(lines)})


def _write_ledger(lake: Lake, objects: Sequence[LogObject], lines_read: dict[str, int]) -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    for obj in objects:
        document = {"object_key": obj.key, "etag": obj.etag, "ingested_at": now, "lines_read": lines_read[obj.key]}
        lake.put_document(ledger_key(obj.key), json.dumps(document).encode("utf-8"))
