"""The message samples in events/ are valid envelopes whose text matches their payload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from genai_finops.governance.messages import Kind, Message

EVENTS = Path(__file__).resolve().parents[3] / "events"
# Anomaly alerts use their own envelope subclass and are checked in tests/unit/anomalies.
SAMPLES = sorted(
    path
    for path in [*EVENTS.glob("alert_*.json"), *EVENTS.glob("message_*.json")]
    if not path.name.startswith(("alert_anomaly_", "message_anomaly_"))
)


def test_every_kind_has_a_sample() -> None:
    kinds = {json.loads(path.read_text())["kind"] for path in SAMPLES}
    assert kinds == set(get_args(Kind))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_sample_is_valid(path: Path) -> None:
    message = Message.model_validate_json(path.read_text())

    assert message.kind == message.payload.kind
    assert message.body == message.payload.body()
    assert message.subject.endswith(message.payload.subject())
    for heading in ("What:", "How much:", "Against what:", "What to do:"):
        assert heading in message.body
