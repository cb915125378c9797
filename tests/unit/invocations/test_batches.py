"""Batches of several objects: record numbers per object and one partition per day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genai_finops.config import GovernanceConfig
from genai_finops.invocations import LocalUserKey, ProfileResolver, ingest_log_objects
from genai_finops.invocations.objects import LogObject, file_etag
from genai_finops.lake.local import LocalLake

from .conftest import rows
from .logs import bucket_key, record, write_object


def _write_objects(tmp_path: Path, contents: list[tuple[str, list[Any], bool]]) -> list[LogObject]:
    objects = []
    for name, lines, compress in contents:
        key = bucket_key(name=name)
        path = write_object(tmp_path / key, lines, compress=compress)
        objects.append(LogObject(key=key, etag=file_etag(path), path=path))
    return objects


def test_line_numbers_restart_per_object(lake: LocalLake, tmp_path: Path) -> None:
    long_object = [record(f"a-{index}") for index in range(2500)]
    objects = _write_objects(
        tmp_path,
        [
            ("20261103T101500000Z_000000000000000a.json.gz", long_object, True),
            ("20261103T101500000Z_000000000000000b.json.gz", [record("b-1"), "", record("b-2")], True),
            ("20261103T101500000Z_000000000000000c.json", [record("c-1"), record("c-2"), record("c-3")], False),
            ("20261103T101500000Z_000000000000000d.json.gz", [record("d-1")], True),
        ],
    )
    report = ingest_log_objects(lake, GovernanceConfig(), objects, LocalUserKey(lake.root), ProfileResolver())
    lines = {row["request_id"]: row["source_line"] for row in rows(lake, "request_id, source_line")}
    assert report.rows_loaded == 2506
    assert all(lines[f"a-{index}"] == index + 1 for index in range(2500))
    assert (lines["b-1"], lines["b-2"]) == (1, 2)
    assert (lines["c-1"], lines["c-2"], lines["c-3"]) == (1, 2, 3)
    assert lines["d-1"] == 1


def test_batch_over_days_writes_each_day(lake: LocalLake, tmp_path: Path) -> None:
    days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    lines: list[Any] = [
        record(f"{day}-{index}", timestamp=f"{day}T12:00:0{index}Z") for day in days for index in range(3)
    ]
    lines.append(record("2026-11-05-0", timestamp="2026-11-05T12:00:00Z", input={"inputTokenCount": 1}))
    objects = _write_objects(tmp_path, [("20261103T101500000Z_000000000000000e.json.gz", lines, True)])
    report = ingest_log_objects(lake, GovernanceConfig(), objects, LocalUserKey(lake.root), ProfileResolver())
    assert report.partitions_written == days
    assert report.rows_loaded == 15
    assert report.rows_duplicate == 1
    assert [partition["date"] for partition in lake.partitions("invocations")] == days
    for day in days:
        day_rows = rows(lake, "request_id, date", f"date = '{day}'")
        assert [row["request_id"] for row in day_rows] == [f"{day}-{index}" for index in range(3)]
