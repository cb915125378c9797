"""Benchmark cases: input generation, the product run and the bare DuckDB baseline.

Run as ``python -m benchmarks.cases CASE ROLE DATA_DIR LINES``; prints one JSON line with ``seconds``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from genai_finops.config import GovernanceConfig
from genai_finops.lake.local import LocalLake


def generate(case: str, data_dir: Path, lines: int) -> None:
    """Write the input of a case once; an input of the right size that already exists is reused."""
    marker = data_dir / f"generated-{lines}.json"
    if marker.exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    (data_dir / "input").mkdir(parents=True)
    if case == "cur2_parquet":
        from genai_finops.cur.synthetic import write_cur2_parquet

        write_cur2_parquet(data_dir / "input" / "cur2-00001.snappy.parquet", lines, seed=1)
    elif case == "legacy_csv_gz":
        from genai_finops.cur.synthetic import write_legacy_csv_gz

        write_legacy_csv_gz(data_dir / "input" / "legacy-1.csv.gz", lines, seed=1)
    elif case == "invocation_logs":
        from genai_finops.invocations.synthetic import write_log_objects

        write_log_objects(data_dir / "input", lines, seed=1)
    elif case == "attribution":
        from benchmarks.attribution_data import write_attribution_lake

        write_attribution_lake(data_dir / "lake", lines, seed=1)
    else:
        raise ValueError(f"unknown benchmark case {case!r}")
    marker.write_text(json.dumps({"lines": lines}), encoding="utf-8")


def _baseline_sql(case: str, data_dir: Path) -> str:
    source = data_dir / "input"
    if case == "cur2_parquet":
        reader = f"read_parquet('{source}/*.parquet')"
    elif case == "legacy_csv_gz":
        reader = f"read_csv('{source}/*.csv.gz', all_varchar = true)"
    else:
        reader = f"read_json('{source}/**/*.json.gz', format = 'newline_delimited', maximum_object_size = 104857600)"
    return f"COPY (SELECT * FROM {reader}) TO '{data_dir}/baseline-out.parquet' (FORMAT parquet, COMPRESSION zstd)"


def run_baseline(case: str, data_dir: Path) -> None:
    """Read the input with DuckDB and write it back as one Parquet file.

    For attribution, the baseline is a bare join of each request to its hour's bill line per token class,
    with the cost split by token share and summed per request, written to Parquet.
    """
    if case == "attribution":
        from benchmarks.attribution_data import BARE_JOIN_SQL

        connection = LocalLake(data_dir / "lake").connect()
        connection.execute(f"COPY ({BARE_JOIN_SQL}) TO '{data_dir}/baseline-out.parquet' (FORMAT parquet)")
        connection.close()
        return
    connection = duckdb.connect()
    connection.execute(_baseline_sql(case, data_dir))
    connection.close()


def run_product(case: str, data_dir: Path) -> None:
    """Ingest the input into a fresh local lake with the product's own code."""
    lake_dir = data_dir / "lake"
    config = GovernanceConfig()
    if case == "attribution":
        from benchmarks.attribution_data import PERIOD
        from genai_finops.attribution import BillingPeriod, attribute_period

        attribute_period(LocalLake(lake_dir), config, BillingPeriod.parse(PERIOD))
        return
    shutil.rmtree(lake_dir, ignore_errors=True)
    lake = LocalLake(lake_dir)
    if case in ("cur2_parquet", "legacy_csv_gz"):
        from genai_finops.cur import discover_deliveries, ingest_delivery
        from genai_finops.invocations import LocalUserKey

        for delivery in discover_deliveries([data_dir / "input"]):
            ingest_delivery(lake, config, delivery, user_key=LocalUserKey(lake_dir))
        return
    from genai_finops.invocations import LocalUserKey, discover_log_objects, ingest_log_objects

    objects, _ = discover_log_objects([data_dir / "input"])
    ingest_log_objects(lake, config, objects, LocalUserKey(lake_dir))


ROLES: dict[str, Callable[[str, Path], None]] = {"baseline": run_baseline, "product": run_product}


def main() -> int:
    """Run one role of one case and print its duration as JSON."""
    case, role, data_dir, _lines = sys.argv[1:5]
    # Import the product's modules before the clock starts: the figures compare processing, not start-up.
    import genai_finops.attribution
    import genai_finops.cur
    import genai_finops.invocations  # noqa: F401

    started = time.perf_counter()
    ROLES[role](case, Path(data_dir))
    print(json.dumps({"seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
