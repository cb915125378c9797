"""The monthly state machine end to end in moto's Step Functions interpreter.

The ASL file is deployed with the substitutions SAM would make and executed by moto. moto's simple
Lambda backend is patched so that each invocation runs the project's real handler
(functions/monthly_*/app.py) in-process. SNS, SQS and IAM are moto. The lake is a local folder
(``GENAI_FINOPS_RUNTIME=local``), because moto cannot run Athena SQL.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from genai_finops.governance.asl import substitute
from genai_finops.governance.enforcement import deny_policy_name
from genai_finops.governance.lambda_handlers import reset_governance_runtime
from genai_finops.governance.routing import subscribe
from genai_finops.lake.local import LocalLake

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The attribution-output builders shared with the unit tests (tests/ is not a package).
_builders = _load_module(ROOT / "tests" / "unit" / "governance" / "builders.py", "governance_builders")
Remainder, Requests, day, write_period = _builders.Remainder, _builders.Requests, _builders.day, _builders.write_period
REGION = "us-east-1"
ACCOUNT = "123456789012"
STEPS = ("PrepareRun", "RefreshAttribution", "Forecast", "Showback", "Budgets", "Publish", "RecordRun")
FOLDERS = {
    "PrepareRun": "monthly_prepare_run",
    "RefreshAttribution": "monthly_refresh_attribution",
    "Forecast": "monthly_forecast",
    "Showback": "monthly_showback",
    "Budgets": "monthly_budgets",
    "Publish": "monthly_publish",
    "RecordRun": "monthly_record_run",
}
CONFIG = {
    "owners": {
        "finops": {"contact": "finops@example.com"},
        "teams": {
            "support": {"contact": "support@example.com"},
            "search": {"contact": "search@example.com"},
            "platform": {"contact": "platform@example.com"},
        },
    },
    "budgets": {
        "items": [
            {"name": "support-monthly", "scope": "team", "value": "support", "monthly_amount": 45},
            {"name": "search-monthly", "scope": "team", "value": "search", "monthly_amount": 1000},
        ],
        "environment_caps": [
            {
                "environment": "dev",
                "monthly_amount": 10,
                "enforce": True,
                "role_names": ["dev-app"],
                "owner_team": "platform",
            }
        ],
    },
    "chargeback": {"min_attributable_percent": 80, "min_spend": 10},
    "forecast": {"levers": [{"name": "caching", "share_of_requests": "0.5", "saving": "0.4"}]},
    "credits": {"balance": 100, "balance_as_of": "2026-11", "expires_on": "2027-06-30"},
}


def _load_handler(folder: str) -> Callable[[Any, Any], Any]:
    handler: Callable[[Any, Any], Any] = _load_module(
        ROOT / "functions" / folder / "app.py", f"{folder}_app"
    ).lambda_handler
    return handler


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Serve moto Lambda invocations with the real handlers; count the calls per function."""
    by_function = {f"genai-finops-{step}": _load_handler(folder) for step, folder in FOLDERS.items()}
    calls: dict[str, int] = {}

    def invoke(
        self: LambdaSimpleBackend, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        name = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        calls[name] = calls.get(name, 0) + 1
        event = json.loads(body) if body else {}
        try:
            result = by_function[name](event, None)
        except Exception as error:  # noqa: BLE001 - reported to Step Functions as a function error, as Lambda does
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
        return json.dumps(result).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return calls


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handlers: dict[str, int]) -> Iterator[dict[str, Any]]:
    """Deploy the state machine, the functions, the alerts topic and three team queues in moto."""
    config_file = tmp_path / "governance.yaml"
    config_file.write_text(yaml.safe_dump(CONFIG))
    lake_dir = tmp_path / "lake"
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        session = boto3.Session(region_name=REGION)
        iam = session.client("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        role_arn = iam.create_role(RoleName="governance", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.create_role(RoleName="dev-app", AssumeRolePolicyDocument=trust)

        sns = session.client("sns")
        topic = sns.create_topic(Name="genai-finops-alerts")["TopicArn"]
        sqs = session.client("sqs")
        queues = {}
        for team in ("support", "search", "finops"):
            url = sqs.create_queue(QueueName=f"{team}-alerts")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queues[team] = url
            subscribe(session, topic, team, "sqs", arn)

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
        awslambda = session.client("lambda")
        substitutions = {"AlertsTopicArn": topic, "FinOpsTeam": "finops"}
        for step in STEPS:
            function = awslambda.create_function(
                FunctionName=f"genai-finops-{step}",
                Runtime="python3.13",
                Role=role_arn,
                Handler="app.lambda_handler",
                Code={"ZipFile": buffer.getvalue()},
            )
            substitutions[f"{step}FunctionArn"] = function["FunctionArn"]
        definition = substitute((ROOT / "statemachines" / "monthly.asl.json").read_text(), substitutions)
        sfn = session.client("stepfunctions")
        machine = sfn.create_state_machine(name="genai-finops-monthly", definition=definition, roleArn=role_arn)

        monkeypatch.setenv("GENAI_FINOPS_RUNTIME", "local")
        monkeypatch.setenv("GENAI_FINOPS_LAKE_DIR", str(lake_dir))
        monkeypatch.setenv("GENAI_FINOPS_CONFIG_FILE", str(config_file))
        monkeypatch.setenv("GENAI_FINOPS_ALERTS_TOPIC_ARN", topic)
        reset_governance_runtime()
        yield {
            "session": session,
            "sfn": sfn,
            "machine": machine["stateMachineArn"],
            "queues": queues,
            "lake": LocalLake(lake_dir),
            "calls": handlers,
            "config_file": config_file,
        }
        reset_governance_runtime()


def _generated_data(lake: LocalLake) -> None:
    """Two months of attribution output for support (prod), search (prod and dev) and shared cost."""
    for period, users in (("2026-10", 8), ("2026-11", 10)):
        write_period(
            lake,
            period,
            [
                Requests(day(f"{period}-03"), users * 10, Decimal("0.50"), "support", "chat", users=users),
                Requests(day(f"{period}-04"), 300, Decimal("0.10"), "search", "rank", users=30),
                Requests(day(f"{period}-05"), 30, Decimal("0.40"), "search", "rank", "dev", users=3),
            ],
            [Remainder(day(f"{period}-06"), Decimal("16.00"), None)],
            [Decimal("-20.00")] if period == "2026-11" else [],
        )


def _execute(stack: dict[str, Any], execution_input: dict[str, Any], name: str) -> dict[str, Any]:
    sfn = stack["sfn"]
    arn = sfn.start_execution(stateMachineArn=stack["machine"], name=name, input=json.dumps(execution_input))[
        "executionArn"
    ]
    for _ in range(600):
        description = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING":
            return dict(description)
        time.sleep(0.1)
    raise AssertionError(f"execution {name} did not finish within 60 seconds")


def _received(session: boto3.Session, url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    messages = []
    while True:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        batch = response.get("Messages", [])
        if not batch:
            return messages
        for item in batch:
            messages.append(json.loads(json.loads(item["Body"])["Message"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=item["ReceiptHandle"])


def test_monthly_run_end_to_end(stack: dict[str, Any]) -> None:
    lake: LocalLake = stack["lake"]
    _generated_data(lake)

    result = _execute(stack, {"billing_period": "2026-11", "refresh_attribution": False}, "run-2026-11")

    assert result["status"] == "SUCCEEDED", result.get("cause") or result.get("error")
    assert stack["calls"] == {f"genai-finops-{step}": 1 for step in STEPS}
    output = json.loads(result["output"])
    assert set(output["steps"]) == {"attribution", "forecast", "showback", "budgets", "publish", "record"}

    # Forecast: support's base forecast follows its user trend (8 -> 10 users, 10 requests each, 0.50 each).
    support_next = lake.query(
        "SELECT scenario, cost FROM forecasts WHERE billing_period = '2026-11' AND target_period = '2026-12' "
        "AND granularity = 'month' AND team = 'support' ORDER BY scenario"
    ).to_pylist()
    costs = {row["scenario"]: row["cost"] for row in support_next}
    assert float(costs["base"]) == pytest.approx(10 * 1.25 * 10 * 0.5)
    assert float(costs["optimized"]) == pytest.approx(float(costs["base"]) * 0.8)
    assert float(costs["stress"]) == pytest.approx(float(costs["base"]) * 1.5)

    # Showback: the 16.00 of shared cost is split to the cent, and net cost reconciles with credits.
    showback = lake.query("SELECT team, shared_cost, net_cost, statement_mode FROM showback").to_pylist()
    assert sum(row["shared_cost"] for row in showback) == Decimal("16.00")
    assert sum(row["net_cost"] for row in showback) == Decimal("50") + Decimal("30") + Decimal("12") + 16 - 20
    assert {row["team"]: row["statement_mode"] for row in showback} == {"support": "chargeback", "search": "chargeback"}

    # Budgets and routing: each team's queue receives its own messages and no other team's.
    support = _received(stack["session"], stack["queues"]["support"])
    search = _received(stack["session"], stack["queues"]["search"])
    finops = _received(stack["session"], stack["queues"]["finops"])
    assert sorted(m["kind"] for m in support) == [
        "budget_actual_threshold",
        "budget_forecast_threshold",
        "monthly_statement",
    ]
    assert {m["team"] for m in support} == {"support"}
    assert [m["kind"] for m in search] == ["monthly_statement"]
    assert {m["team"] for m in search} == {"search"}
    assert sorted(m["kind"] for m in finops) == ["finops_summary"]
    [actual] = [m for m in support if m["kind"] == "budget_actual_threshold"]
    assert Decimal(actual["payload"]["actual_spend"]) == Decimal("50.00")
    assert "support" in actual["subject"]

    # The dev cap (10.00) was breached by search's 12.00 in dev, but the month is over: alerted, not enforced.
    platform_outbox = [json.loads(lake.get_document(k)) for k in lake.list_documents("outbox/team=platform/")]
    assert [m["kind"] for m in platform_outbox] == ["budget_cap_breached"]
    assert platform_outbox[0]["payload"]["enforcement"] == "dry_run"
    iam = stack["session"].client("iam")
    assert deny_policy_name("dev") not in iam.list_role_policies(RoleName="dev-app")["PolicyNames"]
    [run] = lake.query("SELECT status FROM governance_runs").to_pylist()
    assert run["status"] == "succeeded"


def test_rerun_sends_no_duplicates(stack: dict[str, Any]) -> None:
    _generated_data(stack["lake"])
    first = _execute(stack, {"billing_period": "2026-11", "refresh_attribution": False}, "first")
    sent_first = sum(len(_received(stack["session"], url)) for url in stack["queues"].values())

    second = _execute(stack, {"billing_period": "2026-11", "refresh_attribution": False}, "second")

    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    # support 3, search 1, finops 1; the cap alert goes to platform, which has no queue here.
    assert sent_first == 5
    assert sum(len(_received(stack["session"], url)) for url in stack["queues"].values()) == 0
    assert len(stack["lake"].partitions("governance_runs")) == 2


def test_failed_step_notifies_finops(stack: dict[str, Any]) -> None:
    # No attribution output for the period: RefreshAttribution fails and the Catch path runs.
    result = _execute(stack, {"billing_period": "2026-11", "refresh_attribution": False}, "broken")

    assert result["status"] == "FAILED"
    assert result.get("error") == "MonthlyRunFailed"
    [message] = _received(stack["session"], stack["queues"]["finops"])
    assert message["kind"] == "run_failed"
    assert message["payload"]["failed_step"] == "RefreshAttribution"
    assert message["payload"]["error"] == "InputError"
    assert message["payload"]["cause"].startswith("attribution_coverage has no partition for 2026-11")
    assert _received(stack["session"], stack["queues"]["support"]) == []
    [run] = stack["lake"].query("SELECT status, error FROM governance_runs").to_pylist()
    assert run == {"status": "failed", "error": "InputError"}


def test_daily_budget_check_enforces_cap(stack: dict[str, Any]) -> None:
    lake: LocalLake = stack["lake"]
    _generated_data(lake)
    from genai_finops.governance import lambda_handlers

    runtime = lambda_handlers.governance_runtime()
    runtime.clock = lambda: datetime(2026, 11, 20, 6, tzinfo=UTC)

    summary = _load_handler("monthly_budgets")({"date": "2026-11-20"}, None)

    assert summary["caps_breached"] == ["dev"]
    assert summary["actions_applied"] == 1
    iam = stack["session"].client("iam")
    assert iam.list_role_policies(RoleName="dev-app")["PolicyNames"] == [deny_policy_name("dev")]
    document = iam.get_role_policy(RoleName="dev-app", PolicyName=deny_policy_name("dev"))["PolicyDocument"]
    statement = (json.loads(document) if isinstance(document, str) else document)["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == ["bedrock:InvokeModel*", "bedrock:Converse*"]


def test_generated_organisation_with_attribution(stack: dict[str, Any], tmp_path: Path) -> None:
    """The demo generator's bill and logs, ingested, then attributed by the RefreshAttribution step."""
    import datetime as dt

    from genai_finops.cli.main import main
    from genai_finops.demo.generator import generate

    lake: LocalLake = stack["lake"]
    data = generate(tmp_path / "demo", end=dt.date(2026, 11, 30), days=61, scale=0.05, seed=11)
    demo_config = yaml.safe_load(data.config_file.read_text())
    demo_config["invocations"]["inference_profiles_file"] = str(data.profiles_file)
    config_file = Path(stack["config_file"])
    config_file.write_text(yaml.safe_dump({**demo_config, **CONFIG}))
    common = ["--lake", str(lake.root), "--config", str(config_file), "--quiet"]
    assert main(["ingest-cur", str(data.billing_root), *common]) == 0
    assert main(["ingest-logs", str(data.logs_root), *common]) == 0
    reset_governance_runtime()

    result = _execute(stack, {"billing_period": "2026-11"}, "generated-2026-11")

    assert result["status"] == "SUCCEEDED", result.get("cause") or result.get("error")
    output = json.loads(result["output"])
    assert output["steps"]["attribution"]["refreshed"] is True
    [coverage] = lake.query(
        "SELECT spend, estimated_request_cost FROM attribution_coverage WHERE billing_period = '2026-11'"
    ).to_pylist()
    credits = (
        lake.query(
            "SELECT coalesce(sum(cost_net), 0) FROM cost_lines "
            "WHERE billing_period = '2026-11' AND line_item_type = 'Credit'"
        )
        .column(0)[0]
        .as_py()
    )
    shared = (
        lake.query(
            "SELECT sum(cost) FROM (SELECT team, cost FROM request_costs WHERE billing_period = '2026-11' "
            "AND cost IS NOT NULL UNION ALL SELECT team, cost FROM attribution_remainder "
            "WHERE billing_period = '2026-11' AND reason <> 'credit') WHERE team IS NULL OR team = 'shared'"
        )
        .column(0)[0]
        .as_py()
    )
    [totals] = lake.query(
        "SELECT sum(shared_cost) AS shared, sum(net_cost) AS net FROM showback WHERE billing_period = '2026-11'"
    ).to_pylist()
    assert totals["shared"] == shared
    assert totals["net"] == coverage["spend"] + (coverage["estimated_request_cost"] or 0) + credits

    support = _received(stack["session"], stack["queues"]["support"])
    assert support, "support received no message"
    assert {m["team"] for m in support} == {"support"}
    assert {m["team"] for m in _received(stack["session"], stack["queues"]["search"])} <= {"search"}
    finops = _received(stack["session"], stack["queues"]["finops"])
    assert "finops_summary" in {m["kind"] for m in finops}
    assert {m["team"] for m in finops} == {"finops"}


def test_failure_report_fallback_publishes(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # RefreshAttribution fails (no attribution output), then recording the failure fails too: the state
    # machine publishes a plain-text message to the alerts topic through the sns:publish integration.
    original = LambdaSimpleBackend.invoke

    def invoke(self: LambdaSimpleBackend, function_name: str, *args: Any) -> Any:
        if function_name.endswith("genai-finops-RecordRun"):
            response_headers = args[-1]
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "RuntimeError", "errorMessage": "lake bucket unavailable"}).encode()
        return original(self, function_name, *args)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)

    result = _execute(stack, {"billing_period": "2026-11", "refresh_attribution": False}, "doubly-broken")

    assert result["status"] == "FAILED"
    sqs = stack["session"].client("sqs")
    [item] = sqs.receive_message(QueueUrl=stack["queues"]["finops"], MaxNumberOfMessages=10)["Messages"]
    body = json.loads(item["Body"])
    assert body["Subject"] == "GenAI FinOps: monthly run failed, failure report not recorded"
    assert "doubly-broken" in body["Message"]
    assert body["MessageAttributes"]["kind"]["Value"] == "run_failed"
    assert _received(stack["session"], stack["queues"]["support"]) == []


def test_run_month_on_aws_lake(aws: boto3.Session, tmp_path: Path) -> None:
    """The same ASL run over the S3 and Glue lake (moto), with DuckDB over Glue standing in for Athena."""
    from genai_finops.config import parse_config
    from genai_finops.governance.local_run import run_month
    from genai_finops.governance.routing import Router, SnsPublisher
    from genai_finops.governance.steps import GovernanceRuntime
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
    _generated_data(lake)  # type: ignore[arg-type]
    topic = aws.client("sns").create_topic(Name="alerts")["TopicArn"]
    url = aws.client("sqs").create_queue(QueueName="support")["QueueUrl"]
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscribe(aws, topic, "support", "sqs", queue_arn)
    config = parse_config(CONFIG)
    router = Router(lake, config, publisher=SnsPublisher(aws), default_topic_arn=topic)
    runtime = GovernanceRuntime(lake=lake, config=config, router=router)

    result = run_month(runtime, "2026-11", refresh_attribution=False, run_id="aws-run")

    [run] = lake.query("SELECT status, error, error_cause FROM governance_runs").to_pylist()
    assert run["status"] == "succeeded", f"{run['error']}: {run['error_cause']}"
    assert result.status == "SUCCEEDED"
    glue = aws.client("glue")
    for table in ("forecasts", "forecast_accuracy", "showback", "budget_actions", "governance_runs", "messages_sent"):
        assert glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["Name"] == table
    [totals] = lake.query("SELECT sum(shared_cost) AS shared, sum(net_cost) AS net FROM showback").to_pylist()
    assert totals == {"shared": Decimal("16.00"), "net": Decimal("88.00")}
    statement = (
        aws.client("s3")
        .get_object(Bucket=LAKE_BUCKET, Key="documents/reports/2026-11/team=support/statement.csv")["Body"]
        .read()
    )
    assert statement.startswith(b"billing_period,team,feature")
    assert sorted(m["kind"] for m in _received(aws, url)) == [
        "budget_actual_threshold",
        "budget_forecast_threshold",
        "monthly_statement",
    ]


def test_service_error_is_retried(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # The first Forecast invocation fails with LakeError; the Retry policy (5 s, backoff 2) runs it again.
    _generated_data(stack["lake"])
    original = LambdaSimpleBackend.invoke
    failures = {"left": 1}

    def invoke(self: LambdaSimpleBackend, function_name: str, *args: Any) -> Any:
        if function_name.endswith("genai-finops-Forecast") and failures["left"]:
            failures["left"] -= 1
            args[-1]["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "LakeError", "errorMessage": "Athena throttled"}).encode()
        return original(self, function_name, *args)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)

    result = _execute(stack, {"billing_period": "2026-11", "refresh_attribution": False}, "retried")

    assert result["status"] == "SUCCEEDED"
    assert failures["left"] == 0
    assert stack["calls"]["genai-finops-Forecast"] == 1
    history = stack["sfn"].get_execution_history(executionArn=result["executionArn"])["events"]
    failed = [event for event in history if event["type"] == "LambdaFunctionFailed"]
    assert [event["lambdaFunctionFailedEventDetails"]["error"] for event in failed] == ["LakeError"]
