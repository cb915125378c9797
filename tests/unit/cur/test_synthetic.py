"""The synthetic benchmark exports are valid input for the ingest and are reproducible."""

from __future__ import annotations

from pathlib import Path

from genai_finops.cur.synthetic import write_cur2_parquet, write_legacy_csv_gz
from genai_finops.lake.local import LocalLake

from .builders import cost_lines, ingest


def test_cur2_synthetic_ingests(lake: LocalLake, tmp_path: Path) -> None:
    path = write_cur2_parquet(tmp_path / "cur2.parquet", 3_000, seed=1)
    [report] = ingest(lake, path)
    [period] = report.periods
    assert period.source_formats == ["cur2"]
    assert period.read.rows == 3_000
    assert period.balances()
    assert 0 < period.in_scope.rows < 3_000
    assert period.unknown_usage_types == {}
    lines = cost_lines(lake)
    assert {line["token_class"] for line in lines} >= {"input", "output", "cache_read", "cache_write"}
    assert all(line["team"] is not None for line in lines)


def test_legacy_synthetic_ingests(lake: LocalLake, tmp_path: Path) -> None:
    path = write_legacy_csv_gz(tmp_path / "legacy.csv.gz", 2_000, seed=1)
    [report] = ingest(lake, path)
    [period] = report.periods
    assert period.source_formats == ["cur-legacy"]
    assert period.read.rows == 2_000
    assert period.balances()


def test_synthetic_is_reproducible(tmp_path: Path) -> None:
    first = write_legacy_csv_gz(tmp_path / "a.csv.gz", 500, seed=3)
    second = write_legacy_csv_gz(tmp_path / "b.csv.gz", 500, seed=3)
    other = write_legacy_csv_gz(tmp_path / "c.csv.gz", 500, seed=4)
    import gzip

    assert gzip.decompress(first.read_bytes()) == gzip.decompress(second.read_bytes())
    assert gzip.decompress(first.read_bytes()) != gzip.decompress(other.read_bytes())
