"""Run every benchmark and write docs/benchmarks.md.

Each case runs in its own child process, so that its peak resident memory (ru_maxrss of the child)
is measured apart from the harness and from the other cases. Each product figure is reported beside
a bare DuckDB baseline that reads and writes the same input in the same run.

Usage: python -m benchmarks.run [--scale 1.0] [--only NAME ...] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "docs" / "benchmark-results.json"


@dataclass
class Case:
    """One benchmark: a product run and its DuckDB baseline on the same generated input."""

    name: str
    description: str
    lines: int
    target_ratio: float
    memory_limit_mb: float | None


CASES = [
    Case("cur2_parquet", "CUR 2.0 Parquet, one file", 5_000_000, 2.0, 1536.0),
    Case("legacy_csv_gz", "legacy CUR CSV.gz, one file", 1_000_000, 2.0, None),
    Case("invocation_logs", "Bedrock invocation logs, gzip NDJSON objects with bodies", 1_000_000, 2.0, None),
    Case("attribution", "attribution of one month of requests to hourly bill lines", 10_000_000, 3.0, None),
]


def run_child(case: str, role: str, data_dir: Path, lines: int) -> dict[str, float]:
    """Run one role of one case in a child process and return its wall time and peak memory."""
    command = [sys.executable, "-m", "benchmarks.cases", case, role, str(data_dir), str(lines)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark {case}/{role} failed:\n{completed.stderr[-4000:]}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far. Each role therefore runs in a fresh
    # harness process (the --child flag) that starts exactly one case process.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = elapsed
    result["peak_rss_mb"] = max(peak_kb, before) / 1024
    return result


def isolated(case: str, role: str, data_dir: Path, lines: int) -> dict[str, float]:
    """Run ``run_child`` in a fresh interpreter so that ru_maxrss covers this one child only."""
    command = [sys.executable, "-m", "benchmarks.run", "--child", case, role, str(data_dir), str(lines)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-4000:])
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def machine_description() -> str:
    """Describe the machine the figures were measured on."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory_gb:.0f} GiB memory, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    """Run the selected benchmarks and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every case's line count")
    parser.add_argument("--only", nargs="*", default=None, help="case names to run (default: all)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="folder for generated inputs")
    parser.add_argument("--child", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        case, role, data_dir, lines = args.child
        print(json.dumps(run_child(case, role, Path(data_dir), int(lines))))
        return 0

    from benchmarks import cases

    selected = [case for case in CASES if not args.only or case.name in args.only]
    rows = []
    for case in selected:
        lines = max(1, int(case.lines * args.scale))
        data_dir = args.data / case.name
        print(f"generating {case.name}: {lines:,} lines", file=sys.stderr, flush=True)
        cases.generate(case.name, data_dir, lines)
        baseline = isolated(case.name, "baseline", data_dir, lines)
        product = isolated(case.name, "product", data_dir, lines)
        ratio = product["seconds"] / baseline["seconds"]
        rows.append((case, lines, baseline, product, ratio))
        print(
            f"{case.name}: product {product['seconds']:.1f} s, baseline {baseline['seconds']:.1f} s, "
            f"ratio {ratio:.2f}, peak {product['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    command = (
        "make bench" if args.scale == 1.0 and not args.only else " ".join(["python -m benchmarks.run", *sys.argv[1:]])
    )
    store_results(rows, command)
    write_report()
    failed = [
        case.name
        for case, _, _, product, ratio in rows
        if ratio > case.target_ratio or (case.memory_limit_mb and product["peak_rss_mb"] > case.memory_limit_mb)
    ]
    if failed:
        print(f"targets missed: {', '.join(failed)}", file=sys.stderr)
    return 0


def store_results(rows: list[tuple[Case, int, dict[str, float], dict[str, float], float]], command: str) -> None:
    """Record each case's latest figures in docs/benchmark-results.json, keeping cases not run this time."""
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    for case, count, baseline, product, ratio in rows:
        results[case.name] = {
            "lines": count,
            "product_seconds": round(product["seconds"], 3),
            "baseline_seconds": round(baseline["seconds"], 3),
            "ratio": round(ratio, 3),
            "product_peak_mb": round(product["peak_rss_mb"]),
            "baseline_peak_mb": round(baseline["peak_rss_mb"]),
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": command,
            "machine": machine_description(),
        }
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_report() -> None:
    """Write docs/benchmarks.md from the recorded results: each figure beside its baseline, with its command."""
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    lines = [
        "# Benchmarks",
        "",
        "Each case runs in a child process; peak memory is that process's maximum resident set size. The",
        "baseline is a bare DuckDB read of the same input written back to Parquet, timed in the same run; for",
        "attribution it is a bare join of requests to their hour's bill lines, split by token share, to Parquet.",
        "The figures come from docs/benchmark-results.json, which `make bench` (or one case with",
        "`python -m benchmarks.run --only CASE`) updates. After an attribution run,",
        "`python -m benchmarks.attribution_floor` times the parts of attribution that do not depend on the",
        "allocation (writing the request_costs rows and counting distinct users) beside the same bare join.",
        "",
        "| case | lines | product s | lines/s | baseline s | ratio | target | product peak MB | baseline peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    measured = []
    for case in CASES:
        result = results.get(case.name)
        if result is None:
            continue
        target = f"≤ {case.target_ratio:g}x" + (f", < {case.memory_limit_mb:g} MB" if case.memory_limit_mb else "")
        met = result["ratio"] <= case.target_ratio and (
            not case.memory_limit_mb or result["product_peak_mb"] < case.memory_limit_mb
        )
        lines.append(
            f"| {case.description} | {result['lines']:,} | {result['product_seconds']:.2f} | "
            f"{result['lines'] / result['product_seconds']:,.0f} | {result['baseline_seconds']:.2f} | "
            f"{result['ratio']:.2f} | {target} ({'met' if met else 'missed'}) | {result['product_peak_mb']} | "
            f"{result['baseline_peak_mb']} |"
        )
        measured.append(f"- {case.name}: {result['measured']}, `{result['command']}`, {result['machine']}.")
    lines += ["", "Measured:", "", *measured, ""]
    REPORT.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
