"""Budgets and environment caps: spend so far and projected month-end spend against configured amounts.

Spend is the period's request costs (billed share, or the estimate for hours the bill has not reached)
plus remainder lines by usage day, credits and refunds excluded, for days up to and including the
evaluation day. The month-end projection adds the mean of the last ``budgets.run_rate_days`` days for
each remaining day; a complete month projects to its actual spend.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ..config import Budget, EnvironmentCap, GovernanceConfig
from ..lake.base import Lake
from ..money import to_money
from ..observability import logger
from ..sql import load_query
from ..tables import BUDGET_ACTIONS
from .enforcement import Enforcer, deny_policy_name
from .messages import BudgetThreshold, CapBreached, CapLifted, Message, Severity, build_message
from .periods import add_months, days_in_period, parse_period, period_of
from .routing import route_team


@dataclass(frozen=True)
class SpendPoint:
    """Spend of one scope: so far and projected to the end of the month."""

    actual: Decimal
    forecast: Decimal


@dataclass
class BudgetOutcome:
    """Result of one evaluation: messages to send, budget summaries, caps breached and IAM actions taken."""

    messages: list[Message] = field(default_factory=list)
    budgets: dict[str, dict[str, str]] = field(default_factory=dict)
    caps_breached: list[str] = field(default_factory=list)
    actions_applied: int = 0
    actions_lifted: int = 0


def _daily_spend(lake: Lake, period: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = lake.query(load_query("governance_daily_spend"), [period, period]).to_pylist()
    return rows


def project(rows: list[dict[str, Any]], period: str, as_of: date, run_rate_days: int) -> SpendPoint:
    """Sum spend up to ``as_of`` and project the month's end from the recent daily run rate."""
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["day"] is not None and row["day"] <= as_of:
            by_day[row["day"]] += to_money(row["cost"])
    actual = sum(by_day.values(), Decimal(0))
    start = parse_period(period)
    last_day = start + timedelta(days=days_in_period(period) - 1)
    remaining = max((last_day - as_of).days, 0)
    if remaining == 0:
        return SpendPoint(to_money(actual), to_money(actual))
    window_start = max(start, as_of - timedelta(days=run_rate_days - 1))
    window_days = (as_of - window_start).days + 1
    window_spend = sum((cost for day, cost in by_day.items() if day >= window_start), Decimal(0))
    rate = window_spend / window_days
    return SpendPoint(to_money(actual), to_money(actual + rate * remaining))


def _scope_rows(rows: list[dict[str, Any]], scope: str, value: str) -> list[dict[str, Any]]:
    return [row for row in rows if row[scope] == value]


def _owner(config: GovernanceConfig, budget: Budget | EnvironmentCap, scope_team: str | None) -> str | None:
    return budget.owner_team or scope_team


def evaluate_budgets(
    config: GovernanceConfig, rows: list[dict[str, Any]], period: str, as_of: date, created_at: datetime
) -> tuple[list[Message], dict[str, dict[str, str]]]:
    """Return the threshold messages of every budget and a summary per budget."""
    messages: list[Message] = []
    summary: dict[str, dict[str, str]] = {}
    for budget in config.budgets.items:
        point = project(_scope_rows(rows, budget.scope, budget.value), period, as_of, config.budgets.run_rate_days)
        summary[budget.name] = {"actual": format(point.actual, "f"), "forecast": format(point.forecast, "f")}
        about = _owner(config, budget, budget.value if budget.scope == "team" else None)
        checks: list[tuple[str, list[Decimal], Decimal]] = [
            ("budget_actual_threshold", budget.actual_thresholds, point.actual),
            ("budget_forecast_threshold", budget.forecast_thresholds, point.forecast),
        ]
        for kind, thresholds, measured in checks:
            for share in sorted(thresholds):
                threshold_amount = to_money(budget.monthly_amount * share)
                if measured < threshold_amount:
                    continue
                severity: Severity = "critical" if kind == "budget_actual_threshold" and share >= 1 else "warning"
                payload = BudgetThreshold(
                    kind=kind,  # type: ignore[arg-type]
                    budget_name=budget.name,
                    scope=budget.scope,
                    scope_value=budget.value,
                    monthly_amount=budget.monthly_amount,
                    threshold_share=share,
                    threshold_amount=threshold_amount,
                    actual_spend=point.actual,
                    forecast_spend=point.forecast,
                    as_of=as_of,
                    currency=config.currency,
                )
                messages.append(
                    build_message(
                        payload,
                        team=route_team(config, about),
                        about_team=about,
                        severity=severity,
                        billing_period=period,
                        created_at=created_at,
                    )
                )
    return messages, summary


def _read_actions(lake: Lake, period: str) -> list[dict[str, Any]]:
    if {"billing_period": period} not in lake.partitions(BUDGET_ACTIONS.name):
        return []
    sql = "SELECT * FROM budget_actions WHERE billing_period = ?"
    return [{name: row[name] for name in BUDGET_ACTIONS.schema.names} for row in lake.query(sql, [period]).to_pylist()]


def _write_actions(lake: Lake, period: str, records: list[dict[str, Any]]) -> None:
    records = sorted(records, key=lambda item: item["action_id"])
    lake.write_partition(
        BUDGET_ACTIONS.name, {"billing_period": period}, pa.Table.from_pylist(records, schema=BUDGET_ACTIONS.schema)
    )


