"""Options and helpers shared by every command."""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from ..config import GovernanceConfig, load_config
from ..errors import LakeError
from ..lake.local import LocalLake

DEFAULT_LAKE = ".finops"

# The requirement a command places on its --lake folder. Ingest commands create a missing folder, commands
# that read the lake reject a missing one, and commands that never open the lake ignore it.
LakeRequirement = Literal["must_exist", "may_create", "unused"]

# DuckDB's size units: decimal KB to TB and binary KiB to TiB, case-insensitive, as SET memory_limit reads them.
_MEMORY_UNITS = {"kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_MEMORY_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_MEMORY_LIMIT = re.compile(r"(\d+(?:\.\d+)?) ?([kmgt]i?b)", re.IGNORECASE)
# NOTE: measured with DuckDB 2.0.1 and 2 threads: ingest-logs failed at 128MB and worked at 140MB on one
# log object, and 256MB ingested the demo's 10,715 objects. The log parser buffers lines of up to 64 MiB,
# so machines with more threads may need more than this minimum.
MIN_MEMORY_LIMIT_MB = 256


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


def lake_folder(text: str) -> Path:
    """Parse --lake for argparse: reject a path that is a file or lies under a file."""
    path = Path(text)
    existing = next((folder for folder in (path, *path.parents) if folder.exists()), None)
    if existing is not None and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"invalid lake path '{text}': {existing} is a file, not a folder")
    return path


def memory_limit(text: str) -> str:
    """Parse a DuckDB memory limit such as 512MB or 4GB for argparse, and reject values below the minimum."""
    match = _MEMORY_LIMIT.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"invalid memory limit '{text}': expected a number and a unit, for example 512MB or 4GB "
            "(units: KB, MB, GB, TB, or KiB, MiB, GiB, TiB)"
        )
    size = float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()]
    if size < MIN_MEMORY_LIMIT_MB * _MEMORY_UNITS["mb"]:
        raise argparse.ArgumentTypeError(
            f"memory limit '{text}' is too small: DuckDB needs at least {MIN_MEMORY_LIMIT_MB}MB to parse the logs"
        )
    return f"{match.group(1)}{match.group(2)}"


def check_lake(lake_dir: Path, requirement: LakeRequirement) -> None:
    """Raise LakeError when a command that reads the lake is given a folder that does not exist."""
    if requirement == "must_exist" and not lake_dir.is_dir():
        raise LakeError(
            f"lake not found: {lake_dir} does not exist. Create it with ingest-cur or ingest-logs first, "
            "or pass --lake (or set GENAI_FINOPS_LAKE) to an existing lake folder"
        )


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add --lake, --config and --quiet to a parser.

    The lake folder must exist unless the command sets ``lake_requirement`` to another LakeRequirement.
    """
    parser.add_argument(
        "--lake",
        type=lake_folder,
        # A string default goes through lake_folder too, so a file in $GENAI_FINOPS_LAKE is rejected.
        default=os.environ.get("GENAI_FINOPS_LAKE", DEFAULT_LAKE),
        help="lake folder (default: $GENAI_FINOPS_LAKE or ./.finops)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="governance configuration YAML (default: built-in defaults)",
    )
    parser.add_argument("--quiet", action="store_true", help="print no progress lines on stderr")
    parser.set_defaults(lake_requirement="must_exist")


def context_from_args(args: argparse.Namespace) -> Context:
    """Build the command context from parsed arguments."""
    return Context(lake_dir=args.lake, config_file=args.config, quiet=args.quiet)
