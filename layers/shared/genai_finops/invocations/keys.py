"""Attribution keys, principals and user keys for parsed records.

Per-row work stays in DuckDB. Python only handles the distinct values (metadata keys, model ids,
principals, user ids, tag values), which are few compared with records, and hands small lookup
tables back to DuckDB.

Precedence for each standard key: request metadata (through the tag-standard aliases), then the
application inference profile's tags, then the first matching principal mapping. ``key_sources``
records, per key, ``request_metadata``, ``profile_tags``, ``principal_mapping``, ``invalid_value``
(metadata gave a value outside the allowed values and no later source gave one) or ``missing``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from ..config import GovernanceConfig, normalize_tag_key
from ..principals import mask_principals
from .lookups import create_string_table
from .model_ids import is_application_profile, parse_model_id
from .profiles import ATTRIBUTION_KEYS, ProfileResolver, clean_key_value, standard_keys_from_tags
from .user_key import hash_user_id

SOURCE_METADATA = "request_metadata"
SOURCE_PROFILE = "profile_tags"
SOURCE_PRINCIPAL = "principal_mapping"
SOURCE_INVALID = "invalid_value"
SOURCE_MISSING = "missing"

MODEL_JOIN = "LEFT JOIN model_lookup ON model_lookup.model_id = records.model_id"

_ROLE_SESSION = re.compile(r"^arn:aws[a-z-]*:sts::\d+:assumed-role/(?P<role>[^/]+)/")
_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d+:role/(?:.*/)?(?P<role>[^/]+)$")


def role_name(principal: str | None) -> str | None:
    """Return the IAM role name of an STS session or role ARN, so sessions group under their role."""
    if not principal:
        return None
    match = _ROLE_SESSION.match(principal) or _ROLE.match(principal)
    return match.group("role") if match else None


@dataclass(frozen=True)
class KeyExpressions:
    """SQL expressions over the ``records`` table, with their named parameters."""

    metadata_values: dict[str, str]
    user_id: str
    stored_metadata: str
    params: dict[str, Any]


def metadata_expressions(connection: duckdb.DuckDBPyConnection, config: GovernanceConfig) -> KeyExpressions:
    """Build the expressions that read standard keys and the user id from ``request_metadata``.

    Metadata keys are compared the way tags are (lower case, punctuation as ``_``). For each standard
    key the configured alias order decides which metadata key wins. The stored map keeps only the
    standard keys' metadata keys and ``invocations.stored_metadata_keys``, never the user-id key.
    """
    rows = connection.sql(
        "SELECT DISTINCT unnest(map_keys(request_metadata)) AS key FROM records WHERE request_metadata IS NOT NULL"
    ).fetchall()
    raw_keys = sorted(str(row[0]) for row in rows)
    params: dict[str, Any] = {}

    def coalesce_over(name: str, keys: Sequence[str]) -> str:
        if not keys:
            return "NULL::VARCHAR"
        parts = []
        for index, key in enumerate(keys):
            params[f"{name}_{index}"] = key
            parts.append(f"nullif(trim(request_metadata[${name}_{index}]), '')")
        return "coalesce(" + ", ".join(parts) + ")"

    tag_standard = config.tag_standard
    values: dict[str, str] = {}
    for standard_key in ATTRIBUTION_KEYS:
        spec = tag_standard.keys.get(standard_key)
        aliases = [standard_key, *(spec.aliases if spec else [])]
        rank: dict[str, int] = {}
        for position, alias in enumerate(aliases):
            rank.setdefault(normalize_tag_key(alias), position)
        matching = [key for key in raw_keys if normalize_tag_key(key) in rank]
        matching.sort(key=lambda key: (rank[normalize_tag_key(key)], key not in aliases, key))
        values[standard_key] = coalesce_over(f"key_{standard_key}", matching)

    user_key_name = normalize_tag_key(config.invocations.user_id_metadata_key)
    user_keys = [key for key in raw_keys if normalize_tag_key(key) == user_key_name]
    user_keys.sort(key=lambda key: (key != config.invocations.user_id_metadata_key, key))
    user_id = coalesce_over("user", user_keys)

    allowed = {normalize_tag_key(key) for key in config.invocations.stored_metadata_keys}
    for standard_key in ATTRIBUTION_KEYS:
        spec = tag_standard.keys.get(standard_key)
        allowed.update(normalize_tag_key(alias) for alias in [standard_key, *(spec.aliases if spec else [])])
    allowed.discard(user_key_name)
    stored_keys = [key for key in raw_keys if normalize_tag_key(key) in allowed]
    if stored_keys == raw_keys:
        stored = "request_metadata"
    elif stored_keys:
        params["stored_metadata_keys"] = stored_keys
        stored = (
            "map_from_entries(list_filter(map_entries(request_metadata), "
            "lambda entry: list_contains($stored_metadata_keys, entry.key)))"
        )
    else:
        stored = "CAST(NULL AS MAP(VARCHAR, VARCHAR))"
    return KeyExpressions(metadata_values=values, user_id=user_id, stored_metadata=stored, params=params)


def register_value_lookups(
    connection: duckdb.DuckDBPyConnection, config: GovernanceConfig, expressions: KeyExpressions
) -> None:
    """Create ``metadata_<key>`` lookups (raw metadata value to cleaned value) for each standard key."""
    for standard_key, expression in expressions.metadata_values.items():
        raw_values = connection.execute(
            f"SELECT DISTINCT {expression} AS raw FROM records WHERE request_metadata IS NOT NULL",
            _used(expressions.params, expression),
        ).fetchall()
        raws = [str(row[0]) for row in raw_values if row[0] is not None]
        cleaned = [clean_key_value(standard_key, raw, config.tag_standard) for raw in raws]
        create_string_table(connection, f"metadata_{standard_key}", {"raw": raws, "value": cleaned})


def register_user_keys(connection: duckdb.DuckDBPyConnection, expressions: KeyExpressions, key: bytes | None) -> None:
    """Create ``user_keys`` (raw user id to HMAC) for the distinct user ids in the records.

    The raw ids live only in this connection's in-memory database and are never written to the lake.
    """
    user_ids: list[str] = []
    if key is not None and expressions.user_id != "NULL::VARCHAR":
        rows = connection.execute(
            f"SELECT DISTINCT {expressions.user_id} FROM records WHERE request_metadata IS NOT NULL",
            _used(expressions.params, expressions.user_id),
        ).fetchall()
        user_ids = [str(row[0]) for row in rows if row[0] is not None]
    hashes = [hash_user_id(key, user_id) for user_id in user_ids] if key is not None else []
    create_string_table(connection, "user_keys", {"user_id": user_ids, "user_key": hashes})


def register_model_lookup(
    connection: duckdb.DuckDBPyConnection, resolver: ProfileResolver, config: GovernanceConfig
) -> None:
    """Create ``model_lookup``: logged model id to base model, profile, route and profile keys."""
    model_ids = [str(row[0]) for row in connection.sql("SELECT DISTINCT model_id FROM records").fetchall() if row[0]]
    columns: dict[str, list[str | None]] = {name: [] for name in ("model_id", "model", "inference_profile_id", "route")}
    for key in ATTRIBUTION_KEYS:
        columns[f"profile_{key}"] = []
    for model_id in model_ids:
        model, profile_id, route = parse_model_id(model_id)
        keys: dict[str, str] = {}
        if is_application_profile(model_id) and profile_id is not None:
            profile = resolver.resolve(profile_id)
            if profile is not None:
                model, route = profile.model, profile.route
                keys = standard_keys_from_tags(profile.tags, config.tag_standard)
        columns["model_id"].append(model_id)
        columns["model"].append(model)
        columns["inference_profile_id"].append(profile_id)
        columns["route"].append(route)
        for key in ATTRIBUTION_KEYS:
            columns[f"profile_{key}"].append(keys.get(key))
    create_string_table(connection, "model_lookup", columns)


def register_principal_lookup(connection: duckdb.DuckDBPyConnection, config: GovernanceConfig, key: bytes) -> None:
    """Create ``principal_lookup``: principal ARN to its stored (masked) form, role name and mapped keys.

    Principal mappings match the ARN as logged, before its personal part is masked. Each distinct
    principal is masked once, by the same macro as in the billing-export ingest.
    """
    principals = [str(row[0]) for row in connection.sql("SELECT DISTINCT principal FROM records").fetchall() if row[0]]
    columns: dict[str, list[str | None]] = {"principal": [], "principal_masked": [], "iam_role": []}
    for attribution_key in ATTRIBUTION_KEYS:
        columns[f"principal_{attribution_key}"] = []
    columns["principal_masked"] = list(mask_principals(principals, key, connection))
    for principal in principals:
        role = role_name(principal)
        mapping = next((m for m in config.principals if m.matches(principal, role)), None)
        columns["principal"].append(principal)
        columns["iam_role"].append(role)
        for attribution_key in ATTRIBUTION_KEYS:
            value = getattr(mapping, attribution_key) if mapping is not None else None
            columns[f"principal_{attribution_key}"].append(clean_key_value(attribution_key, value, config.tag_standard))
    create_string_table(connection, "principal_lookup", columns)


def attribution_columns(expressions: KeyExpressions) -> str:
    """Return the SELECT list items for the four keys and ``key_sources`` (needs the lookups above)."""
    items = []
    sources = []
    for key in ATTRIBUTION_KEYS:
        metadata_value = f"metadata_{key}.value"
        metadata_raw = f"metadata_{key}.raw"
        items.append(
            f"coalesce({metadata_value}, model_lookup.profile_{key}, principal_lookup.principal_{key}) AS {key}"
        )
        sources.append(
            f"CASE WHEN {metadata_value} IS NOT NULL THEN '{SOURCE_METADATA}' "
            f"WHEN model_lookup.profile_{key} IS NOT NULL THEN '{SOURCE_PROFILE}' "
            f"WHEN principal_lookup.principal_{key} IS NOT NULL THEN '{SOURCE_PRINCIPAL}' "
            f"WHEN {metadata_raw} IS NOT NULL THEN '{SOURCE_INVALID}' ELSE '{SOURCE_MISSING}' END"
        )
    # Casting a struct gives the same map as map(keys, values) at about a sixth of the CPU, because
    # the keys are fixed by the type instead of checked per row (measured with DuckDB 2.0.1).
    fields = ", ".join(f"'{key}': {source}" for key, source in zip(ATTRIBUTION_KEYS, sources, strict=True))
    items.append(f"CAST({{{fields}}} AS MAP(VARCHAR, VARCHAR)) AS key_sources")
    return ",\n        ".join(items)


def attribution_joins(expressions: KeyExpressions) -> str:
    """Return the LEFT JOINs that the attribution columns need."""
    joins = [
        MODEL_JOIN,
        "LEFT JOIN principal_lookup ON principal_lookup.principal = records.principal",
        f"LEFT JOIN user_keys ON user_keys.user_id = {expressions.user_id}",
    ]
    for key, expression in expressions.metadata_values.items():
        joins.append(f"LEFT JOIN metadata_{key} ON metadata_{key}.raw = {expression}")
    return "\n".join(joins)


def _used(params: dict[str, Any], sql: str) -> dict[str, Any]:
    # DuckDB rejects named parameters that a statement does not use.
    return {name: value for name, value in params.items() if f"${name}" in sql}
