"""Detection quality on the labelled benchmark stays above a floor for a fixed seed."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from genai_finops.anomalies.benchmark import KINDS, generate_benchmark
from genai_finops.anomalies.evaluation import evaluate, run_evaluation
from genai_finops.anomalies.series import HOUR

SEED = 11


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    return evaluate(SEED, "small")


def test_overall_figures_meet_targets(figures: dict[str, object]) -> None:
    overall = figures["overall"]
    assert isinstance(overall, dict)
    assert overall["incidents"] == 2 * len(KINDS)
    assert overall["recall"] >= 0.9
    assert overall["precision"] >= 0.9
    assert overall["median_ttd_hours"] <= 2


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_detected_in_time(figures: dict[str, object], kind: str) -> None:
    values = figures["kinds"][kind]  # type: ignore[index]
    assert values["recall"] >= 0.5
    assert values["precision"] is None or values["precision"] >= 0.8
    assert values["median_ttd_hours"] is not None
    assert values["median_ttd_hours"] <= 2


def test_benchmark_labels_every_kind_with_start() -> None:
    benchmark = generate_benchmark(SEED)
    evaluation_first = int((benchmark.evaluation_start - benchmark.start) // HOUR)
    assert evaluation_first == 42 * 24
    assert all(incident.start >= evaluation_first for incident in benchmark.incidents)
    assert sorted({incident.kind for incident in benchmark.incidents}) == sorted(KINDS)
    assert all(incident.end > incident.start for incident in benchmark.incidents)
    assert {change.kind for change in benchmark.changes} == {"launch", "step"}


def test_run_evaluation_writes_page(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    result = run_evaluation(SEED, out, size="small")
    text = out.read_text(encoding="utf-8")
    assert "python -m genai_finops.anomalies.evaluation --seed 11 --size small" in text
    assert "| all kinds | 14 |" in text
    assert result["overall"]["incidents"] == 14


def test_smaller_incidents_scale_down() -> None:
    full = generate_benchmark(SEED)
    half = generate_benchmark(SEED, incident_severity=0.5)
    assert [i.start for i in half.incidents] == [i.start for i in full.incidents]
    assert all(incident.severity == 0.5 for incident in half.incidents)
    full_cost = pc.sum(full.cells.column("cost")).as_py()
    half_cost = pc.sum(half.cells.column("cost")).as_py()
    assert half_cost < full_cost
