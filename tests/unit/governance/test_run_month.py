"""``genai-finops run-month`` on a local lake: the ASL file executed with the in-process steps."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from genai_finops.cli.main import main
from genai_finops.lake.local import LocalLake

from .builders import Remainder, Requests, day, write_period

CONFIG = {
    "owners": {
        "finops": {"contact": "finops@example.com"},
        "teams": {"support": {"contact": "support@example.com"}, "search": {"contact": "search@example.com"}},
    },
    "budgets": {"items": [{"name": "support-monthly", "scope": "team", "value": "support", "monthly_amount": 60}]},
    "chargeback": {"min_attributable_percent": 80, "min_spend": 10},
    "credits": {"balance": 500, "balance_as_of": "2026-10", "expires_on": "2027-06-30"},
}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "governance.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


def _data(lake: LocalLake) -> None:
    write_period(lake, "2026-10", [Requests(day("2026-10-05"), 90, Decimal("0.50"), "support", "chat", users=9)])
    write_period(
        lake,
        "2026-11",
        [
            Requests(day("2026-11-03"), 100, Decimal("0.50"), "support", "chat", users=10),
            Requests(day("2026-11-04"), 300, Decimal("0.10"), "search", "rank", users=30),
        ],
        [Remainder(day("2026-11-05"), Decimal("16.00"), None)],
        [Decimal("-20.00")],
    )


def _run(lake_dir: Path, config_file: Path, *extra: str) -> int:
    return main(
        [
            "run-month",
            "2026-11",
            "--no-refresh",
            "--lake",
            str(lake_dir),
            "--config",
            str(config_file),
            "--quiet",
            *extra,
        ]
    )


def test_run_month_writes_every_output(lake: LocalLake, config_file: Path) -> None:
    _data(lake)
    assert _run(lake.root, config_file) == 0

    showback = lake.query("SELECT sum(shared_cost) AS shared, sum(net_cost) AS net FROM showback").to_pylist()[0]
    assert showback["shared"] == Decimal("16.00")
    assert showback["net"] == Decimal("76.00")  # 50 + 30 + 16 shared - 20 credits
    forecast_months = (
        lake.query("SELECT DISTINCT target_period FROM forecasts WHERE granularity = 'month' ORDER BY 1")
        .column(0)
        .to_pylist()
    )
    assert forecast_months == ["2026-12", "2027-01", "2027-02"]
    [run] = lake.query("SELECT status, steps FROM governance_runs").to_pylist()
    assert run["status"] == "succeeded"
    assert {name for name, _ in run["steps"]} == {"attribution", "forecast", "showback", "budgets", "publish"}

    assert lake.get_document("reports/2026-11/team=support/statement.csv") is not None
    support = lake.list_documents("outbox/team=support/2026-11/")
    kinds = sorted(json.loads(lake.get_document(key))["kind"] for key in support)
    # Budgets count the team's own spend (50.00): under 100% of 60, over the 80% forecast threshold (48.00).
    assert kinds == ["budget_forecast_threshold", "monthly_statement"]
    search = [json.loads(lake.get_document(key)) for key in lake.list_documents("outbox/team=search/2026-11/")]
    assert [(m["kind"], m["payload"]["statement_mode"]) for m in search] == [("monthly_statement", "chargeback")]
    # search: 30 of 36 attributable (83.3%), at least the configured 80%.
    [summary] = [json.loads(lake.get_document(key)) for key in lake.list_documents("outbox/team=finops/2026-11/")]
    assert summary["kind"] == "finops_summary"
    assert Decimal(summary["payload"]["credit_balance"]) == Decimal("480.00")
    assert {k: Decimal(v) for k, v in summary["payload"]["credits_by_period"].items()} == {"2026-11": Decimal(-20)}
    [statement] = [json.loads(lake.get_document(key)) for key in support if "monthly_statement" in key]
    forecast = lake.query(
        "SELECT scenario, sum(cost) AS cost FROM forecasts WHERE billing_period = '2026-11' "
        "AND target_period = '2026-12' AND granularity = 'month' AND team = 'support' GROUP BY scenario"
    ).to_pylist()
    expected = {row["scenario"]: row["cost"] for row in forecast}
    assert {k: Decimal(v) for k, v in statement["payload"]["next_month_forecast"].items()} == expected
    assert "Forecast for 2026-12 before shared cost and credits: base" in statement["body"]


def test_rerun_sends_nothing_twice(lake: LocalLake, config_file: Path) -> None:
    _data(lake)
    assert _run(lake.root, config_file) == 0
    before = lake.list_documents("outbox/")
    assert _run(lake.root, config_file) == 0

    assert lake.list_documents("outbox/") == before
    assert len(lake.partitions("governance_runs")) == 2
    assert lake.query("SELECT count(*) FROM messages_sent").column(0)[0].as_py() == len(before)


def test_failure_notifies_finops(lake: LocalLake, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No attribution for the period: the RefreshAttribution step fails and the Catch path runs.
    # run-month rejects a lake folder that does not exist, so an empty one is made first.
    lake.root.mkdir()
    assert _run(lake.root, config_file) == 1

    assert "MonthlyRunFailed" in capsys.readouterr().out
    [run] = lake.query("SELECT status, error, error_cause FROM governance_runs").to_pylist()
    assert run["status"] == "failed"
    assert run["error"] == "InputError"
    assert "attribution_coverage has no partition for 2026-11" in run["error_cause"]
    [key] = lake.list_documents("outbox/team=finops/2026-11/")
    message = json.loads(lake.get_document(key))
    assert message["kind"] == "run_failed"
    assert message["payload"]["failed_step"] == "RefreshAttribution"
    assert message["severity"] == "critical"


def test_invalid_period_rejected(lake: LocalLake, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run-month", "2026-13", "--lake", str(lake.root)])
    assert "expected YYYY-MM" in capsys.readouterr().err


def test_failure_report_fallback_local(lake: LocalLake, monkeypatch: pytest.MonkeyPatch) -> None:
    from genai_finops.config import parse_config
    from genai_finops.governance import steps
    from genai_finops.governance.local_run import run_month
    from genai_finops.governance.routing import Router

    def broken_record(event: dict, runtime: steps.GovernanceRuntime) -> dict:
        raise RuntimeError("lake unavailable")

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "RecordRunFunctionArn", broken_record)
    config = parse_config(CONFIG)
    runtime = steps.GovernanceRuntime(lake=lake, config=config, router=Router(lake, config))

    result = run_month(runtime, "2026-11", refresh_attribution=False, run_id="run-x")

    assert result.status == "FAILED"
    assert result.visited[-3:] == ["NotifyFailure", "PublishFailureDirectly", "Failed"]
    [key] = lake.list_documents("outbox/team=finops/direct/")
    published = json.loads(lake.get_document(key))
    assert published["MessageAttributes"]["kind"]["StringValue"] == "run_failed"
    assert "run-x" in published["Message"]


def test_prepare_run_defaults_to_previous_month(lake: LocalLake) -> None:
    from genai_finops.config import parse_config
    from genai_finops.errors import InputError
    from genai_finops.governance.routing import Router
    from genai_finops.governance.steps import GovernanceRuntime, prepare_run

    runtime = GovernanceRuntime(lake=lake, config=parse_config({}), router=Router(lake, parse_config({})))
    event = {"input": {}, "run_id": "r", "started_at": "2027-01-05T06:00:00.123Z"}

    prepared = prepare_run(event, runtime)

    assert prepared["billing_period"] == "2026-12"
    assert prepared["refresh_attribution"] is True
    with pytest.raises(InputError, match="invalid billing_period '2026-1'"):
        prepare_run({**event, "input": {"billing_period": "2026-1"}}, runtime)
