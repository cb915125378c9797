"""Download billing-export deliveries and log objects from S3 into a local folder that mirrors the keys.

The domain code reads local files, so a handler first copies what one event names into scratch
space under ``<root>/<key>``. Keeping the key layout lets delivery discovery find the export name,
billing period and the files a manifest names, exactly as it does in a local bucket-style tree.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import InputError, LakeError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class DownloadedObject:
    """A local copy of one S3 object, with the ETag of the version that was read (without quotes)."""

    bucket: str
    key: str
    etag: str
    path: Path


def local_path(root: Path, key: str) -> Path:
    """Return where an object key is stored below ``root``; reject keys that would leave it."""
    parts = key.split("/")
    if any(part in {"", ".", ".."} for part in parts):
        raise InputError("object key cannot be mirrored to a local path", source=key)
    return root.joinpath(*parts)


def download_object(s3: S3Client, bucket: str, key: str, root: Path) -> DownloadedObject:
    """Copy one object to ``root/<key>`` and return it with the ETag S3 served for it.

    S3 event notifications URL-encode object keys; AWS's published EventBridge examples show keys as
    stored. NOTE: which form EventBridge sends for keys with spaces or '+' is not verified here, so a
    key that is not found is tried once more URL-decoded, and the result names the key that was read.
    """
    try:
        return _download(s3, bucket, key, root)
    except InputError:
        decoded = unquote_plus(key)
        if decoded == key:
            raise
        return _download(s3, bucket, decoded, root)


def _download(s3: S3Client, bucket: str, key: str, root: Path) -> DownloadedObject:
    target = local_path(root, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        with open(target, "wb") as handle:
            for chunk in response["Body"].iter_chunks(chunk_size=1 << 20):
                handle.write(chunk)
    except s3.exceptions.NoSuchKey as error:
        raise InputError(
            "object not found; it was deleted after the event was sent", source=f"s3://{bucket}/{key}"
        ) from error
    except (ClientError, BotoCoreError, OSError) as error:
        raise LakeError(f"downloading s3://{bucket}/{key} failed: {error}") from error
    # The local file time takes the value of S3 LastModified, because delivery discovery orders deliveries
    # of the same period by it. A late event for an older delivery then cannot replace a newer one.
    last_modified = response.get("LastModified")
    if last_modified is not None:
        os.utime(target, (last_modified.timestamp(), last_modified.timestamp()))
    return DownloadedObject(bucket=bucket, key=key, etag=response.get("ETag", "").strip('"'), path=target)


def manifest_data_keys(manifest: Path, manifest_bucket: str) -> list[str]:
    """Return the object keys of the data files a billing-export manifest names.

    CUR 2.0 and FOCUS manifests list ``dataFiles`` as ``s3://bucket/key`` URIs; legacy CUR manifests
    list ``reportKeys`` relative to their ``bucket``. A file in another bucket than the manifest's
    is rejected, because the function may read only the export bucket.
    """
    source = f"s3://{manifest_bucket}/{manifest.name}"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable manifest: {error}", source=source) from error
    if not isinstance(data, dict):
        raise InputError("manifest is not a JSON object", source=source)

    keys: list[str] = []
    for uri in data.get("dataFiles") or []:
        text = str(uri)
        bucket, _, key = text.removeprefix("s3://").partition("/")
        if not text.startswith("s3://") or bucket != manifest_bucket or not key:
            raise InputError(f"data file {text} is not an object of bucket {manifest_bucket}", source=source)
        keys.append(key)
    report_bucket = str(data.get("bucket") or manifest_bucket)
    for key in data.get("reportKeys") or []:
        if report_bucket != manifest_bucket:
            raise InputError(
                f"report bucket {report_bucket} is not the manifest's bucket {manifest_bucket}", source=source
            )
        keys.append(str(key).lstrip("/"))
    if not keys:
        raise InputError("manifest lists no data files (expected 'dataFiles' or 'reportKeys')", source=source)
    return list(dict.fromkeys(keys))


def download_delivery(s3: S3Client, bucket: str, manifest_key: str, root: Path) -> Path:
    """Copy a manifest and every data file it names below ``root``; return the local manifest path."""
    manifest = download_object(s3, bucket, manifest_key, root)
    for key in manifest_data_keys(manifest.path, bucket):
        download_object(s3, bucket, key, root)
    return manifest.path
