from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from genai_finops.cli.main import main
from genai_finops.config import parse_config
from genai_finops.governance.messages import BudgetThreshold, RunFailed, build_message
from genai_finops.governance.routing import Router, SnsPublisher, route_team, subscribe
from genai_finops.lake.local import LocalLake

NOW = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
CONFIG = parse_config(
    {
        "owners": {
            "finops": {"contact": "finops@example.com"},
            "teams": {
                "support": {"contact": "support@example.com"},
                "search": {"contact": "search@example.com"},
                "ml": {"contact": "ml@example.com", "topic_arn": "arn:aws:sns:us-east-1:123456789012:ml-alerts"},
            },
        }
    }
)


def _threshold(team: str | None, budget: str = "b") -> object:
    payload = BudgetThreshold(
        kind="budget_forecast_threshold",
        budget_name=budget,
        scope="team",
        scope_value=team or "unknown",
        monthly_amount=Decimal(100),
        threshold_share=Decimal("0.8"),
        threshold_amount=Decimal(80),
        actual_spend=Decimal(50),
        forecast_spend=Decimal(150),
        as_of=NOW.date(),
        currency="USD",
    )
    return build_message(
        payload,
        team=route_team(CONFIG, team),
        about_team=team,
        severity="warning",
        billing_period="2026-11",
        created_at=NOW,
    )


@pytest.fixture
def sns_sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def _queue(session: boto3.Session, name: str) -> tuple[str, str]:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _received(session: boto3.Session, url: str) -> list[dict]:
    response = session.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(json.loads(item["Body"])["Message"]) for item in response.get("Messages", [])]


def test_unknown_team_routes_to_finops() -> None:
    assert route_team(CONFIG, "support") == "support"
    assert route_team(CONFIG, "unknown-team") == "finops"
    assert route_team(CONFIG, None) == "finops"


def test_message_text_and_key() -> None:
    message = _threshold("support")

    assert message.subject == "Budget b: forecast passed 80%"
    assert "USD 150.00" in message.body
    assert "What to do:" in message.body
    assert message.attributes() == {
        "team": "support",
        "kind": "budget_forecast_threshold",
        "severity": "warning",
        "billing_period": "2026-11",
    }
    assert _threshold("support").idempotency_key == message.idempotency_key
    assert _threshold("support", budget="other").idempotency_key != message.idempotency_key


def test_fallback_subject_names_team() -> None:
    message = _threshold("unknown-team")

    assert message.team == "finops"
    assert message.subject.startswith("[unknown-team] ")


def test_filtered_subscriptions_receive_own_team(sns_sqs: boto3.Session, lake: LocalLake) -> None:
    topic = sns_sqs.client("sns").create_topic(Name="alerts")["TopicArn"]
    support_url, support_arn = _queue(sns_sqs, "support")
    search_url, search_arn = _queue(sns_sqs, "search")
    subscribe(sns_sqs, topic, "support", "sqs", support_arn)
    subscribe(sns_sqs, topic, "search", "sqs", search_arn)

    router = Router(lake, CONFIG, publisher=SnsPublisher(sns_sqs), default_topic_arn=topic)
    report = router.send([_threshold("support"), _threshold("search"), _threshold("unknown-team")])

    assert report.sent == 3
    support = _received(sns_sqs, support_url)
    search = _received(sns_sqs, search_url)
    assert [m["team"] for m in support] == ["support"]
    assert [m["team"] for m in search] == ["search"]
    assert support[0]["payload"]["forecast_spend"] == "150"
    sent = lake.query("SELECT team, topic_arn, message_id FROM messages_sent ORDER BY team").to_pylist()
    assert [row["team"] for row in sent] == ["finops", "search", "support"]
    assert all(row["topic_arn"] == topic and row["message_id"] for row in sent)


def test_team_topic_overrides_default(sns_sqs: boto3.Session, lake: LocalLake) -> None:
    sns = sns_sqs.client("sns")
    default = sns.create_topic(Name="alerts")["TopicArn"]
    sns.create_topic(Name="ml-alerts")
    url, arn = _queue(sns_sqs, "ml")
    subscribe(sns_sqs, "arn:aws:sns:us-east-1:123456789012:ml-alerts", "ml", "sqs", arn)

    Router(lake, CONFIG, publisher=SnsPublisher(sns_sqs), default_topic_arn=default).send([_threshold("ml")])

    assert [m["team"] for m in _received(sns_sqs, url)] == ["ml"]


def test_subscribe_command_sets_filter(sns_sqs: boto3.Session, capsys: pytest.CaptureFixture[str]) -> None:
    sns = sns_sqs.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]

    status = main(["subscribe", "--team", "support", "--email", "support@example.com", "--topic-arn", topic])

    assert status == 0
    arn = capsys.readouterr().out.strip()
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"team": ["support"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"


def test_subscribe_kind_filter(sns_sqs: boto3.Session, lake: LocalLake) -> None:
    topic = sns_sqs.client("sns").create_topic(Name="alerts")["TopicArn"]
    url, arn = _queue(sns_sqs, "oncall")
    subscribe(sns_sqs, topic, "finops", "sqs", arn, kinds=["run_failed"])
    router = Router(lake, CONFIG, publisher=SnsPublisher(sns_sqs), default_topic_arn=topic)
    failed = build_message(
        RunFailed(run_id="r1", failed_step="Forecast", error="LakeError", cause="x"),
        team="finops",
        about_team=None,
        severity="critical",
        billing_period="2026-11",
        created_at=NOW,
    )
    router.send([_threshold(None), failed])

    assert [m["kind"] for m in _received(sns_sqs, url)] == ["run_failed"]


def test_teams_routed_to_finops_keep_separate_keys() -> None:
    first = _threshold("team-a")
    second = _threshold("team-b")

    assert first.team == second.team == "finops"
    assert first.idempotency_key != second.idempotency_key
