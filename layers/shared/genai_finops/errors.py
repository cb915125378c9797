"""Domain errors. Adapters wrap SDK and file errors in these with ``raise ... from``."""

from __future__ import annotations


class FinOpsError(Exception):
    """Base class for every error the pipeline raises on purpose."""


class ConfigError(FinOpsError):
    """The governance configuration or the runtime settings are invalid."""


class InputError(FinOpsError):
    """An input file or event is invalid. The message names the file, line or key and the fix."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        location = source or ""
        if line is not None:
            location = f"{location}:{line}" if location else f"line {line}"
        super().__init__(f"{location}: {message}" if location else message)
        self.source = source
        self.line = line


class ReconciliationError(FinOpsError):
    """Totals that must agree to the cent do not agree."""


class LakeError(FinOpsError):
    """Reading or writing the lake (local folder or S3, Glue and Athena) failed."""


class TableNotFoundError(LakeError):
    """A query or read named a table that is not registered in the lake."""
