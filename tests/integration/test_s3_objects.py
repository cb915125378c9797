from __future__ import annotations

from pathlib import Path

import boto3

from genai_finops.adapters.s3_objects import download_object

from .conftest import EXPORT_BUCKET


def test_download_keeps_key_layout_and_last_modified(aws: boto3.Session, tmp_path: Path) -> None:
    s3 = aws.client("s3")
    key = "cur2/genai-cur2/metadata/BILLING_PERIOD=2026-10/genai-cur2-Manifest.json"
    s3.put_object(Bucket=EXPORT_BUCKET, Key=key, Body=b"{}")
    last_modified = s3.head_object(Bucket=EXPORT_BUCKET, Key=key)["LastModified"]

    downloaded = download_object(s3, EXPORT_BUCKET, key, tmp_path)

    assert downloaded.path == tmp_path.joinpath(*key.split("/"))
    assert downloaded.path.read_bytes() == b"{}"
    # Delivery discovery orders deliveries by file time, so it must be the object's, not the download's.
    assert downloaded.path.stat().st_mtime == last_modified.timestamp()
