"""Runtime settings read once from the environment at the edge (Lambda handler or CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings: the lake's location and the runtime that serves it.

    Domain code receives this object and never reads os.environ.
    """

    model_config = SettingsConfigDict(env_prefix="GENAI_FINOPS_", extra="ignore", frozen=True)

    runtime: Literal["local", "aws"] = "local"
    lake_dir: Path = Path(".finops")
    config_file: Path | None = None

    # AWS runtime only.
    lake_bucket: str | None = None
    glue_database: str | None = None
    athena_workgroup: str | None = None
    config_s3_uri: str | None = None
    user_key_secret_arn: str | None = None
    alerts_topic_arn: str | None = None
    # s3:// folder where Athena UNLOADs query results as Parquet; None reads Athena's CSV results instead.
    athena_unload_uri: str | None = None
    # Scratch space for downloads and staging; None means the system temporary folder (/tmp in Lambda).
    scratch_dir: Path | None = None
    region: str | None = Field(default=None, validation_alias="AWS_REGION")
