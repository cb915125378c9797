"""The Secrets Manager user-key provider, against moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from genai_finops.errors import ConfigError
from genai_finops.invocations.aws import SecretsManagerUserKey


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_secret_string_is_the_key(secrets: Any) -> None:
    value = "k" * 48
    arn = secrets.create_secret(Name="genai-finops/user-key", SecretString=value)["ARN"]
    provider = SecretsManagerUserKey(arn, client=secrets)
    assert provider.key() == value.encode()
    assert provider.key() == value.encode()


def test_missing_secret_names_it(secrets: Any) -> None:
    provider = SecretsManagerUserKey("genai-finops/absent", client=secrets)
    with pytest.raises(ConfigError, match=r"genai-finops/absent \(ResourceNotFoundException\)"):
        provider.key()


def test_short_secret_rejected(secrets: Any) -> None:
    secrets.create_secret(Name="short", SecretString="abc")
    with pytest.raises(ConfigError, match="is 3 bytes long, expected at least 32"):
        SecretsManagerUserKey("short", client=secrets).key()


def test_client_created_lazily(secrets: Any) -> None:
    secrets.create_secret(Name="lazy", SecretString="z" * 40)
    provider = SecretsManagerUserKey("lazy", region="us-east-1")
    assert provider._client is None
    assert provider.key() == b"z" * 40
