"""The alert samples in events/ parse as the anomaly message envelope and show what the docs promise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genai_finops.anomalies.alerts import AnomalyAlert, AnomalyDigest, AnomalyMessage
from genai_finops.anomalies.detectors import KINDS

EVENTS = Path(__file__).resolve().parents[3] / "events"


@pytest.mark.parametrize("kind", [*KINDS, "billed_spend"])
def test_alert_sample_parses(kind: str) -> None:
    path = EVENTS / f"alert_anomaly_{kind}.json"
    message = AnomalyMessage.model_validate_json(path.read_text(encoding="utf-8"))
    assert message.kind == f"anomaly_{kind}"
    assert isinstance(message.payload, AnomalyAlert)
    assert message.payload.anomaly_kind == kind
    assert message.attributes()["team"] == message.team
    assert message.payload.impact == message.payload.observed_cost - message.payload.expected_cost


@pytest.mark.parametrize("kind", KINDS)
def test_hourly_sample_decomposition_adds_up(kind: str) -> None:
    payload = json.loads((EVENTS / f"alert_anomaly_{kind}.json").read_text(encoding="utf-8"))["payload"]
    message = AnomalyAlert.model_validate(payload)
    parts = message.decomposition
    assert parts is not None
    total = parts.volume + parts.input_tokens_per_request + parts.output_tokens_per_request + parts.rate_and_mix
    assert total == message.impact
    assert message.top_contributors


def test_digest_sample_parses() -> None:
    message = AnomalyMessage.model_validate_json((EVENTS / "message_anomaly_digest.json").read_text(encoding="utf-8"))
    assert message.kind == "anomaly_digest"
    assert message.team == "finops"
    assert isinstance(message.payload, AnomalyDigest)
    assert message.payload.opened == len(message.payload.anomalies)
