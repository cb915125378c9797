"""Showback and chargeback: each team's cost with its share of shared cost and credits, reconciled exactly.

Shared cost is GenAI cost with no team or with a team listed in ``allocation.shared_teams``. It is
split across the other teams by ``allocation.key``, then within a team across its features in proportion
to their own cost. Credits (the period's Credit lines) are split across all rows in proportion to their
cost before credits. Every split uses the largest-remainder method at the lake's money scale, so the
parts add up to the whole exactly. The result is checked against ``attribution_coverage``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ..config import GovernanceConfig
from ..errors import InputError, ReconciliationError
from ..lake.base import Lake
from ..money import QUANTUM, split_by_weights, to_money
from ..sql import load_query
from ..tables import SHOWBACK

RowKey = tuple[str, str | None]


@dataclass
class ShowbackRow:
    """Cost of one team and feature while it is being built."""

    direct: Decimal = Decimal(0)
    untagged: Decimal = Decimal(0)
    estimated: Decimal = Decimal(0)
    shared: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)
    requests: int = 0
    tokens: int = 0
    active_users: int = 0

    @property
    def own_cost(self) -> Decimal:
        return self.direct + self.untagged

    @property
    def gross(self) -> Decimal:
        return self.direct + self.untagged + self.shared


@dataclass
class TeamUsage:
    """Team-level totals used as allocation weights."""

    requests: int = 0
    tokens: int = 0
    active_users: int = 0
    features: dict[str | None, ShowbackRow] = field(default_factory=dict)


def period_credits(lake: Lake, config: GovernanceConfig, first: str, last: str) -> dict[str, Decimal]:
    """Return the sum of Credit lines (negative) per billing period from ``cost_lines``."""
    column = config.attribution.cost_column
    rows = lake.query(load_query("governance_credits"), [first, last]).to_pylist()
    return {row["billing_period"]: to_money(row[column] or 0) for row in rows}


def _is_shared(config: GovernanceConfig, team: str | None) -> bool:
    return team is None or team in config.allocation.shared_teams


def _team_weights(config: GovernanceConfig, teams: dict[str, TeamUsage]) -> tuple[str, list[Decimal]]:
    names = sorted(teams)
    key = config.allocation.key
    weights: list[Decimal]
    if key == "even":
        weights = [Decimal(1)] * len(names)
    elif key == "fixed":
        weights = [config.allocation.fixed_shares.get(name, Decimal(0)) for name in names]
    elif key == "cost":
        weights = [sum((row.own_cost for row in teams[name].features.values()), Decimal(0)) for name in names]
    else:
        weights = [Decimal(getattr(teams[name], key)) for name in names]
    weights = [max(weight, Decimal(0)) for weight in weights]
    if sum(weights) <= 0:
        # NOTE: with no weight at all (no requests, tokens or users, or no fixed share for any team
        # with cost), shared cost is split evenly and the statement names 'even' as the key used.
        return "even", [Decimal(1)] * len(names)
    return key, weights


def build_showback(lake: Lake, config: GovernanceConfig, period: str) -> pa.Table:
    """Build the ``showback`` rows of one billing period and check that they reconcile with attribution."""
    coverage = lake.query(load_query("governance_coverage"), [period]).to_pylist()
    if not coverage:
        raise InputError(
            f"attribution_coverage has no row for billing period {period}; run attribution first "
            f"(genai-finops attribute --period {period})"
        )

    teams: dict[str, TeamUsage] = defaultdict(TeamUsage)
    shared_total = Decimal(0)
    input_total = Decimal(0)
    for row in lake.query(load_query("governance_showback_costs"), [period, period]).to_pylist():
        cost = to_money(row["cost"])
        input_total += cost
        team, feature = row["team"], row["feature"]
        if _is_shared(config, team):
            shared_total += cost
            continue
        item = teams[team].features.setdefault(feature, ShowbackRow())
        if feature is not None and row["has_environment"]:
            item.direct += cost
        else:
            item.untagged += cost
        if row["estimated"]:
            item.estimated += cost

    for row in lake.query(load_query("governance_showback_usage"), [period]).to_pylist():
        team = row["team"]
        if _is_shared(config, team):
            continue
        if row["team_total"]:
            usage = teams[team]
            usage.requests, usage.tokens, usage.active_users = (
                int(row["requests"]),
                int(row["tokens"] or 0),
                int(row["active_users"]),
            )
            continue
        item = teams[team].features.setdefault(row["feature"], ShowbackRow())
        item.requests, item.tokens, item.active_users = (
            int(row["requests"]),
            int(row["tokens"] or 0),
            int(row["active_users"]),
        )

    allocation_key: str = config.allocation.key
    unallocated = Decimal(0)
    if teams:
        allocation_key, weights = _team_weights(config, teams)
        for name, share in zip(sorted(teams), split_by_weights(shared_total, weights, QUANTUM), strict=True):
            features = sorted(teams[name].features, key=lambda feature: feature or "")
            own = [max(teams[name].features[feature].own_cost, Decimal(0)) for feature in features]
            inner = own if sum(own) > 0 else [Decimal(1)] * len(features)
            for feature, part in zip(features, split_by_weights(share, inner, QUANTUM), strict=True):
                teams[name].features[feature].shared = part
    else:
        unallocated = shared_total

    credits = period_credits(lake, config, period, period).get(period, Decimal(0))
    keys: list[RowKey] = [
        (name, feature) for name in sorted(teams) for feature in sorted(teams[name].features, key=lambda f: f or "")
    ]
    gross = [max(teams[name].features[feature].gross, Decimal(0)) for name, feature in keys]
    if keys and sum(gross) > 0:
        for (name, feature), part in zip(keys, split_by_weights(credits, gross, QUANTUM), strict=True):
            teams[name].features[feature].credits = part
    elif credits != 0:
        unallocated += credits

    _reconcile(period, coverage[0], teams, shared_total, input_total, credits, unallocated)
    return _to_table(config, period, teams, keys, allocation_key, unallocated)


def _reconcile(
    period: str,
    coverage: dict[str, Any],
    teams: dict[str, TeamUsage],
    shared_total: Decimal,
    input_total: Decimal,
    credits: Decimal,
    unallocated: Decimal,
) -> None:
    rows = [row for usage in teams.values() for row in usage.features.values()]
    allocated_shared = sum((row.shared for row in rows), Decimal(0))
    if teams and allocated_shared != shared_total:
        raise ReconciliationError(f"{period}: shared cost {shared_total} was allocated as {allocated_shared}")
    expected = to_money(coverage["spend"]) + to_money(coverage["estimated_request_cost"] or 0)
    if input_total != expected:
        raise ReconciliationError(
            f"{period}: showback cost before credits {input_total} differs from attribution_coverage "
            f"spend plus estimates {expected}; re-run attribution for the period"
        )
    total_net = sum((row.gross + row.credits for row in rows), Decimal(0)) + unallocated
    if total_net != input_total + credits:
        raise ReconciliationError(
            f"{period}: showback net {total_net} differs from cost plus credits {input_total + credits}"
        )


def team_mode(config: GovernanceConfig, attributable_percent: float | None, spend: Decimal) -> tuple[str, str]:
    """Return (chargeback or showback, the reason) for a team's attributable percentage and spend."""
    threshold = config.chargeback.min_attributable_percent
    minimum = config.chargeback.min_spend
    percent_text = "unknown" if attributable_percent is None else f"{attributable_percent:.1f}%"
    if attributable_percent is None or Decimal(str(attributable_percent)) < threshold:
        return (
            "showback",
            f"Showback: {percent_text} of the cost is attributed, below the {threshold}% needed for chargeback.",
        )
    if spend < minimum:
        return "showback", f"Showback: spend {spend:.2f} is below the chargeback minimum of {minimum:.2f}."
    return (
        "chargeback",
        f"Chargeback: {percent_text} of the cost is attributed (at least {threshold}%) and spend is at "
        f"least {minimum:.2f}.",
    )


