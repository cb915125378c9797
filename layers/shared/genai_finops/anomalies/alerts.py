"""Anomaly alerts and the FinOps owner's daily digest, in the envelope every subscriber receives.

The envelope is the monthly workflow's ``Message`` with the anomaly kinds and payloads: the same
attributes (``team``, ``kind``, ``severity``, ``billing_period``), so a team's filtered subscription
receives its anomaly alerts like its budget alerts. Message kinds are ``anomaly_<kind>`` and
``anomaly_digest``. docs/anomalies.md documents the payload, and events/ contains a sample of each kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..governance.messages import MAX_SUBJECT_LENGTH, Message, Severity, money_text

AnomalyMessageKind = Literal[
    "anomaly_spend",
    "anomaly_cache_write_without_read",
    "anomaly_token_ratio",
    "anomaly_model_drift",
    "anomaly_new_principal",
    "anomaly_retry_storm",
    "anomaly_nonprod_frontier",
    "anomaly_billed_spend",
    "anomaly_digest",
]

KIND_TITLES = {
    "spend": "spend above its baseline",
    "cache_write_without_read": "cache writes without matching cache reads",
    "token_ratio": "jump in tokens per request",
    "model_drift": "drift to a pricier model or tier",
    "new_principal": "new principal spending",
    "retry_storm": "retry storm (requests and errors up)",
    "nonprod_frontier": "non-production traffic on a frontier model",
    "billed_spend": "billed spend above its baseline",
}

KIND_ADVICE = {
    "spend": "find the workload behind the extra requests (top contributors below) and stop it if it is a loop "
    "or an unplanned job.",
    "cache_write_without_read": "check the prompt-caching key or prefix: every request writes a new cache entry "
    "that no later request reads.",
    "token_ratio": "check recent prompt or max_tokens changes; a generation loop or a missing stop sequence "
    "inflates output tokens.",
    "model_drift": "check the model or inference profile configured for the feature and whether a Priority tier "
    "or a larger model was selected on purpose.",
    "new_principal": "identify the caller, tag it with team, feature and environment, or revoke its access.",
    "retry_storm": "check client retry settings and throttling; add backoff with jitter and a retry limit.",
    "nonprod_frontier": "point non-production tests at a smaller model or cap the environment's budget.",
    "billed_spend": "compare with the hourly anomalies of the day and the top contributors below.",
}


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contributor(_Payload):
    """A key below the boundary and its part of the change."""

    dimension: str
    value: str
    observed_cost: Decimal
    change: Decimal
    share: float | None


class ChangeDecomposition(_Payload):
    """The change in cost split into parts that add up to ``impact`` exactly."""

    volume: Decimal
    input_tokens_per_request: Decimal
    output_tokens_per_request: Decimal
    rate_and_mix: Decimal


class AnomalyAlert(_Payload):
    """An anomaly opened, or its impact grew by the configured step since the last alert."""

    kind: AnomalyMessageKind
    anomaly_id: str
    anomaly_kind: str
    source: Literal["hourly_logs", "daily_bill"]
    dimension: str
    boundary_value: str
    state: Literal["open", "closed"]
    alert_number: int
    opened_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime
    expected_cost: Decimal
    observed_cost: Decimal
    impact: Decimal
    projected_day_impact: Decimal
    relative_change: float | None
    z_score: float | None
    decomposition: ChangeDecomposition | None
    top_contributors: list[Contributor]
    also_visible_on: list[str]
    evidence: str
    currency: str

    def dedupe_key(self) -> str:
        return f"{self.anomaly_id}:{self.alert_number}"

    def subject(self) -> str:
        update = "" if self.alert_number == 1 else f" (update {self.alert_number - 1})"
        return (
            f"Anomaly: {KIND_TITLES[self.anomaly_kind]} on {self.dimension} {self.boundary_value}, "
            f"+{money_text(self.impact, self.currency)}{update}"
        )

    def body(self) -> str:
        relative = "n/a" if self.relative_change is None else f"{self.relative_change * 100:+.0f}%"
        lines = [
            f"What: {KIND_TITLES[self.anomaly_kind]} on {self.dimension} {self.boundary_value}, since "
            f"{self.opened_at.isoformat()} ({self.evidence}).",
            f"How much: {money_text(self.impact, self.currency)} above the baseline so far, projected "
            f"{money_text(self.projected_day_impact, self.currency)} for the UTC day if it continues.",
            f"Against what: observed {money_text(self.observed_cost, self.currency)} against an expected "
            f"{money_text(self.expected_cost, self.currency)} from {self.window_start.isoformat()} to "
            f"{self.window_end.isoformat()} ({relative}).",
        ]
        if self.decomposition is not None:
            parts = self.decomposition
            lines.append(
                f"Why: volume {money_text(parts.volume, self.currency)}, input tokens per request "
                f"{money_text(parts.input_tokens_per_request, self.currency)}, output tokens per request "
                f"{money_text(parts.output_tokens_per_request, self.currency)}, rate and model mix "
                f"{money_text(parts.rate_and_mix, self.currency)}."
            )
        for contributor in self.top_contributors:
            share = "" if contributor.share is None else f" ({contributor.share * 100:.0f}% of the change)"
            lines.append(
                f"  {contributor.dimension} {contributor.value}: {money_text(contributor.change, self.currency)}{share}"
            )
        if self.also_visible_on:
            lines.append(f"Also visible on: {', '.join(self.also_visible_on)}.")
        lines.append(f"What to do: {KIND_ADVICE[self.anomaly_kind]}")
        return "\n".join(lines)


class DigestLine(_Payload):
    """One anomaly in the daily digest."""

    anomaly_id: str
    anomaly_kind: str
    dimension: str
    boundary_value: str
    owner_team: str
    state: str
    opened_at: dt.datetime
    impact: Decimal
    billed_status: str | None


class AnomalyDigest(_Payload):
    """The FinOps owner's daily list of anomalies opened, open or closed during the day."""

    kind: Literal["anomaly_digest"] = "anomaly_digest"
    day: dt.date
    opened: int
    still_open: int
    closed: int
    # Sum of the impact of the listed hourly anomalies (estimated cost from invocation logs).
    total_impact: Decimal
    anomalies: list[DigestLine]
    currency: str

    def dedupe_key(self) -> str:
        return self.day.isoformat()

    def subject(self) -> str:
        return (
            f"GenAI anomalies {self.day.isoformat()}: {self.opened} opened, {self.still_open} open, "
            f"{money_text(self.total_impact, self.currency)}"
        )

    def body(self) -> str:
        lines = [
            f"What: spend anomalies of {self.day.isoformat()} (UTC): {self.opened} opened, {self.still_open} still "
            f"open, {self.closed} closed.",
            f"How much: {money_text(self.total_impact, self.currency)} above baselines in total, from the "
            "hourly anomalies on invocation logs (billed anomalies restate the same spend and are not added).",
            "Against what: each boundary's own baseline (docs/anomalies.md).",
        ]
        for line in self.anomalies:
            billed = f", bill: {line.billed_status}" if line.billed_status else ""
            lines.append(
                f"  [{line.state}] {KIND_TITLES[line.anomaly_kind]} on {line.dimension} {line.boundary_value} "
                f"(team {line.owner_team}): {money_text(line.impact, self.currency)}{billed}"
            )
        lines.append(
            "What to do: follow up on open anomalies with their owning teams; the table anomalies has details."
        )
        return "\n".join(lines)


class AnomalyMessage(Message):
    """The envelope of anomaly alerts and digests: ``Message`` with the anomaly kinds and payloads."""

    kind: AnomalyMessageKind  # type: ignore[assignment]
    payload: AnomalyAlert | AnomalyDigest  # type: ignore[assignment]


def build_anomaly_message(
    payload: AnomalyAlert | AnomalyDigest,
    *,
    team: str,
    about_team: str | None,
    severity: Severity,
    billing_period: str,
    created_at: dt.datetime,
) -> AnomalyMessage:
    """Wrap an anomaly payload in its envelope with subject, body and an idempotency key.

    The key hashes the kind, the routed team, the team it is about, the period and the payload's subject
    matter (the anomaly id and alert number, or the digest's day), the same way as every other message.
    """
    key_source = "|".join((payload.kind, team, about_team or "", billing_period, payload.dedupe_key()))
    subject = payload.subject()
    if about_team and about_team != team:
        subject = f"[{about_team}] {subject}"
    return AnomalyMessage(
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
