"""``genai-finops ingest-logs`` and ``refresh-profiles``: Bedrock invocation logs into the local lake."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ..config import GovernanceConfig
from ..errors import ConfigError, InputError
from ..invocations import (
    ConfigProfileSource,
    JsonFileProfileSource,
    LocalUserKey,
    LogIngestReport,
    ProfileResolver,
    ProfileSource,
    discover_log_objects,
    ingest_log_objects,
    refresh_profiles,
)
from ..invocations.ingest import split_batches
from ..invocations.objects import SkippedObject
from ..observability import logger
from .common import MIN_MEMORY_LIMIT_MB, Context, memory_limit

DEFAULT_BATCH_MB = 64


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``ingest-logs`` and ``refresh-profiles`` commands."""
    parser = subparsers.add_parser(
        "ingest-logs",
        help="load Bedrock model invocation logs into the invocations table",
        description="Load Bedrock model invocation log objects (gzip NDJSON files, folders, or a copy of the "
        "AWSLogs/<account>/BedrockModelInvocationLogs/... bucket tree) into the invocations table. Objects "
        "already loaded with the same content are skipped; side objects under data/ and the permission-check "
        "marker are skipped and counted. Prompts and responses are never stored.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log file or folder")
    parser.add_argument(
        "--batch-mb",
        type=int,
        default=DEFAULT_BATCH_MB,
        help=f"compressed megabytes of log objects merged per batch (default {DEFAULT_BATCH_MB})",
    )
    parser.add_argument(
        "--memory-limit",
        type=memory_limit,
        default=None,
        help=f"DuckDB memory limit, a number and a unit such as 512MB or 4GB, at least {MIN_MEMORY_LIMIT_MB}MB "
        "(default: DuckDB's, 80%% of physical memory)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="summary format on stdout")
    add_common_options(parser)
    parser.set_defaults(handler=run, lake_requirement="may_create")

    refresh = subparsers.add_parser(
        "refresh-profiles",
        help="rebuild the inference_profiles table from the configuration or a JSON file",
        description="Replace the inference_profiles table with the application inference profiles listed in a "
        "JSON file (--file), else in invocations.inference_profiles_file, else in invocations.inference_profiles "
        "of the governance configuration.",
    )
    refresh.add_argument("--file", type=Path, default=None, help="JSON file of profiles")
    add_common_options(refresh)
    refresh.set_defaults(handler=run_refresh, lake_requirement="may_create")


def profile_source(config: GovernanceConfig, file: Path | None) -> ProfileSource:
    """Choose the local profile source: an explicit file, the configured file, or the configured list."""
    if file is not None:
        return JsonFileProfileSource(file)
    if config.invocations.inference_profiles_file is not None:
        return JsonFileProfileSource(config.invocations.inference_profiles_file)
    return ConfigProfileSource(config)


def run_refresh(context: Context, args: argparse.Namespace) -> int:
    """Write the inference_profiles table and print how many profiles it holds."""
    source = profile_source(context.config, args.file)
    count = refresh_profiles(context.lake, source, context.config)
    print(f"inference_profiles: {count} profiles from {source.name}")
    return 0


def run(context: Context, args: argparse.Namespace) -> int:
    """Discover, ingest in batches, and print the run's summary."""
    # The structured log lines are for Lambda; here the progress lines and the summary carry the same facts.
    logger.setLevel("ERROR")
    if args.batch_mb <= 0:
        raise InputError(f"--batch-mb must be a positive number of megabytes, got {args.batch_mb}")
    objects, skipped = discover_log_objects(args.paths)
    context.progress(f"found {len(objects)} log objects; skipped {len(skipped)} side objects and other files")

    resolver = ProfileResolver.from_lake(context.lake)
    configured = profile_source(context.config, None).profiles()
    resolver = resolver.with_fallback(ProfileResolver.from_records(configured))

    total = LogIngestReport()
    user_key = LocalUserKey(context.lake_dir)
    batch_bytes = args.batch_mb * 1024 * 1024
    all_batches = split_batches(objects, batch_bytes)
    failures: list[InputError] = []
    try:
        for index, batch in enumerate(all_batches, start=1):
            context.progress(f"batch {index}/{len(all_batches)}: {len(batch)} objects")
            remaining = list(batch)
            while remaining:
                try:
                    report = ingest_log_objects(
                        context.lake,
                        context.config,
                        remaining,
                        user_key,
                        resolver,
                        progress=context.progress,
                        memory_limit=args.memory_limit,
                        batch_bytes=batch_bytes,
                    )
                except InputError as error:
                    # A batch publishes nothing when it fails, so the batch runs again without the object
                    # the error names. An error that names no object of the batch stops the run.
                    bad = [obj for obj in remaining if obj.key == error.source]
                    if not bad:
                        raise
                    context.progress(f"failed, left out: {error}")
                    failures.append(error)
                    remaining = [obj for obj in remaining if obj.key != error.source]
                    continue
                total.add(report)
                break
    except InputError:
        write_summary(total, skipped, args.format, sys.stdout, failed=True, failures=failures)
        raise
    except duckdb.OutOfMemoryException as error:
        write_summary(total, skipped, args.format, sys.stdout, failed=True)
        limit = f"--memory-limit {args.memory_limit}" if args.memory_limit else "DuckDB's default memory limit"
        raise ConfigError(
            f"DuckDB ran out of memory under {limit}. Give a larger --memory-limit or a smaller --batch-mb."
        ) from error
    write_summary(total, skipped, args.format, sys.stdout, failures=failures)
    if failures:
        print(
            f"genai-finops ingest-logs: {len(failures)} log objects failed and were left out; fix or delete "
            "them and run the ingest again (the other objects are loaded)",
            file=sys.stderr,
        )
        return 1
    return 0


def write_summary(
    report: LogIngestReport,
    skipped: Sequence[SkippedObject],
    output_format: str,
    stream: Any,
    failed: bool = False,
    failures: Sequence[InputError] = (),
) -> None:
    """Write the run's counts as text lines or one JSON object, with the objects that failed."""
    skipped_reasons = dict(Counter(item.reason for item in skipped))
    if output_format == "json":
        data = dataclasses.asdict(report)
        data["objects_skipped"] = skipped_reasons
        data["balanced"] = report.balanced
        data["failed"] = failed
        data["objects_failed"] = [{"key": error.source, "error": str(error)} for error in failures]
        stream.write(json.dumps(data, sort_keys=True) + "\n")
        return
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped_reasons.items())) or "none"
    lines = [
        f"objects: {report.objects_ingested} ingested, {report.objects_unchanged} unchanged (already loaded); "
        f"skipped: {reasons}",
        f"lines read {report.lines_read} = loaded {report.rows_loaded} + duplicate {report.rows_duplicate} "
        f"+ skipped {report.lines_skipped} + quarantined {report.lines_quarantined}",
        f"tokens loaded: input {report.input_tokens}, cache read {report.cache_read_tokens}, "
        f"cache write {report.cache_write_tokens}, output {report.output_tokens}",
        f"rows replaced by a record with more tokens: {report.rows_replaced}",
        f"rows with an unresolved application inference profile: {report.rows_unresolved_profile}; "
        f"with an unknown model id form: {report.rows_unknown_model}",
        _partitions_line(report.partitions_written),
    ]
    if report.skipped_schema_types:
        lines.append(
            "skipped schema types: "
            + ", ".join(f"{name} {count}" for name, count in sorted(report.skipped_schema_types.items()))
        )
    if report.quarantine_reasons:
        lines.append(
            "quarantined: "
            + ", ".join(f"{reason} {count}" for reason, count in sorted(report.quarantine_reasons.items()))
            + " (line numbers under documents/invocations/quarantine/)"
        )
    for error in failures:
        lines.append(f"failed and left out: {error}")
    if failed:
        lines.append("stopped: the next batch failed; objects listed above as ingested are kept")
    stream.write("\n".join(lines) + "\n")


def _partitions_line(partitions: Sequence[str]) -> str:
    """Summarise the date partitions written: all of them when few, else the count and the range."""
    if not partitions:
        return "partitions written: none"
    if len(partitions) <= 7:
        return "partitions written: " + ", ".join(partitions)
    ordered = sorted(partitions)
    return f"partitions written: {len(ordered)} days, {ordered[0]} to {ordered[-1]}"
