"""Anomaly alerts reach the owning team's SQS subscription through its filter policy, and no other team's.

The detect_anomalies handler (functions/detect_anomalies/app.py) runs in-process with the local lake
(``GENAI_FINOPS_RUNTIME=local``) and publishes to a moto SNS topic that has one SQS subscription per
team, each created by ``subscribe`` with its filter policy on the ``team`` attribute.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
import yaml
from moto import mock_aws

from genai_finops.governance.lambda_handlers import reset_governance_runtime
from genai_finops.governance.routing import subscribe
from genai_finops.lake.local import LocalLake

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
DAYS = 21


def _load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The invocation builders shared with the unit tests (tests/ is not a package).
_builders = _load_module(ROOT / "tests" / "unit" / "anomalies" / "builders.py", "anomaly_builders")
app = _load_module(ROOT / "functions" / "detect_anomalies" / "app.py", "detect_anomalies_app")


def _received(session: boto3.Session, url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for item in batch:
            messages.append(json.loads(item["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=item["ReceiptHandle"])


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    lake_dir = tmp_path / "lake"
    config_file = tmp_path / "governance.yaml"
    config = {
        "owners": {
            "finops": {"contact": "finops@example.com"},
            "teams": {"support": {"contact": "support@example.com"}, "search": {"contact": "search@example.com"}},
        },
        "anomalies": {"history_days": DAYS},
    }
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        topic = session.client("sns").create_topic(Name="genai-finops-alerts")["TopicArn"]
        sqs = session.client("sqs")
        queues = {}
        for team in ("support", "search", "finops"):
            url = sqs.create_queue(QueueName=f"{team}-alerts")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queues[team] = url
            subscribe(session, topic, team, "sqs", arn)
        monkeypatch.setenv("GENAI_FINOPS_RUNTIME", "local")
        monkeypatch.setenv("GENAI_FINOPS_LAKE_DIR", str(lake_dir))
        monkeypatch.setenv("GENAI_FINOPS_CONFIG_FILE", str(config_file))
        monkeypatch.setenv("GENAI_FINOPS_ALERTS_TOPIC_ARN", topic)
        reset_governance_runtime()
        yield {"session": session, "queues": queues, "lake": LocalLake(lake_dir)}
        reset_governance_runtime()


def test_alert_reaches_owning_team_only(stack: dict[str, Any]) -> None:
    lake: LocalLake = stack["lake"]
    writer = _builders.InvocationWriter()
    chat = _builders.Stream("support", "chat", "prod", _builders.SONNET, "arn:aws:iam::111122223333:role/support")
    rerank = _builders.Stream("search", "rerank", "prod", _builders.HAIKU, "arn:aws:iam::111122223333:role/search")
    writer.add(chat, _builders.normal_counts(DAYS * 24, 60, seed=1))
    writer.add(rerank, _builders.normal_counts(DAYS * 24, 80, seed=2))
    incident_hour = DAYS * 24 - 14
    writer.add(chat, np.array([1500]), first_hour=incident_hour)
    writer.write(lake)
    at = _builders.START + dt.timedelta(hours=incident_hour + 1)

    result = app.lambda_handler({"mode": "hourly", "at": at.isoformat()}, None)

    assert result["opened"] == 1
    assert result["messages_sent"] == 1
    [delivered] = _received(stack["session"], stack["queues"]["support"])
    assert delivered["MessageAttributes"]["team"]["Value"] == "support"
    assert delivered["MessageAttributes"]["kind"]["Value"] == "anomaly_spend"
    envelope = json.loads(delivered["Message"])
    assert envelope["payload"]["boundary_value"] == "chat"
    assert envelope["payload"]["dimension"] == "feature"
    assert _received(stack["session"], stack["queues"]["search"]) == []
    assert _received(stack["session"], stack["queues"]["finops"]) == []


def test_daily_digest_reaches_finops_only(stack: dict[str, Any]) -> None:
    lake: LocalLake = stack["lake"]
    writer = _builders.InvocationWriter()
    chat = _builders.Stream("support", "chat", "prod", _builders.SONNET, "arn:aws:iam::111122223333:role/support")
    writer.add(chat, _builders.normal_counts(DAYS * 24, 60, seed=1))
    writer.write(lake)
    at = _builders.START + dt.timedelta(days=DAYS)

    result = app.lambda_handler({"mode": "daily", "at": at.isoformat()}, None)

    assert result["source"] == "daily_bill"
    [delivered] = _received(stack["session"], stack["queues"]["finops"])
    assert delivered["MessageAttributes"]["kind"]["Value"] == "anomaly_digest"
    assert _received(stack["session"], stack["queues"]["support"]) == []


def test_detection_on_aws_lake(aws: boto3.Session, tmp_path: Path) -> None:
    """Hourly and daily detection over the S3 and Glue lake (moto), with DuckDB over Glue standing in for Athena."""
    from decimal import Decimal

    from genai_finops.anomalies.run import detect_daily, detect_hourly
    from genai_finops.config import parse_config
    from genai_finops.governance.routing import Router, SnsPublisher
    from genai_finops.lake.aws import AwsLake

    from .conftest import DATABASE, LAKE_BUCKET, WORKGROUP
    from .fakes import GlueDuckDbEngine

    lake = AwsLake(
        LAKE_BUCKET,
        DATABASE,
        WORKGROUP,
        session=aws,
        scratch_dir=tmp_path / "scratch",
        query_engine=GlueDuckDbEngine(aws, DATABASE),
    )
    writer = _builders.InvocationWriter()
    chat = _builders.Stream("support", "chat", "prod", _builders.SONNET, "arn:aws:iam::111122223333:role/support")
    writer.add(chat, _builders.normal_counts(DAYS * 24, 60, seed=1))
    incident_hour = DAYS * 24 - 14
    writer.add(chat, np.array([1500]), first_hour=incident_hour)
    writer.write(lake)
    incident_day = (_builders.START + dt.timedelta(hours=incident_hour)).date()
    daily = {_builders.START.date() + dt.timedelta(days=d): Decimal("40.00") for d in range(DAYS)}
    daily[incident_day] = Decimal("58.00")
    _builders.write_daily_bill(lake, daily, "support", "chat")
    topic = aws.client("sns").create_topic(Name="alerts")["TopicArn"]
    url = aws.client("sqs").create_queue(QueueName="support")["QueueUrl"]
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscribe(aws, topic, "support", "sqs", queue_arn)
    config = parse_config(
        {"owners": {"teams": {"support": {"contact": "s@example.com"}}}, "anomalies": {"history_days": DAYS}}
    )
    router = Router(lake, config, publisher=SnsPublisher(aws), default_topic_arn=topic)

    hourly = detect_hourly(lake, config, _builders.START + dt.timedelta(hours=incident_hour + 1), router)
    daily_report = detect_daily(lake, config, _builders.START + dt.timedelta(days=DAYS), router)

    assert hourly.opened == 1
    assert daily_report.confirmed == 1
    # The billed day is 45% above its baseline: enough to confirm the hourly anomaly (18.00 of excess), below
    # the minimum relative change (50%) that would open a billed anomaly of its own.
    rows = lake.query("SELECT kind, source, billed_status, billed_impact FROM anomalies").to_pylist()
    assert rows == [
        {
            "kind": "spend",
            "source": "hourly_logs",
            "billed_status": "confirmed",
            "billed_impact": Decimal("18.0000000000"),
        }
    ]
    kinds = [message["MessageAttributes"]["kind"]["Value"] for message in _received(aws, url)]
    assert kinds == ["anomaly_spend"]
