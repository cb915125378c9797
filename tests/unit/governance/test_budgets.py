from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from genai_finops.config import parse_config
from genai_finops.governance.budgets import project, run_budgets
from genai_finops.governance.enforcement import deny_policy_name
from genai_finops.governance.routing import Router
from genai_finops.governance.steps import GovernanceRuntime, check_budgets
from genai_finops.lake.local import LocalLake

from .builders import Requests, day, write_period

NOVEMBER_10 = dt.datetime(2026, 11, 10, 8, tzinfo=dt.UTC)


class RecordingEnforcer:
    """Records attach and remove calls instead of calling IAM."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def attach_deny(self, role_name: str, policy_name: str) -> None:
        self.calls.append(("attach", role_name, policy_name))

    def remove_deny(self, role_name: str, policy_name: str) -> None:
        self.calls.append(("remove", role_name, policy_name))


CONFIG = {
    "owners": {"finops": {"contact": "finops@example.com"}, "teams": {"support": {"contact": "support@example.com"}}},
    "budgets": {
        "items": [
            {"name": "support-monthly", "scope": "team", "value": "support", "monthly_amount": 100},
            {"name": "rank-feature", "scope": "feature", "value": "rank", "monthly_amount": 1000},
        ],
        "environment_caps": [
            {"environment": "dev", "monthly_amount": 40, "enforce": True, "role_names": ["dev-app", "dev-batch"]}
        ],
    },
}


def _ten_days(lake: LocalLake) -> None:
    # Support spends 5.00 a day in prod and search 4.50 a day in dev, November 1 to 10.
    batches = []
    for number in range(1, 11):
        batches.append(Requests(day(f"2026-11-{number:02d}"), 10, Decimal("0.50"), "support", "chat"))
        batches.append(Requests(day(f"2026-11-{number:02d}"), 9, Decimal("0.50"), "search", "rank", "dev"))
    write_period(lake, "2026-11", batches)


def test_projection_uses_run_rate() -> None:
    rows = [{"day": day(f"2026-11-{d:02d}"), "cost": Decimal(5)} for d in range(1, 11)]
    point = project(rows, "2026-11", day("2026-11-10"), 7)

    assert point.actual == Decimal(50)
    assert point.forecast == Decimal(150)


def test_projection_of_complete_month_is_actual() -> None:
    rows = [{"day": day("2026-11-02"), "cost": Decimal(5)}]
    point = project(rows, "2026-11", day("2026-11-30"), 7)

    assert point.forecast == point.actual == Decimal(5)


def test_forecast_threshold_alerts_owner(lake: LocalLake) -> None:
    _ten_days(lake)
    outcome = run_budgets(lake, parse_config(CONFIG), day("2026-11-10"), None, NOVEMBER_10)

    budget_alerts = [m for m in outcome.messages if m.kind.startswith("budget_") and m.kind.endswith("threshold")]
    assert [(m.kind, m.team) for m in budget_alerts] == [("budget_forecast_threshold", "support")]
    payload = budget_alerts[0].payload
    assert payload.actual_spend == Decimal("50.00")
    assert payload.forecast_spend == Decimal("150.00")
    assert payload.threshold_amount == Decimal("80.0")
    assert "Projected month-end spend of team support crossed 80%" in budget_alerts[0].body
    assert outcome.budgets["rank-feature"]["actual"] == "45.0000000000"


def test_actual_threshold_is_critical(lake: LocalLake) -> None:
    _ten_days(lake)
    config = parse_config(
        {**CONFIG, "budgets": {"items": [{"name": "s", "scope": "team", "value": "support", "monthly_amount": 40}]}}
    )
    outcome = run_budgets(lake, config, day("2026-11-10"), None, NOVEMBER_10)

    actual = [m for m in outcome.messages if m.kind == "budget_actual_threshold"]
    assert len(actual) == 1
    assert actual[0].severity == "critical"


def test_cap_breach_enforced_and_recorded(lake: LocalLake) -> None:
    _ten_days(lake)
    enforcer = RecordingEnforcer()
    outcome = run_budgets(lake, parse_config(CONFIG), day("2026-11-10"), enforcer, NOVEMBER_10)

    policy = deny_policy_name("dev")
    assert enforcer.calls == [("attach", "dev-app", policy), ("attach", "dev-batch", policy)]
    assert outcome.caps_breached == ["dev"]
    [cap] = [m for m in outcome.messages if m.kind == "budget_cap_breached"]
    assert cap.team == "finops"
    assert cap.payload.spend == Decimal("45.00")
    actions = lake.query("SELECT role_name, mode, state FROM budget_actions ORDER BY role_name").to_pylist()
    assert actions == [
        {"role_name": "dev-app", "mode": "enforced", "state": "applied"},
        {"role_name": "dev-batch", "mode": "enforced", "state": "applied"},
    ]


def test_cap_dry_run_by_default(lake: LocalLake) -> None:
    _ten_days(lake)
    config = parse_config(
        {"budgets": {"environment_caps": [{"environment": "dev", "monthly_amount": 40, "role_names": ["dev-app"]}]}}
    )
    enforcer = RecordingEnforcer()
    outcome = run_budgets(lake, config, day("2026-11-10"), enforcer, NOVEMBER_10)

    assert enforcer.calls == []
    assert outcome.messages[0].payload.enforcement == "dry_run"
    assert lake.query("SELECT state FROM budget_actions").column(0).to_pylist() == ["dry_run"]


def test_cap_lifted_next_period(lake: LocalLake) -> None:
    _ten_days(lake)
    enforcer = RecordingEnforcer()
    run_budgets(lake, parse_config(CONFIG), day("2026-11-10"), enforcer, NOVEMBER_10)
    enforcer.calls.clear()

    december = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
    outcome = run_budgets(lake, parse_config(CONFIG), day("2026-12-01"), enforcer, december)

    policy = deny_policy_name("dev")
    assert enforcer.calls == [("remove", "dev-app", policy), ("remove", "dev-batch", policy)]
    assert outcome.actions_lifted == 2
    assert [m.kind for m in outcome.messages] == ["budget_cap_lifted"]
    rows = lake.query("SELECT state, lifted_at FROM budget_actions WHERE billing_period = '2026-11'").to_pylist()
    assert {row["state"] for row in rows} == {"lifted"}
    assert all(row["lifted_at"] == december for row in rows)


def test_closed_month_does_not_enforce(lake: LocalLake) -> None:
    _ten_days(lake)
    enforcer = RecordingEnforcer()
    december = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    outcome = run_budgets(lake, parse_config(CONFIG), day("2026-11-30"), enforcer, december)

    assert enforcer.calls == []
    assert outcome.messages[-1].payload.enforcement == "dry_run"


def test_alerts_sent_once(lake: LocalLake) -> None:
    _ten_days(lake)
    config = parse_config(CONFIG)
    runtime = GovernanceRuntime(lake=lake, config=config, router=Router(lake, config), clock=lambda: NOVEMBER_10)

    first = check_budgets(runtime, day("2026-11-10"))
    second = check_budgets(runtime, day("2026-11-10"))

    assert first["sent"] == 2
    assert second["sent"] == 0
    assert second["skipped_duplicates"] == 2
    keys = lake.list_documents("outbox/team=support/2026-11/")
    assert len(keys) == 1
    message = json.loads(lake.get_document(keys[0]))
    assert message["kind"] == "budget_forecast_threshold"
    assert message["payload"]["budget_name"] == "support-monthly"
    sent = lake.query("SELECT team, kind FROM messages_sent ORDER BY team").to_pylist()
    assert sent == [
        {"team": "finops", "kind": "budget_cap_breached"},
        {"team": "support", "kind": "budget_forecast_threshold"},
    ]


def test_enforcing_cap_needs_roles() -> None:
    from genai_finops.errors import ConfigError

    with pytest.raises(ConfigError, match="enforces but lists no role_names"):
        parse_config({"budgets": {"environment_caps": [{"environment": "dev", "monthly_amount": 1, "enforce": True}]}})


def test_budgets_command_prints_summary(lake: LocalLake, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from genai_finops.cli.main import main

    _ten_days(lake)
    config_file = tmp_path / "governance.yaml"
    config_file.write_text(yaml.safe_dump(CONFIG))
    arguments = ["budgets", "--date", "2026-11-10", "--lake", str(lake.root), "--config", str(config_file), "--quiet"]

    status = main(arguments)

    assert status == 0
    output = capsys.readouterr().out
    # Log lines are one-line JSON objects; the summary is printed indented, so it starts with "{" alone.
    summary = json.loads(output[output.index("{\n") :])
    assert summary["as_of"] == "2026-11-10"
    assert summary["budgets"]["support-monthly"] == {"actual": "50.0000000000", "forecast": "150.0000000000"}
    assert summary["caps_breached"] == ["dev"]
    # Without --apply-enforcement the command line never changes IAM: the breach is recorded as a dry run.
    assert summary["actions_applied"] == 0
    assert lake.query("SELECT DISTINCT mode FROM budget_actions").column(0).to_pylist() == ["dry_run"]
