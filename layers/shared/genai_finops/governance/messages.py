"""Messages to owners: one envelope with a versioned JSON payload per kind, and its readable text.

The body of every message states what happened, how much, against what, and what to do. The JSON form
is the contract for subscribers (SQS, Lambda). docs/messages.md documents it, and events/ contains a
sample of each kind. A change that removes or renames a field raises ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
# SNS rejects subjects longer than 100 characters.
MAX_SUBJECT_LENGTH = 100

Severity = Literal["info", "warning", "critical"]
Kind = Literal[
    "budget_actual_threshold",
    "budget_forecast_threshold",
    "budget_cap_breached",
    "budget_cap_lifted",
    "monthly_statement",
    "finops_summary",
    "run_failed",
]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def money_text(value: Decimal, currency: str) -> str:
    """Format an amount for people: currency code and two decimals with thousands separators."""
    return f"{currency} {value:,.2f}"


def percent_text(share: Decimal | float) -> str:
    """Format a share (0.8) as a percentage (80%)."""
    return f"{Decimal(str(share)) * 100:.0f}%"


class BudgetThreshold(_Payload):
    """A budget's actual or forecast spend crossed one of its thresholds."""

    kind: Literal["budget_actual_threshold", "budget_forecast_threshold"]
    budget_name: str
    scope: Literal["team", "feature", "environment"]
    scope_value: str
    monthly_amount: Decimal
    threshold_share: Decimal
    threshold_amount: Decimal
    actual_spend: Decimal
    forecast_spend: Decimal
    as_of: date
    currency: str

    def dedupe_key(self) -> str:
        return f"{self.budget_name}:{self.threshold_share}"

    def subject(self) -> str:
        measure = "spend" if self.kind == "budget_actual_threshold" else "forecast"
        return f"Budget {self.budget_name}: {measure} passed {percent_text(self.threshold_share)}"

    def body(self) -> str:
        measured = self.actual_spend if self.kind == "budget_actual_threshold" else self.forecast_spend
        what = "Spend so far" if self.kind == "budget_actual_threshold" else "Projected month-end spend"
        return "\n".join(
            [
                f"What: {what} of {self.scope} {self.scope_value} crossed {percent_text(self.threshold_share)} "
                f"of budget {self.budget_name}.",
                f"How much: {money_text(measured, self.currency)} (spend so far "
                f"{money_text(self.actual_spend, self.currency)}, projected month-end "
                f"{money_text(self.forecast_spend, self.currency)}, as of {self.as_of.isoformat()}).",
                f"Against what: threshold {money_text(self.threshold_amount, self.currency)} of the monthly "
                f"budget {money_text(self.monthly_amount, self.currency)}.",
                "What to do: check which features and models drive the spend (genai-finops query on "
                "unit_costs_daily), and raise the budget or reduce usage before the month ends.",
            ]
        )


class CapBreached(_Payload):
    """An environment's spend reached its hard cap; the enforcement action taken or only recorded."""

    kind: Literal["budget_cap_breached"] = "budget_cap_breached"
    environment: str
    cap_amount: Decimal
    spend: Decimal
    as_of: date
    enforcement: Literal["enforced", "dry_run"]
    role_names: list[str]
    currency: str

    def dedupe_key(self) -> str:
        return self.environment

    def subject(self) -> str:
        action = "Bedrock calls denied" if self.enforcement == "enforced" else "dry run, nothing denied"
        return f"Cap breached on {self.environment}: {action}"

    def body(self) -> str:
        if self.enforcement == "enforced":
            action = (
                f"A deny policy for bedrock:InvokeModel* and bedrock:Converse* is attached to the roles "
                f"{', '.join(self.role_names)} until the next billing period starts."
            )
        else:
            action = "Enforcement is disabled for this cap, so no IAM policy was changed (dry run)."
        return "\n".join(
            [
                f"What: GenAI spend in environment {self.environment} reached its monthly hard cap. {action}",
                f"How much: {money_text(self.spend, self.currency)} as of {self.as_of.isoformat()}.",
                f"Against what: cap {money_text(self.cap_amount, self.currency)} "
                "(budgets.environment_caps in the governance configuration).",
                "What to do: find the workload behind the spend (load tests and loops pointed at frontier "
                "models are the usual cause), stop it, and raise the cap only if the spend is intended.",
            ]
        )


