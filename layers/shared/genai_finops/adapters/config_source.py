"""Read the governance configuration from S3 (its location is a stack parameter)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ..config import GovernanceConfig, parse_config_text
from ..errors import ConfigError
from ..lake.aws import split_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def load_config_from_s3(s3: S3Client, uri: str | None) -> GovernanceConfig:
    """Load and validate the configuration at ``s3://bucket/key``; an empty URI gives the defaults."""
    if not uri:
        return GovernanceConfig()
    bucket, key = split_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as error:
        raise ConfigError(f"cannot read governance configuration {uri}: {error}") from error
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"governance configuration {uri} is not UTF-8 text: {error}") from error
    return parse_config_text(text, uri)
