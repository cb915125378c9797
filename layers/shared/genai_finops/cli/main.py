"""Entry point of ``genai-finops``: builds the parser from the command modules and maps errors once."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..errors import FinOpsError
from ..observability import logger
from .common import add_common_options, check_lake, context_from_args

# Each module defines ``register(subparsers)`` which adds its commands and sets ``handler``.
COMMAND_MODULES = ("query", "demo", "ingest_cur", "ingest_logs", "attribute", "governance", "detect")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="genai-finops",
        description="GenAI FinOps pipeline: ingest AWS bills and Bedrock logs, attribute and govern spend.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        module.register(subparsers, add_common_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status (0 on success)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    context = context_from_args(args)
    # Commands print their own progress and warnings; structured logs only for errors unless asked for. The level is
    # restored afterwards because main() also runs in-process (the demo, tests).
    previous_level = logger.log_level
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "ERROR"))
    try:
        check_lake(args.lake, args.lake_requirement)
        result: int = args.handler(context, args)
    except FinOpsError as error:
        print(f"genai-finops {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"genai-finops {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout stopped early (as with `| head`); point stdout at /dev/null so that the
        # interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        logger.setLevel(previous_level)
    return result


if __name__ == "__main__":
    sys.exit(main())
