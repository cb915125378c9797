"""A small interpreter of Amazon States Language, so that the local run executes the deployed definition.

It runs the subset the project's state machines use. The states are Task, Pass, Choice, Succeed and
Fail. The fields are InputPath, Parameters, ResultSelector, ResultPath, OutputPath, Retry (interval,
backoff rate, maximum delay) and Catch. Parameters may use ``.$`` keys, the context object ``$$`` and the
intrinsic functions ``States.Format``, ``States.JsonToString`` and ``States.StringToJson``. A definition
that uses any other state type or field raises ``AslError`` when it is loaded, so a change to the ASL file
cannot be skipped silently.

Task resources are looked up in a mapping from the resource string (after substitution of the
``${Name}`` placeholders that SAM's DefinitionSubstitutions fill in AWS) to a Python callable.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import FinOpsError

SUPPORTED_STATES = {"Task", "Pass", "Choice", "Succeed", "Fail"}
STATE_FIELDS = {
    "Task": {"Type", "Comment", "Resource", "InputPath", "Parameters", "ResultPath", "OutputPath", "Retry", "Catch"}
    | {"Next", "End", "TimeoutSeconds", "ResultSelector"},
    "Pass": {"Type", "Comment", "InputPath", "Parameters", "Result", "ResultPath", "OutputPath", "Next", "End"},
    "Choice": {"Type", "Comment", "InputPath", "OutputPath", "Choices", "Default"},
    "Succeed": {"Type", "Comment", "InputPath", "OutputPath"},
    "Fail": {"Type", "Comment", "Error", "Cause"},
}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
MAX_TRANSITIONS = 1000


class AslError(FinOpsError):
    """The state machine definition is invalid or uses a feature this interpreter does not run."""


class StatesError(Exception):
    """A runtime error inside an execution, with the ASL error name that Retry and Catch match on."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


TaskHandler = Callable[[Any], Any]


