"""The steps of the monthly state machine, one function each, and the daily budget check.

Each step takes the JSON payload its Task state sends and a ``GovernanceRuntime`` (lake, configuration,
router, enforcer, clock) and returns a small JSON-serialisable summary, which the state machine stores
under ``$.steps.<name>``. Lambda handlers and the local executor call these same functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from ..config import GovernanceConfig
from ..errors import InputError
from ..lake.base import Lake
from ..money import to_money
from ..observability import logger
from ..sql import load_query
from ..tables import FORECASTS, GOVERNANCE_RUNS, SHOWBACK
from .budgets import last_day, run_budgets
from .credits import credit_runway, remaining_balance
from .enforcement import Enforcer
from .forecast import SCENARIOS, run_forecast
from .messages import FeatureLine, FinOpsSummary, MonthlyStatement, RunFailed, ScenarioOutlook, build_message
from .periods import PERIOD_PATTERN, add_months, period_of
from .routing import Router, route_team
from .showback import period_credits, run_showback
from .statements import write_team_statements

# Months of Credit lines listed in the FinOps summary when no credit balance date is configured.
CREDIT_HISTORY_MONTHS = 12
FORECAST_SUMMARY_COLUMNS = ("team", "target_period", "granularity", "day", "scenario", "cost", "cost_low", "cost_high")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class GovernanceRuntime:
    """Dependencies of every step, built once at the edge (Lambda handler or command line)."""

    lake: Lake
    config: GovernanceConfig
    router: Router
    enforcer: Enforcer | None = None
    clock: Callable[[], datetime] = field(default=_utc_now)
    # Runs attribution for a period; None means attribution is not available in this runtime.
    attribute: Callable[[Lake, GovernanceConfig, str], dict[str, Any]] | None = None


class StepInput(BaseModel):
    """The payload of every step after PrepareRun."""

    model_config = ConfigDict(extra="ignore")

    billing_period: str = Field(pattern=PERIOD_PATTERN.pattern)
    run_id: str = Field(min_length=1)
    started_at: str
    refresh_attribution: bool = True


def _parse(event: Any) -> StepInput:
    try:
        return StepInput.model_validate(event)
    except ValueError as error:
        raise InputError(f"invalid step input: {error}") from error


# -- PrepareRun ------------------------------------------------------------------------------------


def prepare_run(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Normalise the execution input: default billing period is the month before the execution started."""
    raw = event.get("input") or {}
    if not isinstance(raw, dict):
        raise InputError('the execution input must be a JSON object such as {"billing_period": "2026-11"}')
    started_at = str(event.get("started_at") or runtime.clock().isoformat())
    period = raw.get("billing_period")
    if period is None:
        started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        period = add_months(period_of(started.date()), -1)
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        raise InputError(f"invalid billing_period {period!r} in the execution input: expected YYYY-MM")
    refresh = raw.get("refresh_attribution", True)
    if not isinstance(refresh, bool):
        raise InputError(f"refresh_attribution must be true or false, got {refresh!r}")
    return {
        "billing_period": period,
        "refresh_attribution": refresh,
        "run_id": str(event.get("run_id") or "local"),
        "started_at": started_at,
        "steps": {},
    }


# -- RefreshAttribution ----------------------------------------------------------------------------


