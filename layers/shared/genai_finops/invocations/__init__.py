"""Amazon Bedrock model invocation logs: discovery, parsing and loading into ``invocations``.

Prompts and responses never leave the parser: only token counts, metadata and keyed user hashes
reach a table, a document or a log line.
"""

from .ingest import LogIngestReport, ingest_log_objects
from .model_ids import ROUTE_GEO, ROUTE_GLOBAL, ROUTE_IN_REGION, parse_model_id
from .objects import LogObject, SkippedObject, discover_log_objects, is_log_object_key
from .profiles import (
    ConfigProfileSource,
    JsonFileProfileSource,
    ProfileRecord,
    ProfileResolver,
    ProfileSource,
    refresh_profiles,
)
from .user_key import LocalUserKey, UserKeyProvider, hash_user_id

__all__ = [
    "ROUTE_GEO",
    "ROUTE_GLOBAL",
    "ROUTE_IN_REGION",
    "ConfigProfileSource",
    "JsonFileProfileSource",
    "LocalUserKey",
    "LogIngestReport",
    "LogObject",
    "ProfileRecord",
    "ProfileResolver",
    "ProfileSource",
    "SkippedObject",
    "UserKeyProvider",
    "discover_log_objects",
    "hash_user_id",
    "ingest_log_objects",
    "is_log_object_key",
    "parse_model_id",
    "refresh_profiles",
]