def _to_table(
    config: GovernanceConfig,
    period: str,
    teams: dict[str, TeamUsage],
    keys: list[RowKey],
    allocation_key: str,
    unallocated: Decimal,
) -> pa.Table:
    records: list[dict[str, Any]] = []
    for name in sorted(teams):
        rows = teams[name].features
        direct = sum((row.direct for row in rows.values()), Decimal(0))
        team_gross = sum((row.gross for row in rows.values()), Decimal(0))
        percent = float(100 * direct / team_gross) if team_gross > 0 else None
        mode, reason = team_mode(config, percent, team_gross)
        for feature in sorted(rows, key=lambda f: f or ""):
            row = rows[feature]
            records.append(
                {
                    "team": name,
                    "feature": feature,
                    "direct_cost": row.direct,
                    "untagged_cost": row.untagged,
                    "estimated_cost": row.estimated,
                    "shared_cost": row.shared,
                    "credits_applied": row.credits,
                    "net_cost": row.gross + row.credits,
                    "requests": row.requests,
                    "tokens": row.tokens,
                    "active_users": row.active_users,
                    "allocation_key": allocation_key,
                    "team_attributable_percent": percent,
                    "statement_mode": mode,
                    "mode_reason": reason,
                }
            )
    if unallocated != 0:
        records.append(
            {
                "team": None,
                "feature": None,
                "direct_cost": Decimal(0),
                "untagged_cost": Decimal(0),
                "estimated_cost": Decimal(0),
                "shared_cost": unallocated,
                "credits_applied": Decimal(0),
                "net_cost": unallocated,
                "requests": 0,
                "tokens": 0,
                "active_users": 0,
                "allocation_key": "none",
                "team_attributable_percent": None,
                "statement_mode": "showback",
                "mode_reason": "No team has cost of its own in the period, so shared cost and credits stay "
                "unallocated.",
            }
        )
    return pa.Table.from_pylist(records, schema=SHOWBACK.schema)


def run_showback(lake: Lake, config: GovernanceConfig, period: str) -> pa.Table:
    """Build and write the ``showback`` partition of one billing period; return it."""
    table = build_showback(lake, config, period)
    lake.write_partition(SHOWBACK.name, {"billing_period": period}, table)
    return table
