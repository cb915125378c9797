"""AWS adapters for invocation logs: the user-key secret and the Bedrock profile inventory.

Clients are created on first use, never at import, so tests can pass in moto or stubbed clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError, FinOpsError
from .profiles import PROFILE_TYPE_APPLICATION, ProfileRecord, record_from_bedrock, tags_from_bedrock

MIN_SECRET_BYTES = 32


class InventoryError(FinOpsError):
    """Reading the inference profile inventory from Bedrock failed."""


class SecretsManagerUserKey:
    """The HMAC key for ``user_key``: the SecretString (or SecretBinary) of a Secrets Manager secret."""

    def __init__(self, secret_id: str, client: Any | None = None, region: str | None = None) -> None:
        self.secret_id = secret_id
        self.region = region
        self._client = client
        self._key: bytes | None = None

    def _secrets_client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("secretsmanager", region_name=self.region)
        return self._client

    def key(self) -> bytes:
        if self._key is None:
            self._key = self._fetch()
        return self._key

    def _fetch(self) -> bytes:
        try:
            response = self._secrets_client().get_secret_value(SecretId=self.secret_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown")
            raise ConfigError(
                f"cannot read the user-key secret {self.secret_id} ({code}); check the secret ARN in "
                "GENAI_FINOPS_USER_KEY_SECRET_ARN and that the function may call secretsmanager:GetSecretValue"
            ) from error
        except BotoCoreError as error:
            raise ConfigError(f"cannot read the user-key secret {self.secret_id}: {type(error).__name__}") from error
        if response.get("SecretString") is not None:
            key = str(response["SecretString"]).encode("utf-8")
        else:
            key = bytes(response.get("SecretBinary") or b"")
        if len(key) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"the user-key secret {self.secret_id} is {len(key)} bytes long, expected at least {MIN_SECRET_BYTES}; "
                "store a long random value (for example from secretsmanager get-random-password)"
            )
        return key


class BedrockProfileSource:
    """Application inference profiles from Bedrock: ListInferenceProfiles, GetInferenceProfile, ListTagsForResource.

    Give one client per region to read, or region names to create clients for.
    """

    name = "bedrock"

    def __init__(self, clients: Sequence[Any] = (), regions: Sequence[str] = ()) -> None:
        if not clients and not regions:
            raise ConfigError("BedrockProfileSource needs at least one client or region")
        self._clients = list(clients)
        self._regions = list(regions)

    def _bedrock_clients(self) -> list[Any]:
        if not self._clients:
            import boto3

            self._clients = [boto3.client("bedrock", region_name=region) for region in self._regions]
        return self._clients

    def profiles(self) -> list[ProfileRecord]:
        records: list[ProfileRecord] = []
        for client in self._bedrock_clients():
            records.extend(self._profiles_of(client))
        return records

    def _profiles_of(self, client: Any) -> list[ProfileRecord]:
        records = []
        try:
            paginator = client.get_paginator("list_inference_profiles")
            for page in paginator.paginate(typeEquals=PROFILE_TYPE_APPLICATION):
                for summary in page.get("inferenceProfileSummaries", []):
                    arn = summary["inferenceProfileArn"]
                    profile = client.get_inference_profile(inferenceProfileIdentifier=arn)
                    tags = client.list_tags_for_resource(resourceARN=arn).get("tags", [])
                    records.append(record_from_bedrock(profile, tags_from_bedrock(tags)))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown")
            operation = getattr(error, "operation_name", "a Bedrock call")
            raise InventoryError(
                f"reading inference profiles failed in {operation} ({code}); the function needs "
                "bedrock:ListInferenceProfiles, bedrock:GetInferenceProfile and bedrock:ListTagsForResource"
            ) from error
        except BotoCoreError as error:
            raise InventoryError(f"reading inference profiles failed: {type(error).__name__}") from error
        return records