@dataclass
class ExecutionResult:
    """The outcome of one execution: status SUCCEEDED or FAILED, output or error, and the states entered."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    visited: list[str] = field(default_factory=list)


def substitute(definition_text: str, substitutions: Mapping[str, str]) -> str:
    """Replace ``${Name}`` placeholders the way DefinitionSubstitutions does; a missing name raises AslError."""
    missing = sorted({name for name in PLACEHOLDER.findall(definition_text) if name not in substitutions})
    if missing:
        raise AslError(f"no substitution for placeholders {missing} in the state machine definition")
    return PLACEHOLDER.sub(lambda match: json.dumps(substitutions[match.group(1)])[1:-1], definition_text)


def load_definition(definition_text: str, substitutions: Mapping[str, str]) -> dict[str, Any]:
    """Substitute placeholders, parse the JSON and check that every state is one this interpreter runs."""
    try:
        definition: dict[str, Any] = json.loads(substitute(definition_text, substitutions))
    except json.JSONDecodeError as error:
        raise AslError(f"state machine definition is not valid JSON: {error}") from error
    states = definition.get("States")
    if not isinstance(states, dict) or definition.get("StartAt") not in states:
        raise AslError("state machine definition needs States and a StartAt naming one of them")
    for name, state in states.items():
        kind = state.get("Type")
        if kind not in SUPPORTED_STATES:
            raise AslError(f"state {name!r} has type {kind!r}; the local interpreter runs {sorted(SUPPORTED_STATES)}")
        unknown = sorted(set(state) - STATE_FIELDS[kind])
        if unknown:
            raise AslError(f"state {name!r} uses fields {unknown} that the local interpreter does not run")
        for target in _targets(state):
            if target not in states:
                raise AslError(f"state {name!r} goes to unknown state {target!r}")
    return definition


def _targets(state: Mapping[str, Any]) -> list[str]:
    targets = [state["Next"]] if "Next" in state else []
    targets += [catcher["Next"] for catcher in state.get("Catch", [])]
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    if "Default" in state:
        targets.append(state["Default"])
    return targets


class StateMachine:
    """An ASL definition bound to in-process task handlers."""

    def __init__(
        self,
        definition: dict[str, Any],
        resources: Mapping[str, TaskHandler],
        *,
        name: str = "local",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.definition = definition
        self.resources = dict(resources)
        self.name = name
        self.sleep = sleep
        unknown = sorted(
            {
                state["Resource"]
                for state in definition["States"].values()
                if state["Type"] == "Task" and state["Resource"] not in self.resources
            }
        )
        if unknown:
            raise AslError(f"no local handler for task resources {unknown}")

    def execute(self, execution_input: Any, execution_name: str, started_at: datetime | None = None) -> ExecutionResult:
        """Run the state machine to its end and return the result; task errors never escape uncaught."""
        started = started_at or datetime.now(UTC)
        context: dict[str, Any] = {
            "Execution": {
                "Id": f"local:execution:{self.name}:{execution_name}",
                "Name": execution_name,
                "StartTime": started.isoformat().replace("+00:00", "Z"),
                "Input": copy.deepcopy(execution_input),
            },
            "StateMachine": {"Id": f"local:stateMachine:{self.name}", "Name": self.name},
            "State": {},
        }
        result = ExecutionResult(status="RUNNING")
        state_name: str = self.definition["StartAt"]
        data = copy.deepcopy(execution_input)
        for _ in range(MAX_TRANSITIONS):
            state = self.definition["States"][state_name]
            result.visited.append(state_name)
            context["State"] = {"Name": state_name, "EnteredTime": datetime.now(UTC).isoformat()}
            try:
                outcome = self._run_state(state, data, context)
            except StatesError as error:
                catcher = _matching_catcher(state.get("Catch", []), error.error)
                if catcher is None:
                    result.status, result.error, result.cause = "FAILED", error.error, error.cause
                    return result
                data = set_path(data, catcher.get("ResultPath", "$"), {"Error": error.error, "Cause": error.cause})
                state_name = catcher["Next"]
                continue
            kind = state["Type"]
            if kind == "Fail":
                result.status, result.error, result.cause = "FAILED", state.get("Error"), state.get("Cause")
                return result
            data, next_name = outcome
            if kind == "Succeed" or next_name is None:
                result.status, result.output = "SUCCEEDED", data
                return result
            state_name = next_name
        raise AslError(f"execution {execution_name} exceeded {MAX_TRANSITIONS} state transitions")

    def _run_state(self, state: dict[str, Any], data: Any, context: dict[str, Any]) -> tuple[Any, str | None]:
        kind = state["Type"]
        if kind == "Fail":
            return data, None
        effective = read_path(data, state.get("InputPath", "$"), context)
        if kind == "Choice":
            next_name = _choose(state, effective, context)
            return read_path(effective, state.get("OutputPath", "$"), context), next_name
        if kind == "Succeed":
            return read_path(effective, state.get("OutputPath", "$"), context), None

        if "Parameters" in state:
            effective = resolve_parameters(state["Parameters"], effective, context)
        if kind == "Pass":
            state_result = copy.deepcopy(state["Result"]) if "Result" in state else effective
        else:
            state_result = self._invoke(state, effective)
            if "ResultSelector" in state:
                state_result = resolve_parameters(state["ResultSelector"], state_result, context)
        if "ResultPath" in state and state["ResultPath"] is None:
            merged = data
        else:
            merged = set_path(data, state.get("ResultPath", "$"), state_result)
        output = read_path(merged, state.get("OutputPath", "$"), context)
        return output, None if state.get("End") else state.get("Next")

    def _invoke(self, state: dict[str, Any], payload: Any) -> Any:
        handler = self.resources[state["Resource"]]
        attempts: dict[int, int] = {}
        while True:
            try:
                return handler(copy.deepcopy(payload))
            except StatesError as error:
                failure = error
            except Exception as error:  # noqa: BLE001 - a task failure of any type becomes an ASL error, as in AWS
                failure = StatesError(type(error).__name__, str(error))
            retrier_index = _matching_retrier(state.get("Retry", []), failure.error)
            if retrier_index is None:
                raise failure
            retrier = state["Retry"][retrier_index]
            count = attempts.get(retrier_index, 0)
            if count >= retrier.get("MaxAttempts", 3):
                raise failure
            delay = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** count
            if "MaxDelaySeconds" in retrier:
                delay = min(delay, float(retrier["MaxDelaySeconds"]))
            attempts[retrier_index] = count + 1
            self.sleep(delay)


def _error_matches(names: list[str], error: str) -> bool:
    if "States.ALL" in names or error in names:
        return True
    return "States.TaskFailed" in names and error != "States.Timeout"


def _matching_retrier(retriers: list[dict[str, Any]], error: str) -> int | None:
    for index, retrier in enumerate(retriers):
        if _error_matches(retrier["ErrorEquals"], error):
            return index
    return None


def _matching_catcher(catchers: list[dict[str, Any]], error: str) -> dict[str, Any] | None:
    for catcher in catchers:
        if _error_matches(catcher["ErrorEquals"], error):
            return catcher
    return None


# -- paths -----------------------------------------------------------------------------------------

_PATH_PART = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\['([^']*)'\]")


def _split_path(path: str) -> list[str | int]:
    if path.startswith("$$"):
        rest = path[2:]
    elif path.startswith("$"):
        rest = path[1:]
    else:
        raise StatesError("States.Runtime", f"invalid path {path!r}: a path starts with $")
    parts: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _PATH_PART.match(rest, position)
        if match is None:
            raise StatesError("States.Runtime", f"path {path!r} is not supported by the local interpreter")
        name, index, quoted = match.groups()
        if index is not None:
            parts.append(int(index))
        elif name is not None:
            parts.append(name)
        else:
            parts.append(quoted)
        position = match.end()
    return parts


def read_path(data: Any, path: str | None, context: Mapping[str, Any] | None = None) -> Any:
    """Return the value at a reference path (``$.a.b``, ``$.list[0]``); ``$$`` reads the context object."""
    if path is None:
        return {}
    source: Any = context if path.startswith("$$") else data
    value = source
    for part in _split_path(path):
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            raise StatesError("States.Runtime", f"path {path!r} does not exist in the state's input") from None
    return value


def set_path(data: Any, path: str, value: Any) -> Any:
    """Return a copy of ``data`` with ``value`` placed at a ResultPath, creating objects on the way."""
    parts = _split_path(path)
    if not parts:
        return copy.deepcopy(value)
    result = copy.deepcopy(data) if isinstance(data, dict) else {}
    target = result
    for part in parts[:-1]:
        if not isinstance(part, str):
            raise StatesError("States.Runtime", f"ResultPath {path!r} may not index into a list")
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    last = parts[-1]
    if not isinstance(last, str):
        raise StatesError("States.Runtime", f"ResultPath {path!r} may not index into a list")
    target[last] = copy.deepcopy(value)
    return result


def resolve_parameters(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """Build a Parameters object: ``key.$`` values are paths or intrinsic functions, the rest is copied."""
    if isinstance(template, dict):
        resolved: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                resolved[key[:-2]] = _evaluate(str(value), data, context)
            else:
                resolved[key] = resolve_parameters(value, data, context)
        return resolved
    if isinstance(template, list):
        return [resolve_parameters(item, data, context) for item in template]
    return copy.deepcopy(template)


def _evaluate(expression: str, data: Any, context: Mapping[str, Any]) -> Any:
    expression = expression.strip()
    if expression.startswith("States."):
        value, end = _IntrinsicParser(expression, data, context).parse_call(0)
        if expression[end:].strip():
            raise StatesError("States.Runtime", f"unexpected text after intrinsic function in {expression!r}")
        return value
    return copy.deepcopy(read_path(data, expression, context))


class _IntrinsicParser:
    """Parser and evaluator of the intrinsic functions the project's definitions use."""

    def __init__(self, text: str, data: Any, context: Mapping[str, Any]) -> None:
        self.text = text
        self.data = data
        self.context = context

    def _skip(self, position: int) -> int:
        while position < len(self.text) and self.text[position].isspace():
            position += 1
        return position

    def parse_call(self, position: int) -> tuple[Any, int]:
        match = re.compile(r"States\.[A-Za-z]+").match(self.text, position)
        if match is None or self.text[match.end() : match.end() + 1] != "(":
            raise StatesError("States.Runtime", f"invalid intrinsic function call in {self.text!r}")
        name = match.group(0)
        position = match.end() + 1
        arguments: list[Any] = []
        position = self._skip(position)
        while self.text[position] != ")":
            value, position = self._parse_argument(position)
            arguments.append(value)
            position = self._skip(position)
            if self.text[position] == ",":
                position = self._skip(position + 1)
        return self._apply(name, arguments), position + 1

    def _parse_argument(self, position: int) -> tuple[Any, int]:
        char = self.text[position]
        if char == "'":
            chars: list[str] = []
            position += 1
            while self.text[position] != "'":
                if self.text[position] == "\\":
                    position += 1
                chars.append(self.text[position])
                position += 1
            return "".join(chars), position + 1
        if self.text.startswith("States.", position):
            return self.parse_call(position)
        match = re.compile(r"[^,)\s]+").match(self.text, position)
        if match is None:
            raise StatesError("States.Runtime", f"invalid argument in {self.text!r}")
        token = match.group(0)
        if token.startswith("$"):
            return read_path(self.data, token, self.context), match.end()
        try:
            return json.loads(token), match.end()
        except json.JSONDecodeError:
            raise StatesError("States.Runtime", f"invalid argument {token!r} in {self.text!r}") from None

    def _apply(self, name: str, arguments: list[Any]) -> Any:
        if name == "States.Format":
            template, *values = arguments
            pieces = str(template).split("{}")
            if len(pieces) - 1 != len(values):
                raise StatesError("States.Runtime", f"States.Format expects {len(pieces) - 1} values")
            text = pieces[0]
            for value, piece in zip(values, pieces[1:], strict=True):
                text += (value if isinstance(value, str) else json.dumps(value)) + piece
            return text
        if name == "States.JsonToString":
            return json.dumps(arguments[0], separators=(",", ":"))
        if name == "States.StringToJson":
            return json.loads(arguments[0])
        raise StatesError("States.Runtime", f"intrinsic function {name} is not supported by the local interpreter")


