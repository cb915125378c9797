"""``genai-finops run-month``, ``budgets`` and ``subscribe``: the governance workflow from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, FinOpsError, InputError
from ..governance.asl import ExecutionResult
from ..governance.enforcement import IamEnforcer
from ..governance.local_run import DEFAULT_DEFINITION, build_state_machine, run_month
from ..governance.periods import parse_period
from ..governance.routing import Router, SnsPublisher, subscribe
from ..governance.steps import GovernanceRuntime, attribute_with_package, daily_budgets
from .common import Context


def _period(value: str) -> str:
    try:
        parse_period(value)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {value!r}: expected YYYY-MM-DD") from None


def register(subparsers: Any, add_common_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``run-month``, ``budgets`` and ``subscribe`` commands."""
    run_parser = subparsers.add_parser(
        "run-month",
        help="run the monthly governance workflow for one billing period",
        description="Execute statemachines/monthly.asl.json locally for one billing period: refresh attribution, "
        "forecast, showback and chargeback, budgets, statements and messages (written to the outbox under "
        "the lake's documents/outbox/team=<team>/), and record the run in governance_runs. A re-run replaces "
        "the period's tables and sends no message twice.",
    )
    run_parser.add_argument("billing_period", type=_period, metavar="YYYY-MM", help="billing period to govern")
    run_parser.add_argument(
        "--no-refresh",
        action="store_true",
        help="use the attribution tables as they are instead of attributing the period again",
    )
    run_parser.add_argument(
        "--definition", type=Path, default=None, help=f"ASL file to execute (default: {DEFAULT_DEFINITION})"
    )
    _add_delivery_options(run_parser)
    add_common_options(run_parser)
    run_parser.set_defaults(handler=run)

    budget_parser = subparsers.add_parser(
        "budgets",
        help="check budgets and environment caps for one day",
        description="Evaluate every configured budget and environment cap for the month containing --date "
        "(spend up to and including that day, and the projected month-end spend), send the alerts once each, "
        "and lift deny policies of earlier months.",
    )
    budget_parser.add_argument(
        "--date", type=_day, default=None, help="evaluation day, YYYY-MM-DD (default: today, UTC)"
    )
    _add_delivery_options(budget_parser)
    add_common_options(budget_parser)
    budget_parser.set_defaults(handler=run_budgets)

    subscribe_parser = subparsers.add_parser(
        "subscribe",
        help="subscribe an email address, SQS queue or Lambda function to one team's alerts",
        description="Create an SNS subscription on the alerts topic with a filter policy on the message "
        "attribute 'team', so the endpoint receives that team's messages only. Uses the AWS credentials of "
        "the environment.",
    )
    subscribe_parser.add_argument("--team", required=True, help="team whose messages the endpoint receives")
    endpoint = subscribe_parser.add_mutually_exclusive_group(required=True)
    endpoint.add_argument("--email", help="email address (the recipient must confirm the subscription)")
    endpoint.add_argument("--sqs", metavar="QUEUE_ARN", help="SQS queue ARN (its policy must allow the topic)")
    endpoint.add_argument("--lambda", dest="lambda_arn", metavar="FUNCTION_ARN", help="Lambda function ARN")
    subscribe_parser.add_argument(
        "--kind", action="append", default=[], help="only this message kind (repeatable; default: every kind)"
    )
    subscribe_parser.add_argument(
        "--topic-arn",
        default=os.environ.get("GENAI_FINOPS_ALERTS_TOPIC_ARN"),
        help="alerts topic ARN (default: $GENAI_FINOPS_ALERTS_TOPIC_ARN)",
    )
    subscribe_parser.add_argument("--region", default=None, help="AWS region of the topic (default: from the ARN)")
    add_common_options(subscribe_parser)
    subscribe_parser.set_defaults(handler=run_subscribe, lake_requirement="unused")


def _add_delivery_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--topic-arn",
        default=None,
        help="also publish messages to this SNS topic with the AWS credentials of the environment "
        "(default: outbox only)",
    )
    parser.add_argument(
        "--apply-enforcement",
        action="store_true",
        help="attach deny policies to IAM roles for caps with enforce: true (default: record a dry run)",
    )


