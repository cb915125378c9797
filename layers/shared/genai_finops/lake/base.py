"""The lake port: what domain code may ask of storage and SQL, whatever the runtime."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import pyarrow as pa


def key_segment(value: str) -> str:
    """Encode a value (a team name from tags, say) as one segment of a document key.

    '/' and characters outside printable ASCII are percent-encoded, so a value can neither add folders nor
    leave its prefix; '.' and '..' are encoded too. Ordinary names stay readable.
    """
    if value in {"", ".", ".."}:
        return value.replace(".", "%2E") or "%00"
    return quote(value, safe=" =+@,;:-_.()'!*~")


class Lake(Protocol):
    """Tables of Parquet partitions plus a small document store.

    Two implementations exist: ``LocalLake`` (a folder and DuckDB) and ``AwsLake`` (S3, the Glue Data
    Catalog and Athena). SQL passed to ``query`` is in the Athena (Trino) dialect with ``?`` parameters.
    """

    def staging_dir(self) -> Path:
        """Return a fresh local scratch folder for Parquet files that are about to be published."""
        ...

    def publish_partition(self, table: str, partition: Mapping[str, str], files: Sequence[Path]) -> None:
        """Replace one partition's data with the given local Parquet files, atomically.

        Readers see either the old files or the new ones, never an empty or doubled partition.
        ``partition`` maps every partition key of the table to its value; an unpartitioned table takes
        an empty mapping and the whole table is replaced. An empty ``files`` list publishes an empty
        partition (the partition exists with no rows).
        """
        ...

    def write_partition(self, table: str, partition: Mapping[str, str], data: pa.Table) -> None:
        """Write an Arrow table as the new content of one partition (see ``publish_partition``)."""
        ...

    def drop_partition(self, table: str, partition: Mapping[str, str]) -> bool:
        """Remove a partition; return False when it did not exist."""
        ...

    def partitions(self, table: str) -> list[dict[str, str]]:
        """List the partitions of a table as key-to-value mappings."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run a Trino-dialect query over the lake's tables and return the result."""
        ...

    def put_document(self, key: str, body: bytes) -> None:
        """Store a small object (report, outbox message, marker) under a slash-separated key."""
        ...

    def get_document(self, key: str) -> bytes | None:
        """Return a stored document, or None when the key does not exist."""
        ...

    def list_documents(self, prefix: str) -> list[str]:
        """List document keys that start with ``prefix``, sorted."""
        ...
