"""Hourly and daily detection on a local lake: lifecycle, table rows, alerts in the outbox, bill confirmation."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from genai_finops.anomalies.alerts import AnomalyMessage
from genai_finops.anomalies.run import detect_daily, detect_hourly
from genai_finops.cli.main import main
from genai_finops.config import GovernanceConfig, parse_config
from genai_finops.governance.routing import Router
from genai_finops.lake.local import LocalLake

from .builders import SONNET, START, InvocationWriter, Stream, normal_counts, write_daily_bill

DAYS = 21
INCIDENT_HOUR = DAYS * 24 - 14  # 10:00 UTC on the last day
CHAT = Stream("support", "chat", "prod", SONNET, "arn:aws:iam::111122223333:role/support")


def _config() -> GovernanceConfig:
    return parse_config(
        {
            "owners": {"teams": {"support": {"contact": "support@example.com"}}},
            "anomalies": {"history_days": DAYS, "update_step": "1.0", "close_after_hours": 2},
        }
    )


@pytest.fixture
def loop_lake(lake: LocalLake) -> LocalLake:
    """Three weeks of a feature's traffic, with a runaway loop of 3 hours growing each hour."""
    writer = InvocationWriter()
    writer.add(CHAT, normal_counts(DAYS * 24, 60))
    writer.add(CHAT, np.array([600, 1800, 1800]), first_hour=INCIDENT_HOUR)
    writer.write(lake)
    return lake


def _at(hour: int) -> dt.datetime:
    return START + dt.timedelta(hours=hour)


def _anomalies(lake: LocalLake) -> list[dict[str, object]]:
    return lake.query("SELECT * FROM anomalies ORDER BY opened_at").to_pylist()


def _outbox(lake: LocalLake, team: str) -> list[AnomalyMessage]:
    keys = lake.list_documents(f"outbox/team={team}/")
    return [AnomalyMessage.model_validate_json(lake.get_document(key) or b"") for key in keys]


def test_hourly_opens_one_anomaly_and_alerts_owner(loop_lake: LocalLake) -> None:
    config = _config()
    report = detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 1), Router(loop_lake, config))
    assert report.opened == 1
    rows = _anomalies(loop_lake)
    assert len(rows) == 1
    row = rows[0]
    assert (row["kind"], row["dimension"], row["boundary_value"]) == ("spend", "feature", "chat")
    assert row["owner_team"] == "support"
    assert row["state"] == "open"
    assert row["opened_at"] == _at(INCIDENT_HOUR)
    assert row["detected_at"] == _at(INCIDENT_HOUR + 1)
    # 600 extra requests of 2000 input and 400 output tokens at 3 and 15 per million cost 7.20, against a
    # Sunday baseline of about 30 requests (0.36), give or take the normal hour's noise.
    assert Decimal("6.5") < row["impact"] < Decimal("7.6")
    effects = row["volume_effect"] + row["input_tokens_effect"] + row["output_tokens_effect"] + row["rate_mix_effect"]
    assert effects == row["impact"]
    assert row["volume_effect"] > Decimal("0.9") * row["impact"]
    assert row["projected_day_impact"] > row["impact"]
    assert "team=support" in row["also_visible_on"]
    messages = _outbox(loop_lake, "support")
    assert len(messages) == 1
    assert messages[0].kind == "anomaly_spend"
    assert messages[0].payload.impact == row["impact"]  # type: ignore[union-attr]


def test_hourly_rerun_sends_nothing_twice(loop_lake: LocalLake) -> None:
    config = _config()
    detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 1), Router(loop_lake, config))
    again = detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 1), Router(loop_lake, config))
    assert again.opened == 0
    assert again.messages_sent == 0
    assert len(_anomalies(loop_lake)) == 1
    assert len(_outbox(loop_lake, "support")) == 1


def test_hourly_updates_on_growth_then_closes(loop_lake: LocalLake) -> None:
    config = _config()
    router = Router(loop_lake, config)
    detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 1), router)
    grown = detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 2), router)
    assert grown.updated == 1
    steady = detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 3), router)
    assert steady.updated == 0
    messages = _outbox(loop_lake, "support")
    assert len(messages) == 2
    for hour in (4, 5):
        detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + hour), router)
    row = _anomalies(loop_lake)[0]
    assert row["state"] == "closed"
    assert row["closed_at"] == _at(INCIDENT_HOUR + 3)
    assert row["alerts_sent"] == 2
    # 4,200 extra requests at 0.012 each: 50.40, less about three hours of baseline.
    assert Decimal("48") < row["impact"] < Decimal("51")
    assert len(_outbox(loop_lake, "support")) == 2


