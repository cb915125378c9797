"""Evaluate the detectors on the labelled benchmark: precision, recall and time to detect per kind.

The benchmark's cells go through the same series, baselines, detectors and lifecycle as the hourly
run, replayed hour by hour over the evaluation days. An alert is the opening of an anomaly. Its
detection time is the end of the hour that opened it, because the hourly run after that hour reads it.

- An alert matches an incident when its boundary is one the incident changes and it is detected between
  the incident's start and six hours after its end.
- Recall of a kind: incidents of that kind matched by an alert of the same kind, over all its incidents.
- Precision of a kind: its alerts that match an incident of any kind, over its alerts. Alerts on a
  planned change (a launch or a lasting step) within the baseline's adaptation time of the change are
  counted apart, as change alerts, and left out of precision. The change is real, and what must hold is
  that it stops alerting in bounded time. A change alert later than that counts as a false positive.
- Time to detect: detection time minus incident start, for the incidents a same-kind alert matched.

Run ``python -m genai_finops.anomalies.evaluation`` (``make eval``) to write docs/anomaly-benchmark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Anomalies
from .baseline import ADAPTATION_HOURS
from .benchmark import KINDS, Benchmark, generate_benchmark
from .detectors import compute_baselines, detect
from .lifecycle import AnomalyState, Tracker
from .series import HOUR, build_series

MATCH_GRACE_HOURS = 6
# Severities of the scaled-down runs that make eval adds to the page.
SMALLER_SEVERITIES = (0.5, 0.25)
# Evaluation days and incidents per kind of each organisation size.
SIZES = {"small": (21, 2), "large": (35, 6)}


@dataclass
class Alert:
    """An opened anomaly of the replay, with the hours as indices from the benchmark's first hour."""

    kind: str
    boundary: str
    opened: int
    detected: int
    closed: int | None