def lift_earlier_actions(
    lake: Lake, config: GovernanceConfig, period: str, enforcer: Enforcer | None, now: datetime
) -> tuple[list[Message], int]:
    """Remove deny policies applied in periods before ``period``; return the messages and the count lifted."""
    messages: list[Message] = []
    lifted = 0
    for partition in lake.partitions(BUDGET_ACTIONS.name):
        earlier = partition["billing_period"]
        if earlier >= period:
            continue
        records = _read_actions(lake, earlier)
        applied = [record for record in records if record["state"] == "applied"]
        if not applied:
            continue
        if enforcer is None:
            logger.warning("deny policies not lifted: no enforcer", extra={"billing_period": earlier})
            continue
        roles_by_environment: dict[str, list[str]] = defaultdict(list)
        for record in applied:
            enforcer.remove_deny(record["role_name"], record["policy_name"])
            record["state"] = "lifted"
            record["lifted_at"] = now
            roles_by_environment[record["environment"]].append(record["role_name"])
            lifted += 1
        _write_actions(lake, earlier, records)
        for environment, roles in sorted(roles_by_environment.items()):
            cap = next((item for item in config.budgets.environment_caps if item.environment == environment), None)
            about = cap.owner_team if cap else None
            payload = CapLifted(environment=environment, breach_period=earlier, role_names=sorted(roles))
            messages.append(
                build_message(
                    payload,
                    team=route_team(config, about),
                    about_team=about,
                    severity="info",
                    billing_period=period,
                    created_at=now,
                )
            )
    return messages, lifted


def enforce_caps(
    lake: Lake,
    config: GovernanceConfig,
    rows: list[dict[str, Any]],
    period: str,
    as_of: date,
    enforcer: Enforcer | None,
    now: datetime,
) -> tuple[list[Message], list[str], int]:
    """Alert every breached environment cap and apply or record its enforcement action."""
    messages: list[Message] = []
    breached: list[str] = []
    records = {record["action_id"]: record for record in _read_actions(lake, period)}
    applied = 0
    for cap in config.budgets.environment_caps:
        spend = project(_scope_rows(rows, "environment", cap.environment), period, as_of, 1).actual
        if spend < cap.monthly_amount:
            continue
        breached.append(cap.environment)
        enforced = cap.enforce and enforcer is not None
        if cap.enforce and enforcer is None:
            logger.warning(
                "cap enforcement requested but no enforcer; recorded as dry run", extra={"environment": cap.environment}
            )
        policy = deny_policy_name(cap.environment)
        for role in cap.role_names:
            action_id = f"{period}:{cap.environment}:{role}"
            existing = records.get(action_id)
            # Keep a record that is already enforced (or lifted), and never downgrade one to a dry run.
            if existing is not None and (existing["state"] in ("applied", "lifted") or not enforced):
                continue
            if enforced:
                assert enforcer is not None
                enforcer.attach_deny(role, policy)
                applied += 1
            records[action_id] = {
                "action_id": action_id,
                "environment": cap.environment,
                "role_name": role,
                "policy_name": policy,
                "cap_amount": cap.monthly_amount,
                "spend": spend,
                "mode": "enforced" if enforced else "dry_run",
                "state": "applied" if enforced else "dry_run",
                "applied_at": existing["applied_at"] if existing else now,
                "lifted_at": None,
            }
        payload = CapBreached(
            environment=cap.environment,
            cap_amount=cap.monthly_amount,
            spend=spend,
            as_of=as_of,
            enforcement="enforced" if enforced else "dry_run",
            role_names=list(cap.role_names),
            currency=config.currency,
        )
        messages.append(
            build_message(
                payload,
                team=route_team(config, cap.owner_team),
                about_team=cap.owner_team,
                severity="critical",
                billing_period=period,
                created_at=now,
            )
        )
    if records:
        _write_actions(lake, period, list(records.values()))
    return messages, breached, applied


def run_budgets(
    lake: Lake, config: GovernanceConfig, as_of: date, enforcer: Enforcer | None, now: datetime
) -> BudgetOutcome:
    """Evaluate budgets and caps for the period containing ``as_of``; lift earlier periods' deny policies.

    Deny policies are attached only while the period is still running (``as_of`` in the month of ``now``):
    a breach found after the month ended, in the monthly run, is alerted and recorded as a dry run.
    """
    period = period_of(as_of)
    rows = _daily_spend(lake, period)
    outcome = BudgetOutcome()
    lift_messages, outcome.actions_lifted = lift_earlier_actions(lake, config, period_of(now.date()), enforcer, now)
    budget_messages, outcome.budgets = evaluate_budgets(config, rows, period, as_of, now)
    cap_enforcer = enforcer if period == period_of(now.date()) else None
    cap_messages, outcome.caps_breached, outcome.actions_applied = enforce_caps(
        lake, config, rows, period, as_of, cap_enforcer, now
    )
    outcome.messages = [*lift_messages, *budget_messages, *cap_messages]
    return outcome


def last_day(period: str) -> date:
    """Return the last day of a billing period."""
    return parse_period(add_months(period, 1)) - timedelta(days=1)
