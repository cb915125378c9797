"""Run the monthly state machine locally: the deployed ASL file, interpreted, with in-process steps."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..lake.base import key_segment
from .asl import ExecutionResult, StateMachine, load_definition
from .steps import STEP_FUNCTIONS, GovernanceRuntime

# The repository layout puts statemachines/ three folders above the shared layer's package.
DEFAULT_DEFINITION = Path(__file__).resolve().parents[4] / "statemachines" / "monthly.asl.json"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
LOCAL_TOPIC = "local:topic:alerts"


def local_substitutions(runtime: GovernanceRuntime) -> dict[str, str]:
    """Return the values SAM's DefinitionSubstitutions would give, pointing at local handlers."""
    values = {name: f"local:function:{name.removesuffix('FunctionArn')}" for name in STEP_FUNCTIONS}
    values["AlertsTopicArn"] = runtime.router.default_topic_arn or LOCAL_TOPIC
    values["FinOpsTeam"] = runtime.config.owners.finops.team
    return values


def _direct_publish(runtime: GovernanceRuntime) -> Any:
    """Stand-in for the sns:publish service integration: the raw message goes to the FinOps outbox."""

    def publish(parameters: dict[str, Any]) -> dict[str, Any]:
        message_id = uuid.uuid4().hex
        team = runtime.config.owners.finops.team
        runtime.router.lake.put_document(
            f"outbox/team={key_segment(team)}/direct/{message_id}.json",
            json.dumps(parameters, indent=2).encode("utf-8"),
        )
        return {"MessageId": message_id}

    return publish


def build_state_machine(runtime: GovernanceRuntime, definition_path: Path | None = None) -> StateMachine:
    """Load the ASL file with local substitutions and bind every Task resource to its step function."""
    path = definition_path or DEFAULT_DEFINITION
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read state machine definition {path}: {error.strerror}") from error
    substitutions = local_substitutions(runtime)
    definition = load_definition(text, substitutions)
    resources: dict[str, Any] = {
        substitutions[name]: (lambda event, step=step: step(event, runtime)) for name, step in STEP_FUNCTIONS.items()
    }
    resources[SNS_PUBLISH] = _direct_publish(runtime)
    return StateMachine(definition, resources, name="monthly", sleep=lambda seconds: None)


def run_month(
    runtime: GovernanceRuntime,
    billing_period: str,
    *,
    refresh_attribution: bool = True,
    definition_path: Path | None = None,
    run_id: str | None = None,
) -> ExecutionResult:
    """Execute the monthly state machine for one billing period and return the execution's result.

    Retry waits are skipped locally: a failing step is retried at once, as many times as the ASL allows.
    """
    machine = build_state_machine(runtime, definition_path)
    started = datetime.now(UTC)
    name = run_id or f"{billing_period}-{started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    return machine.execute(
        {"billing_period": billing_period, "refresh_attribution": refresh_attribution}, name, started_at=started
    )
