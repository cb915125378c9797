"""Storage and SQL adapters. ``open_lake`` is the one place where the runtime is chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Lake

if TYPE_CHECKING:
    from ..settings import Settings


def open_lake(settings: Settings) -> Lake:
    """Return the lake for the configured runtime: a local folder with DuckDB, or S3 with Glue and Athena."""
    if settings.runtime == "aws":
        from .aws import AwsLake

        return AwsLake.from_settings(settings)
    from .local import LocalLake

    return LocalLake(settings.lake_dir)


__all__ = ["Lake", "open_lake"]