# -- Choice ----------------------------------------------------------------------------------------

_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": lambda a, b: isinstance(a, str) and a == b,
    "StringLessThan": lambda a, b: isinstance(a, str) and a < b,
    "StringGreaterThan": lambda a, b: isinstance(a, str) and a > b,
    "NumericEquals": lambda a, b: isinstance(a, int | float) and a == b,
    "NumericLessThan": lambda a, b: isinstance(a, int | float) and a < b,
    "NumericGreaterThan": lambda a, b: isinstance(a, int | float) and a > b,
    "NumericGreaterThanEquals": lambda a, b: isinstance(a, int | float) and a >= b,
    "NumericLessThanEquals": lambda a, b: isinstance(a, int | float) and a <= b,
    "BooleanEquals": lambda a, b: isinstance(a, bool) and a == b,
}


def _evaluate_rule(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(_evaluate_rule(item, data, context) for item in rule["And"])
    if "Or" in rule:
        return any(_evaluate_rule(item, data, context) for item in rule["Or"])
    if "Not" in rule:
        return not _evaluate_rule(rule["Not"], data, context)
    variable = rule["Variable"]
    if "IsPresent" in rule:
        try:
            read_path(data, variable, context)
        except StatesError:
            return not rule["IsPresent"]
        return bool(rule["IsPresent"])
    value = read_path(data, variable, context)
    for operator, compare in _COMPARATORS.items():
        if operator in rule:
            return compare(value, rule[operator])
        if f"{operator}Path" in rule:
            return compare(value, read_path(data, rule[f"{operator}Path"], context))
    raise StatesError("States.Runtime", f"Choice rule {dict(rule)} uses an operator the local interpreter lacks")


def _choose(state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> str:
    for rule in state["Choices"]:
        if _evaluate_rule(rule, data, context):
            return str(rule["Next"])
    if "Default" in state:
        return str(state["Default"])
    raise StatesError("States.NoChoiceMatched", "no Choice rule matched and the state has no Default")