def _runtime(context: Context, args: argparse.Namespace) -> GovernanceRuntime:
    session = None
    if args.topic_arn or args.apply_enforcement:
        import boto3

        session = boto3.Session()
    publisher = SnsPublisher(session) if session is not None and args.topic_arn else None
    router = Router(context.lake, context.config, publisher=publisher, default_topic_arn=args.topic_arn)
    enforcer = IamEnforcer(session) if session is not None and args.apply_enforcement else None
    return GovernanceRuntime(
        lake=context.lake, config=context.config, router=router, enforcer=enforcer, attribute=attribute_with_package
    )


def run(context: Context, args: argparse.Namespace) -> int:
    """Execute the state machine and print the execution's status and each step's summary."""
    runtime = _runtime(context, args)
    context.progress(f"run-month: billing period {args.billing_period}")
    # The same execution name run_month would choose, kept here to find the run's governance_runs row.
    run_id = f"{args.billing_period}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    result = run_month(
        runtime,
        args.billing_period,
        refresh_attribution=not args.no_refresh,
        definition_path=args.definition,
        run_id=run_id,
    )
    context.progress(f"run-month: states {' -> '.join(result.visited)}")
    if result.status != "SUCCEEDED":
        print(f"{args.billing_period}: {result.status}: {result.error}: {result.cause}")
        print(f"genai-finops run-month: error: {_failure_reason(runtime, args, result, run_id)}", file=sys.stderr)
        return 1
    for name, summary in result.output.get("steps", {}).items():
        print(f"{name}: {json.dumps(summary, sort_keys=True, default=str)}")
    return 0


def _failure_reason(runtime: GovernanceRuntime, args: argparse.Namespace, result: ExecutionResult, run_id: str) -> str:
    """Describe a failed run: the step that failed and its error, from the run's governance_runs row.

    The Fail state ends the execution with a generic error, so the step's own error is read back from the
    row that the state machine's failure path (NotifyFailure) wrote. When that path failed too, there is no
    row and the execution's error is given instead.
    """
    states = build_state_machine(runtime, args.definition).definition["States"]
    failed_state = _caught_state(states, result.visited)
    step = f"step {failed_state}" if failed_state else "a step"
    try:
        rows = runtime.lake.query(
            "SELECT error, error_cause FROM governance_runs WHERE billing_period = ? AND run_id = ?",
            [args.billing_period, run_id],
        ).to_pylist()
    except FinOpsError as error:
        # A lake that cannot be read (a corrupt table file, say) may be what failed the run.
        return (
            f"monthly run {run_id} failed in {step}: {result.error}: {result.cause}; "
            f"reading governance_runs failed too: {error}"
        )
    if not rows:
        return (
            f"monthly run {run_id} failed in {step}, and recording the failure failed too: "
            f"{result.error}: {result.cause}"
        )
    return (
        f"monthly run {run_id} failed in {step}: {rows[0]['error']}: {rows[0]['error_cause']}. "
        "The failure is recorded in governance_runs, and a run_failed message went to the FinOps owner."
    )


def _caught_state(states: dict[str, Any], visited: list[str]) -> str | None:
    """Return the first visited state whose Catch sent the execution to the next visited state."""
    for current, following in pairwise(visited):
        state = states.get(current, {})
        catch_targets = {catcher.get("Next") for catcher in state.get("Catch", [])}
        if following in catch_targets and following != state.get("Next"):
            return current
    return None


def run_budgets(context: Context, args: argparse.Namespace) -> int:
    """Check budgets for one day and print the summary."""
    runtime = _runtime(context, args)
    event = {"date": args.date.isoformat()} if args.date else {}
    summary = daily_budgets(event, runtime)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def run_subscribe(context: Context, args: argparse.Namespace) -> int:
    """Create the filtered subscription and print its ARN."""
    if not args.topic_arn:
        raise ConfigError("no alerts topic: pass --topic-arn or set GENAI_FINOPS_ALERTS_TOPIC_ARN")
    import boto3

    region = args.region or args.topic_arn.split(":")[3]
    session = boto3.Session(region_name=region)
    protocol: Literal["email", "sqs", "lambda"]
    if args.email:
        protocol, endpoint = "email", args.email
    elif args.sqs:
        protocol, endpoint = "sqs", args.sqs
    else:
        protocol, endpoint = "lambda", args.lambda_arn
    arn = subscribe(session, args.topic_arn, args.team, protocol, endpoint, args.kind)
    print(arn)
    return 0
