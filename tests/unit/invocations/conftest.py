"""Fixtures for invocation log tests: a lake, a config and an ingest helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genai_finops.config import GovernanceConfig, parse_config
from genai_finops.invocations import LocalUserKey, LogIngestReport, ProfileResolver, ingest_log_objects
from genai_finops.invocations.objects import LogObject, file_etag
from genai_finops.lake.local import LocalLake

from .logs import bucket_key, write_object

Ingest = Callable[..., LogIngestReport]


@pytest.fixture
def config() -> GovernanceConfig:
    return parse_config({})


@pytest.fixture
def ingest(lake: LocalLake, tmp_path: Path, config: GovernanceConfig) -> Ingest:
    """Write records as one log object under a bucket-style key and ingest it; return the report."""
    counter = {"n": 0}

    def run(
        lines: list[Any],
        *,
        name: str | None = None,
        config_override: GovernanceConfig | None = None,
        profiles: ProfileResolver | None = None,
        compress: bool = True,
    ) -> LogIngestReport:
        counter["n"] += 1
        key = bucket_key(name=name or f"20261103T101500000Z_{counter['n']:016x}.json.gz")
        path = write_object(tmp_path / "bucket" / key, lines, compress=compress)
        obj = LogObject(key=key, etag=file_etag(path), path=path)
        return ingest_log_objects(
            lake,
            config_override or config,
            [obj],
            LocalUserKey(lake.root),
            profiles if profiles is not None else ProfileResolver(),
        )

    return run


def rows(lake: LocalLake, columns: str = "*", where: str = "true") -> list[dict[str, Any]]:
    """Return invocations rows as dictionaries, ordered by request id and source line."""
    table = lake.query_duckdb(f"SELECT {columns} FROM invocations WHERE {where} ORDER BY request_id, source_line")
    result = []
    for row in table.to_pylist():
        for name in ("request_metadata", "key_sources"):
            if name in row and row[name] is not None:
                row[name] = dict(row[name])
        result.append(row)
    return result
