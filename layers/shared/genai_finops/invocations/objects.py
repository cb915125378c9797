"""Finding Bedrock invocation log objects and telling them apart from side objects.

Bedrock writes log objects as gzip NDJSON under
``AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<timestamp>_<hex>.json.gz``.
Large bodies and media go to side objects under ``.../HH/data/`` (``<requestId>_input.json.gz``,
``_output.json.gz``, ``_input_media_NN.pdf``), and a zero-byte ``amazon-bedrock-logs-permission-check``
object is written when logging is set up. Side objects and the marker are never parsed as logs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

PERMISSION_CHECK_NAME = "amazon-bedrock-logs-permission-check"

SKIP_SIDE_OBJECT = "side_object"
SKIP_PERMISSION_CHECK = "permission_check"
SKIP_NOT_A_LOG = "not_a_log_object"

_LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_SIDECAR_NAME = re.compile(r"_(input|output)(\.json(\.gz)?|_media_\d+(\.[A-Za-z0-9]+)?)$")
_BUCKET_LAYOUT = re.compile(
    r"(?:^|/)AWSLogs/(?P<account>\d{12})/BedrockModelInvocationLogs/(?P<region>[a-z0-9-]+)/"
    r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/(?P<hour>\d{2})/(?P<rest>.+)$"
)


@dataclass(frozen=True)
class LogObject:
    """One invocation log object: its S3 key (or local path), its ETag (or content hash) and a local copy."""

    key: str
    etag: str
    path: Path

    @property
    def account_id(self) -> str | None:
        """The account id from a bucket-style key, or None for other paths."""
        match = _BUCKET_LAYOUT.search(self.key)
        return match.group("account") if match else None

    @property
    def region(self) -> str | None:
        """The region from a bucket-style key, or None for other paths."""
        match = _BUCKET_LAYOUT.search(self.key)
        return match.group("region") if match else None


@dataclass(frozen=True)
class SkippedObject:
    """An object that was found but is not a log object, with the reason it was skipped."""

    key: str
    reason: str


def classify_key(key: str) -> str | None:
    """Return why an object key is not a log object (a ``SKIP_*`` reason), or None for a log object."""
    name = key.rsplit("/", 1)[-1]
    if name == PERMISSION_CHECK_NAME:
        return SKIP_PERMISSION_CHECK
    layout = _BUCKET_LAYOUT.search(key)
    if layout and "/" in layout.group("rest"):
        # Anything below the hour folder (the ``data/`` folder) contains bodies and media, not records.
        return SKIP_SIDE_OBJECT
    if _SIDECAR_NAME.search(name):
        return SKIP_SIDE_OBJECT
    if not name.lower().endswith(_LOG_SUFFIXES):
        return SKIP_NOT_A_LOG
    return None


def is_log_object_key(key: str) -> bool:
    """Return True when an S3 key or file path names an invocation log object worth downloading."""
    return classify_key(key) is None


def file_etag(path: Path) -> str:
    """Return the SHA-256 of a file's content, the local stand-in for an S3 ETag."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover_log_objects(paths: Iterable[Path | str]) -> tuple[list[LogObject], list[SkippedObject]]:
    """Find log objects in files and folders (searched recursively), in sorted key order.

    Side objects, the permission-check marker and files that are not JSON logs are returned as
    skipped objects with their reason. A path that does not exist raises ``InputError``.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(child for child in path.rglob("*") if child.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError("path not found; give a log file or a folder of log files", source=str(path))

    objects: list[LogObject] = []
    skipped: list[SkippedObject] = []
    seen: set[str] = set()
    for file in files:
        key = file.resolve().as_posix()
        if key in seen:
            continue
        seen.add(key)
        reason = classify_key(key)
        if reason is not None:
            skipped.append(SkippedObject(key=key, reason=reason))
            continue
        objects.append(LogObject(key=key, etag=file_etag(file), path=file))
    objects.sort(key=lambda item: item.key)
    return objects, skipped
