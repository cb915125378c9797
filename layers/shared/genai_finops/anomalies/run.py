"""One detection run: hourly on invocation logs, daily on the bill, with the table and the alerts.

The hourly run reads ``history_days`` of hourly cells up to the last complete hour before ``at`` and
computes the baselines and detectors. It continues the open anomalies of the ``anomalies`` table, opens
new ones for that hour and writes every changed anomaly back. Alerts go out for anomalies that opened or
grew by the update step. The daily run does the same on billed cost per day (kind
``billed_spend``), marks hourly anomalies whose day the bill now covers as confirmed or revised, and
sends the FinOps owner the digest of the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from ..config import GovernanceConfig
from ..governance.messages import Severity
from ..governance.routing import Router, route_team
from ..lake.base import Lake
from ..money import to_money
from ..observability import logger
from ..sql import load_query
from ..tables import ANOMALIES
from .alerts import (
    AnomalyAlert,
    AnomalyDigest,
    AnomalyMessage,
    ChangeDecomposition,
    Contributor,
    DigestLine,
    build_anomaly_message,
)
from .baseline import Baseline, compute_daily_baseline
from .cells import bill_through, billing_periods, load_daily_billed_cells, load_hourly_cells
from .describe import Describer
from .detectors import Signal, compute_baselines, detect
from .lifecycle import AnomalyState, Tracker
from .series import DIMENSIONS, HOUR, METRICS, build_series, to_hour64

DAY = np.timedelta64(1, "D")
HOURLY_SOURCE = "hourly_logs"
DAILY_SOURCE = "daily_bill"
# Share of an hourly anomaly's impact the bill must show as excess on its first day to confirm it.
CONFIRM_SHARE = Decimal("0.5")
# Impact, in multiples of the minimum impact, from which an alert is critical.
CRITICAL_MULTIPLE = 10


@dataclass
class DetectionReport:
    """Counts of one detection run and the anomaly rows it wrote."""

    source: str
    evaluated: dt.datetime
    series: int
    opened: int = 0
    updated: int = 0
    closed: int = 0
    still_open: int = 0
    confirmed: int = 0
    revised: int = 0
    unpriced_requests: int = 0
    messages_sent: int = 0
    duplicates_skipped: int = 0
    anomalies: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "evaluated": self.evaluated.isoformat(),
            "series": self.series,
            "opened": self.opened,
            "updated": self.updated,
            "closed": self.closed,
            "still_open": self.still_open,
            "confirmed": self.confirmed,
            "revised": self.revised,
            "unpriced_requests": self.unpriced_requests,
            "messages_sent": self.messages_sent,
            "duplicates_skipped": self.duplicates_skipped,
        }


def _floor_hour(value: dt.datetime) -> dt.datetime:
    value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.replace(minute=0, second=0, microsecond=0)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _holiday_mask(steps: np.ndarray, config: GovernanceConfig) -> np.ndarray:
    holidays = np.array([np.datetime64(day, "D") for day in config.anomalies.holidays], dtype="datetime64[D]")
    return np.isin(steps.astype("datetime64[D]"), holidays)


def _states_from_rows(rows: pa.Table, start: np.datetime64, step: np.timedelta64) -> list[AnomalyState]:
    states = []
    for record in rows.to_pylist():

        def index(value: dt.datetime) -> int:
            return int((to_hour64(_aware(value)) - start) // step)  # type: ignore[arg-type]

        alerted = record["alerted_impact"]
        states.append(
            AnomalyState(
                kind=record["kind"],
                dimension=record["dimension"],
                value=record["boundary_value"],
                opened=index(record["opened_at"]),
                detected=index(record["detected_at"]),
                last_anomalous=index(record["last_anomalous_at"]),
                window_end=index(record["window_end"]),
                alerts_sent=record["alerts_sent"] or 0,
                alerted_impact=float(alerted) if alerted is not None else None,
                also_visible_on=list(record["also_visible_on"] or []),
                anomaly_id=record["anomaly_id"],
                detected_at=_aware(record["detected_at"]),
                billed_status=record["billed_status"],
                billed_impact=record["billed_impact"],
            )
        )
    return states


def write_anomalies(lake: Lake, records: list[dict[str, Any]]) -> None:
    """Merge changed anomaly rows into their billing-period partitions (replacing rows with the same id)."""
    by_period: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        opened: dt.datetime = record["opened_at"]
        by_period.setdefault(f"{opened.year:04d}-{opened.month:02d}", []).append(record)
    for period, changed in sorted(by_period.items()):
        existing = lake.query(load_query("anomaly_partition"), [period]).to_pylist()
        replaced = {record["anomaly_id"] for record in changed}
        rows = [row for row in existing if row["anomaly_id"] not in replaced] + changed
        full = [{name: row.get(name) for name in ANOMALIES.schema.names} for row in rows]
        full.sort(key=lambda row: (row["opened_at"], row["anomaly_id"]))
        lake.write_partition(ANOMALIES.name, {"billing_period": period}, pa.Table.from_pylist(full, ANOMALIES.schema))


def _severity(impact: Decimal, config: GovernanceConfig) -> Severity:
    return "critical" if impact >= config.anomalies.min_impact * CRITICAL_MULTIPLE else "warning"


def alert_message(record: dict[str, Any], config: GovernanceConfig, now: dt.datetime) -> AnomalyMessage:
    """Build the alert of one anomaly row, routed to the owner of its boundary."""
    decomposition = None
    if record.get("volume_effect") is not None:
        decomposition = ChangeDecomposition(
            volume=record["volume_effect"],
            input_tokens_per_request=record["input_tokens_effect"],
            output_tokens_per_request=record["output_tokens_effect"],
            rate_and_mix=record["rate_mix_effect"],
        )
    payload = AnomalyAlert(
        kind=f"anomaly_{record['kind']}",  # type: ignore[arg-type]
        anomaly_id=record["anomaly_id"],
        anomaly_kind=record["kind"],
        source=record["source"],
        dimension=record["dimension"],
        boundary_value=record["boundary_value"],
        state=record["state"],
        alert_number=record["alerts_sent"],
        opened_at=record["opened_at"],
        window_start=record["window_start"],
        window_end=record["window_end"],
        expected_cost=record["expected_cost"],
        observed_cost=record["observed_cost"],
        impact=record["impact"],
        projected_day_impact=record["projected_day_impact"],
        relative_change=record["relative_change"],
        z_score=record["z_score"],
        decomposition=decomposition,
        top_contributors=[Contributor(**item) for item in record["top_contributors"]],
        also_visible_on=record["also_visible_on"],
        evidence=record["evidence"],
        currency=record["currency"],
    )
    about = record["owner_team"]
    opened: dt.datetime = record["opened_at"]
    return build_anomaly_message(
        payload,
        team=route_team(config, about),
        about_team=about,
        severity=_severity(record["impact"], config),
        billing_period=f"{opened.year:04d}-{opened.month:02d}",
        created_at=now,
    )


def _run_tracker(
    tracker: Tracker,
    describer: Describer,
    baselines: dict[str, np.ndarray],
    config: GovernanceConfig,
    report: DetectionReport,
    now: dt.datetime,
    hour: int | None = None,
) -> tuple[list[dict[str, Any]], list[AnomalyMessage]]:
    """Step the tracker to ``hour`` (default: the last one) and describe the anomalies it touched."""
    events = tracker.step(len(tracker.series.hours) - 1 if hour is None else hour)
    alerting = {id(state) for state in [*events.opened, *events.updated]}
    records = []
    messages = []
    seen: set[int] = set()
    for state in [*events.opened, *events.updated, *events.closed, *tracker.open.values()]:
        if id(state) in seen:
            continue
        seen.add(id(state))
        if id(state) in alerting:
            state.alerts_sent += 1
        record = describer.describe(state, baselines, now)
        if id(state) in alerting and record.get("impact") is not None:
            state.alerted_impact = float(record["impact"])
            record["alerted_impact"] = record["impact"]
            messages.append(alert_message(record, config, now))
        records.append(record)
    report.opened = len(events.opened)
    report.updated = len(events.updated)
    report.closed = len(events.closed)
    report.still_open = len(tracker.open)
    return records, messages


def _send(router: Router | None, messages: list[AnomalyMessage], report: DetectionReport) -> None:
    if router is None or not messages:
        return
    delivery = router.send(messages)
    report.messages_sent += delivery.sent
    report.duplicates_skipped += delivery.skipped_duplicates


def detect_hourly(
    lake: Lake,
    config: GovernanceConfig,
    at: dt.datetime,
    router: Router | None = None,
    since: dt.datetime | None = None,
) -> DetectionReport:
    """Evaluate the last complete hour before ``at`` on invocation logs, write anomalies and send alerts.

    With ``since``, every complete hour from ``since`` up to ``at`` is evaluated in order, as the hourly
    schedule would have done, from one read of the logs (a catch-up after an outage, or a replay).
    """
    end = _floor_hour(at)
    first_evaluated = (
        end - dt.timedelta(hours=1) if since is None else min(_floor_hour(since), end - dt.timedelta(hours=1))
    )
    start = first_evaluated + dt.timedelta(hours=1) - dt.timedelta(days=config.anomalies.history_days)
    # NOTE: every run aggregates the whole history from invocations, so on Athena it scans history_days of
    # logs each hour. A table of hourly cells that each run extends by one hour would scan one hour.
    cells, unpriced = load_hourly_cells(lake, config, start, end)
    first, last = to_hour64(start), to_hour64(end)
    series = build_series(cells, first, last)
    baselines = compute_baselines(series, _holiday_mask(series.hours, config))
    signals = detect(series, baselines, config.anomalies)
    open_rows = lake.query(load_query("anomaly_open"), [HOURLY_SOURCE])
    tracker = Tracker(series, signals, config.anomalies, _states_from_rows(open_rows, first, HOUR))
    describer = Describer(tracker, HOURLY_SOURCE, HOUR, config.currency)
    report = DetectionReport(HOURLY_SOURCE, end - dt.timedelta(hours=1), len(series.keys), unpriced_requests=unpriced)
    expected = {name: baselines.metrics[name].expected for name in METRICS}
    logger.info(
        "hourly anomaly detection started", extra={"hour": report.evaluated.isoformat(), "series": len(series.keys)}
    )
    if since is None:
        records, messages = _run_tracker(tracker, describer, expected, config, report, dt.datetime.now(dt.UTC))
    else:
        records, messages = _replay_hours(tracker, describer, expected, config, report, first_evaluated, end)
    if records:
        write_anomalies(lake, records)
    _send(router, messages, report)
    report.anomalies = records
    logger.info("hourly anomaly detection finished", extra=report.as_dict())
    return report


def _replay_hours(
    tracker: Tracker,
    describer: Describer,
    expected: dict[str, np.ndarray],
    config: GovernanceConfig,
    report: DetectionReport,
    first: dt.datetime,
    end: dt.datetime,
) -> tuple[list[dict[str, Any]], list[AnomalyMessage]]:
    """Step the tracker through each hour in [first, end), keeping each anomaly's latest description."""
    latest: dict[str, dict[str, Any]] = {}
    messages: list[AnomalyMessage] = []
    totals = {"opened": 0, "updated": 0, "closed": 0}
    offset = len(tracker.series.hours) - int((end - first) // dt.timedelta(hours=1))
    for index in range(offset, len(tracker.series.hours)):
        # Each hour is described as of its end, when the schedule would have evaluated it.
        hour_end = first + dt.timedelta(hours=index - offset + 1)
        records, hour_messages = _run_tracker(tracker, describer, expected, config, report, hour_end, index)
        for record in records:
            latest[record["anomaly_id"]] = record
        messages.extend(hour_messages)
        for name in totals:
            totals[name] += getattr(report, name)
    report.opened, report.updated, report.closed = totals["opened"], totals["updated"], totals["closed"]
    return list(latest.values()), messages


def _daily_signal(series: Any, baseline: Baseline, config: GovernanceConfig) -> Signal:
    cost = series.metrics["cost"]
    expected = baseline.expected
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(baseline.sigma > 0, (cost - expected) / baseline.sigma, np.where(cost > expected, np.inf, 0.0))
        relative = float(config.anomalies.min_relative_change)
        up = (cost > expected * (1 + relative)) & (cost > expected) & ~np.isnan(expected)
    flag = up & (z > float(config.anomalies.z_threshold))
    return Signal(
        kind="billed_spend",
        flag=flag,
        above=up & (z > 2.0),
        expected=expected,
        z=z,
        excess=cost - np.nan_to_num(expected),
    )


def detect_daily(
    lake: Lake, config: GovernanceConfig, at: dt.datetime, router: Router | None = None
) -> DetectionReport:
    """Evaluate the last billed day before ``at``: billed anomalies, confirmations and the FinOps digest."""
    day_end = _floor_hour(at).replace(hour=0)
    start = day_end - dt.timedelta(days=config.anomalies.history_days)
    covered = bill_through(lake, billing_periods(start, day_end))

    end = day_end
    if covered is not None and covered < day_end:
        end = covered.replace(hour=0, minute=0, second=0, microsecond=0)
    cells = load_daily_billed_cells(lake, config, start.date(), end.date())
    first = np.datetime64(start.date(), "D").astype("datetime64[h]")
    last = np.datetime64(end.date(), "D").astype("datetime64[h]")
    series = build_series(cells, first, last, step=np.timedelta64(24, "h"))
    days = series.hours.astype("datetime64[D]")
    baseline = compute_daily_baseline(series.metrics["cost"], days, _holiday_mask(series.hours, config))
    signal = _daily_signal(series, baseline, config)

    daily_config = config.anomalies.model_copy(update={"close_after_hours": 1})
    open_rows = lake.query(load_query("anomaly_open"), [DAILY_SOURCE])
    tracker = Tracker(
        series, {"billed_spend": signal}, daily_config, _states_from_rows(open_rows, first, np.timedelta64(24, "h"))
    )
    describer = Describer(tracker, DAILY_SOURCE, np.timedelta64(24, "h"), config.currency)
    report = DetectionReport(DAILY_SOURCE, end - dt.timedelta(days=1), len(series.keys))

    now = dt.datetime.now(dt.UTC)
    records: list[dict[str, Any]] = []
    messages: list[AnomalyMessage] = []
    if len(series.hours):
        records, messages = _run_tracker(tracker, describer, {"cost": baseline.expected}, config, report, now)
    records.extend(_confirm_hourly(lake, series, signal, end, report, now))

    if records:
        write_anomalies(lake, records)
    _send(router, messages, report)
    digest = digest_message(lake, config, day_end.date() - dt.timedelta(days=1), now)
    _send(router, [digest], report)
    report.anomalies = records
    logger.info("daily anomaly detection finished", extra=report.as_dict())
    return report


def _confirm_hourly(
    lake: Lake, series: Any, signal: Signal, bill_end: dt.datetime, report: DetectionReport, now: dt.datetime
) -> list[dict[str, Any]]:
    """Mark hourly anomalies whose first day the bill covers as confirmed or revised by the billed series."""
    positions = {key: row for row, key in enumerate(series.keys)}
    first_day = series.hours[0].astype("datetime64[D]") if len(series.hours) else None
    changed = []
    candidates = lake.query(load_query("anomaly_since"), ["1970-01-01 00:00:00", "1970-01-01 00:00:00"])
    for record in candidates.to_pylist():
        if record["source"] != HOURLY_SOURCE or record["billed_status"] is not None:
            continue
        opened = _aware(record["opened_at"])
        assert opened is not None
        if first_day is None or opened.date() >= bill_end.date():
            continue
        row = positions.get((record["dimension"], record["boundary_value"]))
        if row is None or record["dimension"] not in DIMENSIONS:
            continue
        column = int((np.datetime64(opened.date(), "D") - first_day) // DAY)
        if column < 0 or column >= signal.excess.shape[1]:
            continue
        billed_excess = to_money(Decimal(repr(float(signal.excess[row, column]))))
        impact = record["impact"] or Decimal(0)
        confirmed = billed_excess > 0 and billed_excess >= impact * CONFIRM_SHARE
        record["billed_status"] = "confirmed" if confirmed else "revised"
        record["billed_impact"] = billed_excess
        record["updated_at"] = now
        for key in ("opened_at", "last_anomalous_at", "closed_at", "detected_at", "window_start", "window_end"):
            record[key] = _aware(record[key])
        record.pop("billing_period", None)
        if confirmed:
            report.confirmed += 1
        else:
            report.revised += 1
        changed.append(record)
    return changed


def digest_message(lake: Lake, config: GovernanceConfig, day: dt.date, now: dt.datetime) -> AnomalyMessage:
    """Build the FinOps owner's digest of anomalies opened, open or closed on ``day``."""
    since = f"{day.isoformat()} 00:00:00"
    rows = lake.query(load_query("anomaly_since"), [since, since]).to_pylist()
    day_start = dt.datetime.combine(day, dt.time(), dt.UTC)
    day_end = day_start + dt.timedelta(days=1)

    lines = []
    opened = still_open = closed = 0
    total = to_money(0)
    for row in sorted(rows, key=lambda item: (-(item["impact"] or 0), item["anomaly_id"])):
        opened_at = _aware(row["opened_at"])
        closed_at = _aware(row["closed_at"])
        assert opened_at is not None
        if opened_at >= day_end:
            continue
        if closed_at is not None and closed_at < day_start:
            continue
        opened += day_start <= opened_at < day_end
        still_open += row["state"] == "open"
        closed += closed_at is not None and day_start <= closed_at < day_end
        # Billed anomalies restate hourly ones on the same spend, so only the hourly impact is summed.
        if row["source"] == HOURLY_SOURCE:
            total += row["impact"] or 0
        lines.append(
            DigestLine(
                anomaly_id=row["anomaly_id"],
                anomaly_kind=row["kind"],
                dimension=row["dimension"],
                boundary_value=row["boundary_value"],
                owner_team=row["owner_team"] or config.owners.finops.team,
                state=row["state"],
                opened_at=opened_at,
                impact=row["impact"] or to_money(0),
                billed_status=row["billed_status"],
            )
        )

    payload = AnomalyDigest(
        day=day,
        opened=opened,
        still_open=still_open,
        closed=closed,
        total_impact=total,
        anomalies=lines,
        currency=config.currency,
    )
    finops = config.owners.finops.team
    return build_anomaly_message(
        payload,
        team=finops,
        about_team=None,
        severity="info",
        billing_period=f"{day.year:04d}-{day.month:02d}",
        created_at=now,
    )
