"""Generated log objects load with the expected request count, duplicates and token totals."""

from __future__ import annotations

from pathlib import Path

import duckdb

from genai_finops.config import GovernanceConfig
from genai_finops.invocations import LocalUserKey, ProfileResolver, discover_log_objects, ingest_log_objects
from genai_finops.invocations.synthetic import write_log_objects
from genai_finops.lake.local import LocalLake


def test_generated_objects_load(tmp_path: Path, lake: LocalLake) -> None:
    paths = write_log_objects(tmp_path / "bucket", 3000, seed=11, records_per_object=1000)
    assert len(paths) == 3
    assert write_log_objects(tmp_path / "again", 3000, seed=11, records_per_object=1000)[0].read_bytes() == (
        paths[0].read_bytes()
    )
    files = [str(path) for path in paths]
    expected = duckdb.sql(
        "SELECT count(*), count(DISTINCT requestId), sum(input.inputTokenCount), sum(output.outputTokenCount) "
        "FROM read_json($files, format = 'newline_delimited')",
        params={"files": files},
    ).fetchall()[0]
    lines, distinct, input_sum, output_sum = (int(value) for value in expected)

    objects, skipped = discover_log_objects([tmp_path / "bucket"])
    report = ingest_log_objects(lake, GovernanceConfig(), objects, LocalUserKey(lake.root), ProfileResolver())

    assert skipped == []
    assert distinct == 3000
    assert report.lines_read == lines
    assert report.rows_loaded == 3000
    assert report.rows_duplicate == lines - 3000
    assert report.input_tokens == input_sum
    assert report.output_tokens == output_sum
    assert report.rows_unresolved_profile > 0
    stored = lake.query_duckdb("SELECT count(*) AS n, count(user_key) AS users FROM invocations").to_pylist()[0]
    assert stored["n"] == 3000
    assert stored["users"] > 0
