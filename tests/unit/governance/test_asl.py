from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genai_finops.errors import LakeError
from genai_finops.governance.asl import AslError, StateMachine, load_definition, resolve_parameters

ROOT = Path(__file__).resolve().parents[3]


def _machine(states: dict[str, Any], resources: dict[str, Any], start: str = "A") -> tuple[StateMachine, list[float]]:
    sleeps: list[float] = []
    definition = load_definition(json.dumps({"StartAt": start, "States": states}), {})
    return StateMachine(definition, resources, sleep=sleeps.append), sleeps


def test_task_parameters_and_result_path() -> None:
    machine, _ = _machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "double",
                "Parameters": {"value.$": "$.x", "run.$": "$$.Execution.Name", "fixed": 1},
                "ResultPath": "$.result.doubled",
                "Next": "B",
            },
            "B": {"Type": "Succeed"},
        },
        {"double": lambda event: {"value": event["value"] * 2, "run": event["run"], "fixed": event["fixed"]}},
    )
    result = machine.execute({"x": 21}, "exec-1")

    assert result.status == "SUCCEEDED"
    assert result.output == {"x": 21, "result": {"doubled": {"value": 42, "run": "exec-1", "fixed": 1}}}
    assert result.visited == ["A", "B"]


def test_retry_with_backoff_then_success() -> None:
    attempts: list[int] = []

    def flaky(event: Any) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise LakeError("throttled")
        return "ok"

    machine, sleeps = _machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "flaky",
                "Retry": [{"ErrorEquals": ["LakeError"], "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2.0}],
                "End": True,
            }
        },
        {"flaky": flaky},
    )
    result = machine.execute({}, "exec")

    assert result.status == "SUCCEEDED"
    assert result.output == "ok"
    assert sleeps == [5.0, 10.0]


def test_catch_after_retries_exhausted() -> None:
    def broken(event: Any) -> None:
        raise LakeError("bucket missing")

    machine, sleeps = _machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "broken",
                "Retry": [{"ErrorEquals": ["LakeError"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle"}],
                "End": True,
            },
            "Handle": {"Type": "Pass", "Parameters": {"seen.$": "$.error.Error"}, "Next": "Stop"},
            "Stop": {"Type": "Fail", "Error": "Stopped", "Cause": "handled"},
        },
        {"broken": broken},
    )
    result = machine.execute({"keep": True}, "exec")

    assert sleeps == [1.0, 2.0]
    assert result.status == "FAILED"
    assert result.error == "Stopped"
    assert result.visited == ["A", "Handle", "Stop"]


def test_uncaught_error_fails_execution() -> None:
    def broken(event: Any) -> None:
        raise ValueError("bad value")

    machine, _ = _machine({"A": {"Type": "Task", "Resource": "broken", "End": True}}, {"broken": broken})
    result = machine.execute({}, "exec")

    assert (result.status, result.error, result.cause) == ("FAILED", "ValueError", "bad value")


def test_choice_and_output_path() -> None:
    machine, _ = _machine(
        {
            "A": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.flag", "IsPresent": False, "Next": "Missing"},
                    {"Variable": "$.flag", "BooleanEquals": True, "Next": "Yes"},
                ],
                "Default": "Missing",
            },
            "Yes": {"Type": "Pass", "Result": {"answer": "yes"}, "OutputPath": "$.answer", "End": True},
            "Missing": {"Type": "Pass", "Result": "missing", "End": True},
        },
        {},
    )
    assert machine.execute({"flag": True}, "e").output == "yes"
    assert machine.execute({}, "e").output == "missing"


def test_intrinsic_functions() -> None:
    context = {"Execution": {"Name": "run-7"}}
    resolved = resolve_parameters(
        {"text.$": "States.Format('run {} state {}', $$.Execution.Name, States.JsonToString($.a))"},
        {"a": {"b": 1}},
        context,
    )
    assert resolved == {"text": 'run run-7 state {"b":1}'}


def test_unsupported_state_rejected() -> None:
    with pytest.raises(AslError, match="type 'Map'"):
        load_definition(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Map", "End": True}}}), {})


def test_missing_substitution_rejected() -> None:
    text = (ROOT / "statemachines" / "monthly.asl.json").read_text()
    with pytest.raises(AslError, match="AlertsTopicArn"):
        load_definition(text, {"PrepareRunFunctionArn": "x"})


def test_monthly_definition_loads() -> None:
    text = (ROOT / "statemachines" / "monthly.asl.json").read_text()
    names = ["PrepareRun", "RefreshAttribution", "Forecast", "Showback", "Budgets", "Publish", "RecordRun"]
    substitutions = {f"{name}FunctionArn": f"local:{name}" for name in names}
    substitutions.update(AlertsTopicArn="arn:aws:sns:us-east-1:123456789012:alerts", FinOpsTeam="finops")
    definition = load_definition(text, substitutions)

    task_states = [name for name, state in definition["States"].items() if state["Type"] == "Task"]
    assert task_states[:7] == names
    for name in names[:-1]:
        retry = definition["States"][name]["Retry"][0]
        assert retry["BackoffRate"] == 2.0
        assert definition["States"][name]["Catch"][0]["Next"] == "NotifyFailure"
