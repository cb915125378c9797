"""The objects a Lambda container builds once per cold start: settings, boto3 session, lake and configuration."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from ..adapters.config_source import load_config_from_s3
from ..config import GovernanceConfig
from ..errors import ConfigError
from ..invocations.aws import SecretsManagerUserKey
from ..lake.aws import AwsLake
from ..observability import logger
from ..settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class AwsRuntime:
    """The objects every handler of one container shares."""

    settings: Settings
    session: boto3.Session
    lake: AwsLake
    config: GovernanceConfig

    @property
    def s3(self) -> S3Client:
        """An S3 client of the runtime's session (boto3 caches nothing, so keep the result)."""
        return self.session.client("s3")

    @property
    def scratch_dir(self) -> Path:
        """The folder for downloads; the lake's scratch folder (/tmp in Lambda)."""
        return self.lake.scratch_dir


def build_runtime(settings: Settings) -> AwsRuntime:
    """Build the runtime from settings: check them, open the lake and load the governance configuration."""
    if settings.runtime != "aws":
        raise ConfigError("Lambda handlers need GENAI_FINOPS_RUNTIME=aws")
    session = boto3.Session(region_name=settings.region) if settings.region else boto3.Session()
    lake = AwsLake.from_settings(settings, session=session)
    config = load_config_from_s3(session.client("s3"), settings.config_s3_uri)
    logger.info(
        "runtime ready",
        extra={"glue_database": settings.glue_database, "config_source": settings.config_s3_uri or "defaults"},
    )
    return AwsRuntime(settings=settings, session=session, lake=lake, config=config)


@lru_cache(maxsize=1)
def get_runtime() -> AwsRuntime:
    """Return this container's runtime, building it from the environment on the first call."""
    return build_runtime(Settings())


_user_keys: dict[str, SecretsManagerUserKey] = {}


def user_key_provider(runtime: AwsRuntime) -> SecretsManagerUserKey:
    """Return this container's user-key provider; it fetches the secret once and keeps the key."""
    secret = runtime.settings.user_key_secret_arn
    if not secret:
        raise ConfigError("GENAI_FINOPS_USER_KEY_SECRET_ARN is not set; it names the user-key HMAC secret")
    if secret not in _user_keys:
        _user_keys[secret] = SecretsManagerUserKey(secret, client=runtime.session.client("secretsmanager"))
    return _user_keys[secret]


def reset_runtime() -> None:
    """Forget the cached runtime and user key, so that the next call reads the environment again."""
    get_runtime.cache_clear()
    _user_keys.clear()
