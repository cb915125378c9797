"""Fixtures for tests that drive the AWS adapters and Lambda handlers against moto in-process.

moto intercepts botocore's HTTP layer, so these tests open no sockets. ``_no_sockets`` makes any
attempt to connect to a network address fail loudly instead of reaching AWS.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from genai_finops.handlers.runtime import reset_runtime
from genai_finops.lake import aws as lake_aws
from genai_finops.lake.aws import AwsLake

from .fakes import GlueDuckDbEngine

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
LAKE_BUCKET = "finops-lake-test"
RESULTS_BUCKET = "finops-athena-results-test"
EXPORT_BUCKET = "example-billing-exports"
LOG_BUCKET = "example-bedrock-logs"
CONFIG_BUCKET = "finops-config-test"
DATABASE = "genai_finops_test"
WORKGROUP = "genai-finops-test"


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reject every network connection, because moto serves every AWS call in-process."""
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


@dataclass
class FakeLambdaContext:
    """The attributes of a Lambda context object that Powertools reads."""

    function_name: str = "genai-finops-test"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:genai-finops-test"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"


CONFIG_KEY = "governance/genai-finops.yaml"
CONFIG_TEXT = """\
version: 1
currency: USD
invocations:
  user_id_metadata_key: user_id
"""


@pytest.fixture
def handler_env(aws: boto3.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GlueDuckDbEngine]:
    """Set the environment the template gives the functions, with Athena replaced by DuckDB over Glue.

    Yields the query engine so that tests can read the lake the way Athena would.
    """
    aws.client("s3").put_object(Bucket=CONFIG_BUCKET, Key=CONFIG_KEY, Body=CONFIG_TEXT.encode())
    secret = aws.client("secretsmanager").create_secret(Name="genai-finops-user-key", SecretString="k" * 64)
    scratch = tmp_path / "lambda-tmp"
    scratch.mkdir()
    environment = {
        "GENAI_FINOPS_RUNTIME": "aws",
        "GENAI_FINOPS_LAKE_BUCKET": LAKE_BUCKET,
        "GENAI_FINOPS_GLUE_DATABASE": DATABASE,
        "GENAI_FINOPS_ATHENA_WORKGROUP": WORKGROUP,
        "GENAI_FINOPS_ATHENA_UNLOAD_URI": f"s3://{RESULTS_BUCKET}/unload/",
        "GENAI_FINOPS_CONFIG_S3_URI": f"s3://{CONFIG_BUCKET}/{CONFIG_KEY}",
        "GENAI_FINOPS_USER_KEY_SECRET_ARN": secret["ARN"],
        "GENAI_FINOPS_SCRATCH_DIR": str(scratch),
        "POWERTOOLS_METRICS_NAMESPACE": "GenAIFinOpsTest",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    engine = GlueDuckDbEngine(aws, DATABASE)
    monkeypatch.setattr(lake_aws, "AthenaQueryEngine", lambda *args, **kwargs: engine)
    reset_runtime()
    yield engine
    reset_runtime()