class CapLifted(_Payload):
    """The deny policies of a cap breach were removed because a new billing period started."""

    kind: Literal["budget_cap_lifted"] = "budget_cap_lifted"
    environment: str
    breach_period: str
    role_names: list[str]

    def dedupe_key(self) -> str:
        return f"{self.environment}:{self.breach_period}"

    def subject(self) -> str:
        return f"Cap on {self.environment} lifted: Bedrock calls allowed again"

    def body(self) -> str:
        return "\n".join(
            [
                f"What: the deny policies attached when environment {self.environment} breached its cap "
                f"in {self.breach_period} were removed.",
                f"How much: {len(self.role_names)} role(s): {', '.join(self.role_names)}.",
                "Against what: caps are monthly and are lifted when the next billing period starts.",
                "What to do: nothing, unless the workload that caused the breach is still running.",
            ]
        )


class FeatureLine(_Payload):
    """One feature's net cost in a statement."""

    feature: str | None
    net_cost: Decimal


class MonthlyStatement(_Payload):
    """A team's monthly statement: its cost, whether it is charged back or shown back, and why."""

    kind: Literal["monthly_statement"] = "monthly_statement"
    statement_mode: Literal["chargeback", "showback"]
    mode_reason: str
    direct_cost: Decimal
    untagged_cost: Decimal
    shared_cost: Decimal
    credits_applied: Decimal
    net_cost: Decimal
    attributable_percent: float | None
    allocation_key: str
    features: list[FeatureLine]
    report_csv_key: str
    report_json_key: str
    currency: str
    next_period: str | None = None
    # Scenario (base, optimized, stress) to the team's forecast cost of next_period.
    next_month_forecast: dict[str, Decimal] = Field(default_factory=dict)

    def dedupe_key(self) -> str:
        return "statement"

    def subject(self) -> str:
        return f"GenAI {self.statement_mode} statement: {money_text(self.net_cost, self.currency)}"

    def body(self) -> str:
        attributable = "unknown" if self.attributable_percent is None else f"{self.attributable_percent:.1f}%"
        lines = [
            f"What: your GenAI {self.statement_mode} statement for the billing period. {self.mode_reason}",
            f"How much: net {money_text(self.net_cost, self.currency)} = direct "
            f"{money_text(self.direct_cost, self.currency)} + untagged {money_text(self.untagged_cost, self.currency)}"
            f" + shared {money_text(self.shared_cost, self.currency)} (split by {self.allocation_key}) + credits "
            f"{money_text(self.credits_applied, self.currency)}.",
            f"Against what: {attributable} of your cost is attributed to a feature and environment.",
        ]
        for line in self.features:
            lines.append(f"  {line.feature or '(no feature)'}: {money_text(line.net_cost, self.currency)}")
        if self.next_period and self.next_month_forecast:
            scenarios = ", ".join(
                f"{scenario} {money_text(cost, self.currency)}" for scenario, cost in self.next_month_forecast.items()
            )
            lines.append(f"Forecast for {self.next_period} before shared cost and credits: {scenarios}.")
        lines.append(
            f"What to do: review the statement ({self.report_csv_key}); tag untagged resources and requests "
            "with team, feature and environment to move cost from untagged to direct."
        )
        return "\n".join(lines)


class ScenarioOutlook(_Payload):
    """Next month's forecast and the credit runway under one scenario."""

    scenario: Literal["base", "optimized", "stress"]
    next_month_cost: Decimal
    next_month_low: Decimal
    next_month_high: Decimal
    credits_exhausted_on: date | None = None
    unused_at_expiry: Decimal | None = None