def replay(benchmark: Benchmark, config: Anomalies) -> list[Alert]:
    """Run detection over the benchmark and return every anomaly opened during the evaluation hours."""
    series = build_series(benchmark.cells, benchmark.start, benchmark.end)
    excluded = np.isin(series.hours.astype("datetime64[D]"), np.array(benchmark.holidays, dtype="datetime64[D]"))
    baselines = compute_baselines(series, excluded)
    signals = detect(series, baselines, config)
    tracker = Tracker(series, signals, config)
    first = int((benchmark.evaluation_start - benchmark.start) // HOUR)
    opened: list[AnomalyState] = []
    for hour in range(first, len(series.hours)):
        opened.extend(tracker.step(hour).opened)
    return [
        Alert(state.kind, f"{state.dimension}={state.value}", state.opened, state.detected + 1, state.closed)
        for state in opened
    ]


def score(benchmark: Benchmark, alerts: list[Alert]) -> dict[str, Any]:
    """Match alerts to incidents and planned changes and compute the figures per kind."""
    change_boundaries = []
    for change in benchmark.changes:
        feature = benchmark.features[change.feature]
        boundaries = {f"feature={feature.name}", f"team={feature.team}", f"inference_profile={feature.profile}"}
        boundaries |= {f"principal={feature.principal}", f"model={feature.model}", "organisation=all"}
        boundaries |= {"environment=prod"}
        change_boundaries.append((change, boundaries))

    matched_incident: dict[int, list[Alert]] = {index: [] for index in range(len(benchmark.incidents))}
    per_kind: dict[str, dict[str, Any]] = {
        kind: {"alerts": 0, "true_alerts": 0, "false_alerts": 0, "change_alerts": 0} for kind in KINDS
    }
    false_alerts = []
    for alert in alerts:
        counts = per_kind[alert.kind]
        hits = [
            index
            for index, incident in enumerate(benchmark.incidents)
            if alert.boundary in incident.boundaries
            and incident.start <= alert.detected <= incident.end + MATCH_GRACE_HOURS
        ]
        if hits:
            counts["alerts"] += 1
            counts["true_alerts"] += 1
            for index in hits:
                matched_incident[index].append(alert)
            continue
        planned = [
            change
            for change, boundaries in change_boundaries
            if alert.boundary in boundaries and change.hour <= alert.detected <= change.hour + ADAPTATION_HOURS
        ]
        if planned:
            counts["change_alerts"] += 1
            continue
        counts["alerts"] += 1
        counts["false_alerts"] += 1
        false_alerts.append(alert)

    ttd: dict[str, list[int]] = {kind: [] for kind in KINDS}
    detected: dict[str, int] = {kind: 0 for kind in KINDS}
    incidents_per_kind: dict[str, int] = {kind: 0 for kind in KINDS}
    missed = []
    for index, incident in enumerate(benchmark.incidents):
        incidents_per_kind[incident.kind] += 1
        same_kind = [alert for alert in matched_incident[index] if alert.kind == incident.kind]
        if same_kind:
            detected[incident.kind] += 1
            ttd[incident.kind].append(min(alert.detected for alert in same_kind) - incident.start)
        else:
            missed.append(incident)

    figures: dict[str, Any] = {"kinds": {}}
    for kind in KINDS:
        counts = per_kind[kind]
        figures["kinds"][kind] = {
            "incidents": incidents_per_kind[kind],
            "detected": detected[kind],
            "recall": detected[kind] / incidents_per_kind[kind] if incidents_per_kind[kind] else None,
            "alerts": counts["alerts"],
            "false_alerts": counts["false_alerts"],
            "change_alerts": counts["change_alerts"],
            "precision": counts["true_alerts"] / counts["alerts"] if counts["alerts"] else None,
            "median_ttd_hours": float(np.median(ttd[kind])) if ttd[kind] else None,
        }
    total_alerts = sum(c["alerts"] for c in per_kind.values())
    total_true = sum(c["true_alerts"] for c in per_kind.values())
    all_ttd = [value for values in ttd.values() for value in values]
    figures["overall"] = {
        "incidents": len(benchmark.incidents),
        "detected": sum(detected.values()),
        "recall": sum(detected.values()) / len(benchmark.incidents) if benchmark.incidents else None,
        "alerts": total_alerts,
        "false_alerts": total_alerts - total_true,
        "change_alerts": sum(c["change_alerts"] for c in per_kind.values()),
        "precision": total_true / total_alerts if total_alerts else None,
        "median_ttd_hours": float(np.median(all_ttd)) if all_ttd else None,
    }
    figures["false_alerts"] = [
        {"kind": alert.kind, "boundary": alert.boundary, "detected_hour": alert.detected} for alert in false_alerts
    ]
    figures["missed"] = [
        {"kind": incident.kind, "feature": incident.feature, "start_hour": incident.start} for incident in missed
    ]
    return figures


def evaluate(seed: int, size: str = "small", config: Anomalies | None = None, severity: float = 1.0) -> dict[str, Any]:
    """Generate the benchmark of one seed, size and incident severity, replay detection on it and score it."""
    config = config or Anomalies()
    evaluation_days, per_kind = SIZES[size]
    benchmark = generate_benchmark(
        seed, size=size, evaluation_days=evaluation_days, incidents_per_kind=per_kind, incident_severity=severity
    )
    config = config.model_copy(update={"holidays": benchmark.holidays})
    started = time.perf_counter()
    alerts = replay(benchmark, config)
    elapsed = time.perf_counter() - started
    figures = score(benchmark, alerts)
    figures["setup"] = {
        "seed": seed,
        "size": size,
        "severity": severity,
        "features": len(benchmark.features),
        "cells": benchmark.cells.num_rows,
        "hours": int((benchmark.end - benchmark.start) // HOUR),
        "evaluation_hours": int((benchmark.end - benchmark.evaluation_start) // HOUR),
        "planned_changes": len(benchmark.changes),
        "replay_seconds": round(elapsed, 2),
        "machine": f"{platform.machine()} with {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    return figures


def _cell(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render_markdown(figures: dict[str, Any], command: str) -> str:
    """Render the figures as the benchmark page."""
    setup = figures["setup"]
    lines = [
        "# Anomaly detection benchmark",
        "",
        f"Produced by `{command}` on {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "The method and the counting rules are in docs/anomalies.md and in the docstring of "
        "`genai_finops.anomalies.evaluation`.",
        "",
        f"Organisation `{setup['size']}`, seed {setup['seed']}: {setup['features']} features, "
        f"{setup['hours']} hours of hourly usage cells ({setup['cells']} cells), of which the last "
        f"{setup['evaluation_hours']} are evaluated, with {setup['planned_changes']} planned changes "
        "(launches and lasting steps), holidays and month-end batches. "
        f"The replay (series, baselines, detectors and the hour-by-hour lifecycle, without generating the data) "
        f"took {setup['replay_seconds']} s on {setup['machine']}.",
        "",
        "| kind | incidents | detected | recall | alerts | false alerts | precision | median time to detect (h) "
        "| change alerts |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [*figures["kinds"].items(), ("all kinds", figures["overall"])]
    for kind, values in rows:
        lines.append(
            f"| {kind} | {values['incidents']} | {values['detected']} | {_cell(values['recall'])} | {values['alerts']} "
            f"| {values['false_alerts']} | {_cell(values['precision'])} | {_cell(values['median_ttd_hours'], 1)} "
            f"| {values['change_alerts']} |"
        )
    lines += [
        "",
        "Targets for incidents visible in the logs: recall at least 0.9, precision at least 0.9, median time "
        "to detect at most 2 hours. The time to detect counts from the start of the incident's first hour to "
        "the end of the hour whose data opened the anomaly (the hourly run right after it).",
        "",
        "How to read it: `alerts` counts opened anomalies of the kind, change alerts excluded. More alerts "
        "than incidents means that an incident also opened an anomaly on a second boundary that no narrower "
        "boundary explained, or one of another kind (a loop on a feature with caching can open a cache-write "
        "anomaly too). Such alerts count as true when they match an incident. `change alerts` are alerts on a "
        "launch or a lasting step within the baseline's adaptation time, left out of precision.",
        "",
        "Limits: the incidents are sized to cost at least 6 per hour on top of normal traffic and change their "
        "feature's cost severalfold, so they are clearly visible in the logs. Smaller or slower incidents are "
        "harder, and an incident below the configured minimum impact is not alerted by design. The synthetic "
        "traffic has Poisson request counts and 5% log-normal noise on tokens; real traffic is burstier.",
        "",
    ]
    if figures["false_alerts"]:
        lines.append("False alerts: " + "; ".join(f"{a['kind']} on {a['boundary']}" for a in figures["false_alerts"]))
        lines.append("")
    if figures["missed"]:
        lines.append("Missed incidents: " + "; ".join(f"{m['kind']} on {m['feature']}" for m in figures["missed"]))
        lines.append("")
    return "\n".join(lines)


def render_seeds(rows: list[dict[str, Any]], title: str, explanation: str) -> str:
    """Render the overall figures of further runs (other seeds or severities) as a Markdown section."""
    lines = [
        "",
        f"## {title}",
        "",
        explanation,
        "",
        "| seed | incident severity | incidents | detected | recall | alerts | false alerts | precision "
        "| median time to detect (h) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        overall = row["overall"]
        lines.append(
            f"| {row['setup']['seed']} | {row['setup']['severity']} | {overall['incidents']} | {overall['detected']} "
            f"| {_cell(overall['recall'])} "
            f"| {overall['alerts']} | {overall['false_alerts']} | {_cell(overall['precision'])} "
            f"| {_cell(overall['median_ttd_hours'], 1)} |"
        )
    recalls = [row["overall"]["recall"] for row in rows if row["overall"]["recall"] is not None]
    precisions = [row["overall"]["precision"] for row in rows if row["overall"]["precision"] is not None]
    if recalls and precisions:
        lines += ["", f"Lowest recall {min(recalls):.2f}, lowest precision {min(precisions):.2f}.", ""]
    return "\n".join(lines)


def run_evaluation(seed: int, out_path: Path | str, size: str = "large", other_seeds: int = 0) -> dict[str, Any]:
    """Evaluate one seed (and ``other_seeds`` following seeds), write the figures as Markdown, return the first."""
    figures = evaluate(seed, size)
    command = f"python -m genai_finops.anomalies.evaluation --seed {seed} --size {size} --out {out_path}"
    if other_seeds:
        command += f" --other-seeds {other_seeds}"
    text = render_markdown(figures, command)
    if other_seeds:
        rows = [evaluate(seed + offset, size) for offset in range(1, other_seeds + 1)]
        text += render_seeds(
            rows,
            f"Other seeds (organisation `{size}`)",
            "The same organisation drawn with other seeds: other noise, and other incident hours and features.",
        )
        smaller = [evaluate(seed, size, severity=severity) for severity in SMALLER_SEVERITIES]
        text += render_seeds(
            smaller,
            f"Smaller incidents (organisation `{size}`, seed {seed})",
            "Every incident scaled down: the extra traffic, the token factor above 1 and the share of traffic "
            "affected are multiplied by the severity. Incidents whose impact stays below the minimum impact "
            "(5 per anomaly by default) are not alerted by design, so recall falls as they shrink.",
        )
    Path(out_path).write_text(text, encoding="utf-8")
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command-line entry of the evaluation (``make eval``)."""
    parser = argparse.ArgumentParser(description="Evaluate anomaly detection on the labelled benchmark.")
    parser.add_argument("--seed", type=int, default=7, help="seed of the benchmark generator")
    parser.add_argument("--size", choices=sorted(SIZES), default="large", help="organisation size")
    parser.add_argument("--out", type=Path, default=Path("docs/anomaly-benchmark.md"), help="Markdown page to write")
    parser.add_argument(
        "--other-seeds", type=int, default=0, help="also evaluate this many following seeds and list their figures"
    )
    args = parser.parse_args(argv)
    figures = run_evaluation(args.seed, args.out, args.size, args.other_seeds)
    json.dump({"overall": figures["overall"], "kinds": figures["kinds"]}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
