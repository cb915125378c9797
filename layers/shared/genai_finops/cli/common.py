"""Options and helpers shared by every command."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..config import GovernanceConfig, load_config
from ..lake.local import LocalLake

DEFAULT_LAKE = ".finops"


@dataclass
class Context:
    """Command context: the lake folder and the governance configuration file every command receives."""

    lake_dir: Path
    config_file: Path | None
    quiet: bool = False

    @cached_property
    def lake(self) -> LocalLake:
        return LocalLake(self.lake_dir)

    @cached_property
    def config(self) -> GovernanceConfig:
        return load_config(self.config_file)

    def progress(self, message: str) -> None:
        """Print a progress line on stderr unless --quiet was given."""
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add --lake, --config and --quiet to a parser."""
    parser.add_argument(
        "--lake",
        type=Path,
        default=Path(os.environ.get("GENAI_FINOPS_LAKE", DEFAULT_LAKE)),
        help="lake folder (default: $GENAI_FINOPS_LAKE or ./.finops)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="governance configuration YAML (default: built-in defaults)",
    )
    parser.add_argument("--quiet", action="store_true", help="print no progress lines on stderr")


def context_from_args(args: argparse.Namespace) -> Context:
    """Build the command context from parsed arguments."""
    return Context(lake_dir=args.lake, config_file=args.config, quiet=args.quiet)