class FinOpsSummary(_Payload):
    """The FinOps owner's monthly summary: totals, chargeback coverage, forecast and credit runway."""

    kind: Literal["finops_summary"] = "finops_summary"
    spend: Decimal
    credits_applied: Decimal
    net_cost: Decimal
    attributable_percent: float | None
    chargeback_teams: list[str]
    showback_teams: list[str]
    next_period: str
    scenarios: list[ScenarioOutlook]
    credit_balance: Decimal | None = None
    credit_expires_on: date | None = None
    currency: str
    # Credit lines (negative) per billing period, from credits.balance_as_of (or the last twelve months) on.
    credits_by_period: dict[str, Decimal] = Field(default_factory=dict)

    def dedupe_key(self) -> str:
        return "summary"

    def subject(self) -> str:
        return f"GenAI monthly summary: {money_text(self.net_cost, self.currency)} net"

    def body(self) -> str:
        attributable = "unknown" if self.attributable_percent is None else f"{self.attributable_percent:.1f}%"
        lines = [
            f"What: GenAI spend of the billing period, {attributable} attributable to team, feature and environment.",
            f"How much: spend {money_text(self.spend, self.currency)}, credits "
            f"{money_text(self.credits_applied, self.currency)}, net {money_text(self.net_cost, self.currency)}.",
            f"Chargeback: {', '.join(self.chargeback_teams) or 'none'}. Showback: "
            f"{', '.join(self.showback_teams) or 'none'}.",
            f"Against what: forecast for {self.next_period}:",
        ]
        for outlook in self.scenarios:
            line = (
                f"  {outlook.scenario}: {money_text(outlook.next_month_cost, self.currency)} "
                f"({money_text(outlook.next_month_low, self.currency)} to "
                f"{money_text(outlook.next_month_high, self.currency)})"
            )
            if self.credit_balance is not None:
                if outlook.credits_exhausted_on is not None:
                    line += f"; credits run out on {outlook.credits_exhausted_on.isoformat()}"
                elif outlook.unused_at_expiry is not None:
                    line += f"; {money_text(outlook.unused_at_expiry, self.currency)} of credits unused at expiry"
            lines.append(line)
        if self.credits_by_period:
            applied = ", ".join(
                f"{period} {money_text(amount, self.currency)}" for period, amount in self.credits_by_period.items()
            )
            lines.append(f"Credits applied per month: {applied}.")
        if self.credit_balance is not None:
            expiry = self.credit_expires_on.isoformat() if self.credit_expires_on else "no expiry given"
            lines.append(f"Credit balance left: {money_text(self.credit_balance, self.currency)} ({expiry}).")
        advice = "What to do: follow up with showback teams on tagging"
        if self.credit_balance is not None:
            advice += ", and plan for the first invoice after the credits run out"
        lines.append(advice + ".")
        return "\n".join(lines)


class RunFailed(_Payload):
    """A monthly governance run failed."""

    kind: Literal["run_failed"] = "run_failed"
    run_id: str
    failed_step: str | None
    error: str
    cause: str

    def dedupe_key(self) -> str:
        return self.run_id

    def subject(self) -> str:
        return f"GenAI monthly run failed: {self.error}"

    def body(self) -> str:
        return "\n".join(
            [
                f"What: the monthly governance run {self.run_id} failed"
                + (f" in step {self.failed_step}." if self.failed_step else "."),
                f"How much: error {self.error}: {self.cause}",
                "Against what: statements, budget alerts and forecasts of this period may be missing or stale.",
                "What to do: fix the cause, then start the state machine again with the same billing_period; "
                "messages already sent are not sent twice.",
            ]
        )


Payload = Annotated[
    BudgetThreshold | CapBreached | CapLifted | MonthlyStatement | FinOpsSummary | RunFailed,
    Field(discriminator="kind"),
]


class Message(BaseModel):
    """The envelope every subscriber receives as JSON: routing attributes, readable text and the payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    idempotency_key: str
    kind: Kind
    team: str
    about_team: str | None
    severity: Severity
    billing_period: str
    created_at: datetime
    subject: str
    body: str
    payload: Payload

    def attributes(self) -> dict[str, str]:
        """Return the SNS message attributes that subscription filter policies match on."""
        return {"team": self.team, "kind": self.kind, "severity": self.severity, "billing_period": self.billing_period}


def build_message(
    payload: BudgetThreshold | CapBreached | CapLifted | MonthlyStatement | FinOpsSummary | RunFailed,
    *,
    team: str,
    about_team: str | None,
    severity: Severity,
    billing_period: str,
    created_at: datetime,
) -> Message:
    """Wrap a payload in its envelope, with subject, body and an idempotency key.

    The key hashes the kind, the routed team, the team the message is about, the period and the
    payload's subject matter (budget and threshold, environment, run id). Including the team it is about
    keeps the messages of two teams routed to the FinOps owner apart.
    """
    key_source = "|".join((payload.kind, team, about_team or "", billing_period, payload.dedupe_key()))
    subject = payload.subject()
    if about_team and about_team != team:
        subject = f"[{about_team}] {subject}"
    return Message(
        idempotency_key=hashlib.sha256(key_source.encode("utf-8")).hexdigest()[:32],
        kind=payload.kind,
        team=team,
        about_team=about_team,
        severity=severity,
        billing_period=billing_period,
        created_at=created_at,
        subject=subject[:MAX_SUBJECT_LENGTH],
        body=payload.body(),
        payload=payload,
    )