def refresh_attribution(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Re-run attribution for the period, or, when refresh_attribution is false, check its output exists."""
    step = _parse(event)
    if step.refresh_attribution:
        if runtime.attribute is None:
            raise InputError("attribution is not available in this runtime; pass refresh_attribution false")
        return {"refreshed": True, **runtime.attribute(runtime.lake, runtime.config, step.billing_period)}
    if {"billing_period": step.billing_period} not in runtime.lake.partitions("attribution_coverage"):
        raise InputError(
            f"attribution_coverage has no partition for {step.billing_period}; run attribution for the period "
            "or start the run with refresh_attribution true"
        )
    return {"refreshed": False}


def attribute_with_package(lake: Lake, config: GovernanceConfig, period: str) -> dict[str, Any]:
    """Run the attribution package for one period and return its totals as JSON-friendly values."""
    from ..attribution.periods import BillingPeriod
    from ..attribution.run import attribute_period

    result = attribute_period(lake, config, BillingPeriod.parse(period))
    return {
        "bill_total": format(result.bill_total, "f"),
        "request_count": result.request_count,
        "attributable_percent": result.attributable_percent,
    }


# -- Forecast, Showback ----------------------------------------------------------------------------


def forecast(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Score earlier forecasts of the period and forecast the next months from it."""
    step = _parse(event)
    made_at = datetime.fromisoformat(step.started_at.replace("Z", "+00:00"))
    return run_forecast(runtime.lake, runtime.config, step.billing_period, step.run_id, made_at)


def showback(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Build the period's showback and decide chargeback or showback per team."""
    step = _parse(event)
    table = run_showback(runtime.lake, runtime.config, step.billing_period)
    rows = table.to_pylist()
    modes = {row["team"]: row["statement_mode"] for row in rows if row["team"] is not None}
    net = sum((row["net_cost"] for row in rows), Decimal(0))
    return {"rows": table.num_rows, "teams": modes, "net_cost": format(to_money(net), "f")}


# -- Budgets ---------------------------------------------------------------------------------------


def budgets(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Evaluate budgets and caps on the whole period and send their alerts."""
    step = _parse(event)
    return check_budgets(runtime, last_day(step.billing_period))


def check_budgets(runtime: GovernanceRuntime, as_of: date) -> dict[str, Any]:
    """Evaluate budgets and caps for the period containing ``as_of`` and send the alerts once each."""
    outcome = run_budgets(runtime.lake, runtime.config, as_of, runtime.enforcer, runtime.clock())
    delivery = runtime.router.send(outcome.messages)
    return {
        "as_of": as_of.isoformat(),
        "budgets": outcome.budgets,
        "caps_breached": outcome.caps_breached,
        "actions_applied": outcome.actions_applied,
        "actions_lifted": outcome.actions_lifted,
        "alerts": len(outcome.messages),
        **delivery.as_dict(),
    }


def daily_budgets(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Scheduled daily check: ``{"date": "YYYY-MM-DD"}`` or, by default, today in UTC."""
    value = event.get("date") if isinstance(event, dict) else None
    try:
        as_of = date.fromisoformat(value) if value else runtime.clock().date()
    except ValueError as error:
        raise InputError(f"invalid date {value!r}: expected YYYY-MM-DD") from error
    return check_budgets(runtime, as_of)


# -- Publish ---------------------------------------------------------------------------------------


def _read_partition(lake: Lake, table: str, period: str) -> pa.Table:
    return lake.query(f"SELECT * FROM {table} WHERE billing_period = ?", [period])


def publish(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Write each team's statement, send it to the team, and send the FinOps owner the monthly summary."""
    step = _parse(event)
    period = step.billing_period
    config = runtime.config
    now = runtime.clock()
    if {"billing_period": period} not in runtime.lake.partitions(SHOWBACK.name):
        raise InputError(f"showback has no partition for {period}; the Showback step must run first")
    table = _read_partition(runtime.lake, SHOWBACK.name, period)
    teams = write_team_statements(runtime.lake, period, table, config.currency)
    forecast_rows = _forecast_rows(runtime.lake, period)
    next_period = add_months(period, 1)
    team_forecasts = _team_forecasts(forecast_rows, next_period)

    messages = []
    for team, summary in teams.items():
        totals = summary["totals"]
        payload = MonthlyStatement(
            statement_mode=summary["statement_mode"],
            mode_reason=summary["mode_reason"],
            direct_cost=totals["direct_cost"],
            untagged_cost=totals["untagged_cost"],
            shared_cost=totals["shared_cost"],
            credits_applied=totals["credits_applied"],
            net_cost=totals["net_cost"],
            attributable_percent=summary["attributable_percent"],
            allocation_key=summary["allocation_key"],
            features=[FeatureLine(feature=row["feature"], net_cost=row["net_cost"]) for row in summary["rows"]],
            report_csv_key=summary["csv_key"],
            report_json_key=summary["json_key"],
            currency=config.currency,
            next_period=next_period,
            next_month_forecast=team_forecasts.get(team, {}),
        )
        messages.append(
            build_message(
                payload,
                team=route_team(config, team),
                about_team=team,
                severity="info",
                billing_period=period,
                created_at=now,
            )
        )

    summary_payload = _finops_summary(runtime, period, table, teams, forecast_rows)
    runtime.lake.put_document(
        f"reports/{period}/finops/summary.json", summary_payload.model_dump_json(indent=2).encode("utf-8")
    )
    messages.append(
        build_message(
            summary_payload,
            team=config.owners.finops.team,
            about_team=None,
            severity="info",
            billing_period=period,
            created_at=now,
        )
    )
    delivery = runtime.router.send(messages)
    return {"statements": len(teams), **delivery.as_dict()}


def _forecast_rows(lake: Lake, period: str) -> pa.Table:
    """Return the forecast rows made from ``period`` (none when the Forecast step wrote no partition)."""
    if {"billing_period": period} not in lake.partitions(FORECASTS.name):
        return pa.table({name: pa.array([], FORECASTS.schema.field(name).type) for name in FORECAST_SUMMARY_COLUMNS})
    columns = ", ".join(FORECAST_SUMMARY_COLUMNS)
    return lake.query(f"SELECT {columns} FROM forecasts WHERE billing_period = ?", [period])


def _team_forecasts(forecast_rows: pa.Table, next_period: str) -> dict[str | None, dict[str, Decimal]]:
    """Sum the monthly forecast of ``next_period`` per team and scenario."""
    totals: dict[str | None, dict[str, Decimal]] = {}
    for row in forecast_rows.to_pylist():
        if row["target_period"] != next_period or row["granularity"] != "month":
            continue
        scenarios = totals.setdefault(row["team"], {scenario: Decimal(0) for scenario in SCENARIOS})
        scenarios[row["scenario"]] += row["cost"]
    return {team: {name: to_money(cost) for name, cost in values.items()} for team, values in totals.items()}


def _finops_summary(
    runtime: GovernanceRuntime,
    period: str,
    table: pa.Table,
    teams: dict[str, dict[str, Any]],
    forecast_rows: pa.Table,
) -> FinOpsSummary:
    config = runtime.config
    rows = table.to_pylist()
    credits = sum((row["credits_applied"] for row in rows), Decimal(0))
    net = sum((row["net_cost"] for row in rows), Decimal(0))
    coverage = runtime.lake.query(load_query("governance_coverage"), [period]).to_pylist()
    attributable = coverage[0]["attributable_percent"] if coverage else None

    next_period = add_months(period, 1)
    month_totals = {scenario: [Decimal(0), Decimal(0), Decimal(0)] for scenario in SCENARIOS}
    for row in forecast_rows.to_pylist():
        if row["target_period"] == next_period and row["granularity"] == "month":
            totals = month_totals[row["scenario"]]
            totals[0] += row["cost"]
            totals[1] += row["cost_low"]
            totals[2] += row["cost_high"]

    first = add_months(period, -(CREDIT_HISTORY_MONTHS - 1))
    if config.credits.balance_as_of is not None:
        first = config.credits.balance_as_of
    by_period = period_credits(runtime.lake, config, first, period)
    balance = None
    runways = {}
    if config.credits.balance is not None:
        balance = remaining_balance(config, period, by_period)
        if balance is not None:
            runways = {item.scenario: item for item in credit_runway(config, period, balance, forecast_rows)}

    scenarios = []
    for scenario in SCENARIOS:
        cost, low, high = month_totals[scenario]
        runway = runways.get(scenario)
        scenarios.append(
            ScenarioOutlook(
                scenario=scenario,  # type: ignore[arg-type]
                next_month_cost=to_money(cost),
                next_month_low=to_money(low),
                next_month_high=to_money(high),
                credits_exhausted_on=runway.exhausted_on if runway else None,
                unused_at_expiry=runway.unused_at_expiry if runway else None,
            )
        )
    return FinOpsSummary(
        spend=to_money(net - credits),
        credits_applied=to_money(credits),
        net_cost=to_money(net),
        attributable_percent=attributable,
        chargeback_teams=sorted(team for team, item in teams.items() if item["statement_mode"] == "chargeback"),
        showback_teams=sorted(team for team, item in teams.items() if item["statement_mode"] == "showback"),
        next_period=next_period,
        scenarios=scenarios,
        credit_balance=balance,
        credit_expires_on=config.credits.expires_on,
        currency=config.currency,
        credits_by_period=dict(sorted(by_period.items())),
    )


# -- RecordRun and the failure path ----------------------------------------------------------------


def record_run(event: dict[str, Any], runtime: GovernanceRuntime) -> dict[str, Any]:
    """Write the run to ``governance_runs``; on failure, also send the FinOps owner a run_failed message."""
    status = event.get("status")
    if status not in ("succeeded", "failed"):
        raise InputError(f"record_run needs status succeeded or failed, got {status!r}")
    state = event.get("state") or {}
    run_id = str(event.get("run_id") or state.get("run_id") or "local")
    period = state.get("billing_period") or (state.get("input") or {}).get("billing_period")
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        # The run failed before its period was known (invalid input): file it under the current month.
        period = period_of(runtime.clock().date())
    error = state.get("error") or {}
    steps = state.get("steps") or {}
    started_raw = str(event.get("started_at") or runtime.clock().isoformat())
    started_at = datetime.fromisoformat(started_raw.replace("Z", "+00:00"))

    record = {
        "started_at": started_at,
        "finished_at": runtime.clock(),
        "status": status,
        "steps": [(name, json.dumps(value, default=str, sort_keys=True)) for name, value in sorted(steps.items())],
        "error": error.get("Error"),
        "error_cause": error.get("Cause"),
    }
    runtime.lake.write_partition(
        GOVERNANCE_RUNS.name,
        {"billing_period": period, "run_id": run_id},
        pa.Table.from_pylist([record], schema=GOVERNANCE_RUNS.schema),
    )
    result: dict[str, Any] = {"status": status, "billing_period": period}
    if status != "failed":
        return result

    failed_step = _failed_step(steps)
    payload = RunFailed(
        run_id=run_id,
        failed_step=failed_step,
        error=str(error.get("Error") or "unknown"),
        cause=_short_cause(error.get("Cause")),
    )
    message = build_message(
        payload,
        team=runtime.config.owners.finops.team,
        about_team=None,
        severity="critical",
        billing_period=period,
        created_at=runtime.clock(),
    )
    result.update(runtime.router.send([message]).as_dict())
    logger.error("monthly run failed", extra={"run_id": run_id, "billing_period": period, "failed_step": failed_step})
    return result


STEP_ORDER = ("attribution", "forecast", "showback", "budgets", "publish", "record")
STEP_NAMES = {
    "attribution": "RefreshAttribution",
    "forecast": "Forecast",
    "showback": "Showback",
    "budgets": "Budgets",
    "publish": "Publish",
    "record": "RecordRun",
}


def _failed_step(steps: dict[str, Any]) -> str | None:
    """Return the first step without a result: the one that failed (None when PrepareRun failed)."""
    for name in STEP_ORDER:
        if name not in steps:
            return STEP_NAMES[name]
    return None


def _short_cause(cause: Any) -> str:
    """Return the error message from a Lambda error cause (a JSON object with errorMessage) or the text."""
    text = str(cause or "")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return text[:2000]
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])[:2000]
    return text[:2000]


STEP_FUNCTIONS: dict[str, Callable[[dict[str, Any], GovernanceRuntime], dict[str, Any]]] = {
    "PrepareRunFunctionArn": prepare_run,
    "RefreshAttributionFunctionArn": refresh_attribution,
    "ForecastFunctionArn": forecast,
    "ShowbackFunctionArn": showback,
    "BudgetsFunctionArn": budgets,
    "PublishFunctionArn": publish,
    "RecordRunFunctionArn": record_run,
}