def test_hourly_replay_matches_hour_by_hour_runs(loop_lake: LocalLake, tmp_path: Path) -> None:
    config = _config()
    replayed = detect_hourly(
        loop_lake, config, _at(INCIDENT_HOUR + 5), Router(loop_lake, config), since=_at(INCIDENT_HOUR - 3)
    )
    assert replayed.opened == 1
    assert replayed.updated == 1
    assert replayed.closed == 1
    row = _anomalies(loop_lake)[0]
    assert row["state"] == "closed"
    assert row["opened_at"] == _at(INCIDENT_HOUR)
    assert row["closed_at"] == _at(INCIDENT_HOUR + 3)
    assert row["alerts_sent"] == 2
    assert len(_outbox(loop_lake, "support")) == 2

    # The same hours run one at a time on a copy of the lake give the same anomaly.
    stepped_lake = LocalLake(tmp_path / "stepped")
    shutil.copytree(loop_lake.root, stepped_lake.root, ignore=shutil.ignore_patterns("anomalies", "documents"))
    for name in ("anomalies.json",):
        (stepped_lake.root / "_catalog" / name).unlink(missing_ok=True)
    router = Router(stepped_lake, config)
    for hour in range(-2, 6):
        detect_hourly(stepped_lake, config, _at(INCIDENT_HOUR + hour), router)
    stepped = _anomalies(stepped_lake)[0]
    for column in ("kind", "boundary_value", "opened_at", "closed_at", "impact", "alerts_sent"):
        assert stepped[column] == row[column], column


def test_daily_confirms_hourly_anomaly_and_sends_digest(loop_lake: LocalLake) -> None:
    config = _config()
    router = Router(loop_lake, config)
    detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 3), router)
    incident_day = (START + dt.timedelta(hours=INCIDENT_HOUR)).date()
    daily = {START.date() + dt.timedelta(days=d): Decimal("40.00") for d in range(DAYS)}
    daily[incident_day] = Decimal("90.40")
    write_daily_bill(loop_lake, daily, "support", "chat")
    report = detect_daily(loop_lake, config, START + dt.timedelta(days=DAYS), router)
    assert report.confirmed == 1
    hourly = next(row for row in _anomalies(loop_lake) if row["source"] == "hourly_logs")
    assert hourly["billed_status"] == "confirmed"
    assert hourly["billed_impact"] == Decimal("50.4000000000")
    billed = [row for row in _anomalies(loop_lake) if row["source"] == "daily_bill"]
    assert [(row["kind"], row["dimension"]) for row in billed] == [("billed_spend", "feature")]
    digests = [m for m in _outbox(loop_lake, "finops") if m.kind == "anomaly_digest"]
    assert len(digests) == 1
    assert digests[0].payload.opened == 2  # type: ignore[union-attr]


def test_daily_revises_when_bill_shows_no_excess(loop_lake: LocalLake) -> None:
    config = _config()
    detect_hourly(loop_lake, config, _at(INCIDENT_HOUR + 1), Router(loop_lake, config))
    daily = {START.date() + dt.timedelta(days=d): Decimal("40.00") for d in range(DAYS)}
    write_daily_bill(loop_lake, daily, "support", "chat")
    report = detect_daily(loop_lake, config, START + dt.timedelta(days=DAYS), Router(loop_lake, config))
    assert report.revised == 1
    assert report.confirmed == 0
    assert [row for row in _anomalies(loop_lake) if row["source"] == "daily_bill"] == []


def test_detect_command_prints_anomaly(
    loop_lake: LocalLake, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    config_file = loop_lake.root.parent / "governance.yaml"
    config_file.write_text(json.dumps(_config().model_dump(mode="json")), encoding="utf-8")
    at = _at(INCIDENT_HOUR + 1).isoformat()
    status = main(["detect", "--at", at, "--lake", str(loop_lake.root), "--config", str(config_file), "--quiet"])
    assert status == 0
    output = capsys.readouterr().out
    assert "1 opened" in output
    assert "spend on feature chat (team support)" in output
