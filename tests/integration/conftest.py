"""Fixtures for tests that drive the AWS adapters and Lambda handlers against moto in-process.

moto intercepts botocore's HTTP layer, so these tests open no sockets. ``_no_sockets`` makes any
attempt to connect to a network address fail loudly instead of reaching AWS.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from genai_finops.lake.aws import AwsLake

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
LAKE_BUCKET = "finops-lake-test"
RESULTS_BUCKET = "finops-athena-results-test"
EXPORT_BUCKET = "billing-exports-test"
LOG_BUCKET = "bedrock-logs-test"
CONFIG_BUCKET = "finops-config-test"
DATABASE = "genai_finops_test"
WORKGROUP = "genai-finops-test"


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reject every network connection: moto answers in-process, so none is needed."""
    original_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX:
            original_connect(self, address)
            return
        raise RuntimeError(f"integration tests must not open network connections (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """Start moto for every AWS service, create the stack's buckets, database and workgroup."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        s3 = session.client("s3")
        for bucket in (LAKE_BUCKET, RESULTS_BUCKET, EXPORT_BUCKET, LOG_BUCKET, CONFIG_BUCKET):
            s3.create_bucket(Bucket=bucket)
        session.client("glue").create_database(DatabaseInput={"Name": DATABASE})
        session.client("athena").create_work_group(
            Name=WORKGROUP,
            Configuration={
                "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS_BUCKET}/athena/"},
                "EnforceWorkGroupConfiguration": True,
                "BytesScannedCutoffPerQuery": 10_000_000_000,
            },
        )
        yield session


@pytest.fixture
def aws_lake(aws: boto3.Session, tmp_path: Path) -> AwsLake:
    """An AwsLake over the moto buckets, with scratch space in a temporary folder."""
    return AwsLake(LAKE_BUCKET, DATABASE, WORKGROUP, session=aws, scratch_dir=tmp_path / "scratch")
