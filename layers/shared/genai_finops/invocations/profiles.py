"""The inference profile inventory: application profile ARN to base model, route and tags.

The ``inference_profiles`` table is a snapshot replaced whole by ``refresh_profiles``. Sources are the
governance configuration or a JSON file locally, and Bedrock's API in AWS (``aws.BedrockProfileSource``).
Ingestion reads the snapshot through ``ProfileResolver``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from pydantic import ValidationError

from ..config import GovernanceConfig, InferenceProfileEntry, TagStandard, normalize_tag_key
from ..errors import InputError
from ..lake.base import Lake
from ..tables import INFERENCE_PROFILES
from .model_ids import ROUTE_GEO, ROUTE_GLOBAL, ROUTE_IN_REGION, parse_model_id

PROFILE_TYPE_APPLICATION = "APPLICATION"
ATTRIBUTION_KEYS = ("team", "feature", "environment", "tenant")

_FOUNDATION_MODEL_ARN = re.compile(
    r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]*):\d*:foundation-model/(?P<model>.+)$"
)
_PROFILE_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d+):")


@dataclass(frozen=True)
class ProfileRecord:
    """One inference profile as a source describes it."""

    profile_id: str
    model: str | None
    route: str | None
    name: str | None = None
    profile_type: str = PROFILE_TYPE_APPLICATION
    model_arns: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def account_id(self) -> str | None:
        match = _PROFILE_ARN.match(self.profile_id)
        return match.group("account") if match else None

    @property
    def region(self) -> str | None:
        match = _PROFILE_ARN.match(self.profile_id)
        return match.group("region") if match else None


class ProfileSource(Protocol):
    """A source of inventory snapshots."""

    name: str

    def profiles(self) -> list[ProfileRecord]:
        """Return every profile the source lists."""
        ...


def model_and_route_from_arns(model_arns: Sequence[str]) -> tuple[str | None, str | None]:
    """Derive the base model and route of a profile from its foundation-model ARNs.

    One region means the profile serves its own region, and several regions mean a geographic
    cross-region profile. An ARN without a region is read as global routing.
    """
    models: set[str] = set()
    regions: set[str] = set()
    for arn in model_arns:
        match = _FOUNDATION_MODEL_ARN.match(arn)
        if not match:
            continue
        models.add(match.group("model"))
        regions.add(match.group("region"))
    if len(models) != 1:
        return None, None
    if "" in regions:
        # NOTE: the model ARNs of a profile copied from a global.* profile are not documented in the
        # Bedrock API reference, so reading a region-less ARN as global routing is an assumption.
        route = ROUTE_GLOBAL
    elif len(regions) > 1:
        route = ROUTE_GEO
    else:
        route = ROUTE_IN_REGION
    return models.pop(), route


def record_from_entry(entry: InferenceProfileEntry) -> ProfileRecord:
    """Turn a configured profile (model given as a base model id or a system profile id) into a record."""
    model, _, route = parse_model_id(entry.model)
    return ProfileRecord(profile_id=entry.arn, model=model, route=route, name=entry.name, tags=dict(entry.tags))


class ConfigProfileSource:
    """Profiles listed under ``invocations.inference_profiles`` in the governance configuration."""

    name = "config"

    def __init__(self, config: GovernanceConfig) -> None:
        self.config = config

    def profiles(self) -> list[ProfileRecord]:
        return [record_from_entry(entry) for entry in self.config.invocations.inference_profiles]


class JsonFileProfileSource:
    """Profiles in a JSON file.

    The file contains a list (or an object with an ``inference_profiles`` or ``inferenceProfileSummaries``
    list). Each item is either a configuration-style entry (``arn``, ``model``, ``name``, ``tags``) or a
    Bedrock ``GetInferenceProfile`` response (``inferenceProfileArn``, ``inferenceProfileName``,
    ``models``) with optional ``tags`` as a map or as ``[{"key": ..., "value": ...}]``.
    """

    name = "json_file"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def profiles(self) -> list[ProfileRecord]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except OSError as error:
            raise InputError(f"cannot read profile file: {error.strerror}", source=str(self.path)) from error
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON: {error.msg}", source=str(self.path), line=error.lineno) from error
        if isinstance(data, dict):
            data = data.get("inference_profiles", data.get("inferenceProfileSummaries"))
        if not isinstance(data, list):
            raise InputError(
                "expected a list of profiles, or an object with an 'inference_profiles' list",
                source=str(self.path),
            )
        return [self._record(item, index) for index, item in enumerate(data)]

    def _record(self, item: Any, index: int) -> ProfileRecord:
        where = f"{self.path}[{index}]"
        if not isinstance(item, dict):
            raise InputError("each profile must be a JSON object", source=where)
        if "inferenceProfileArn" in item:
            return record_from_bedrock(item, tags_from_bedrock(item.get("tags")))
        try:
            return record_from_entry(InferenceProfileEntry.model_validate(item))
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise InputError(f"invalid profile entry: {problems}", source=where) from error


def tags_from_bedrock(tags: Any) -> dict[str, str]:
    """Read tags given as Bedrock's ``[{"key": k, "value": v}]`` list or as a plain map."""
    if tags is None:
        return {}
    if isinstance(tags, dict):
        return {str(key): str(value) for key, value in tags.items()}
    return {str(tag["key"]): str(tag.get("value", "")) for tag in tags if isinstance(tag, dict) and "key" in tag}


def record_from_bedrock(profile: Mapping[str, Any], tags: Mapping[str, str]) -> ProfileRecord:
    """Build a record from a ``GetInferenceProfile`` response (or a ``ListInferenceProfiles`` summary)."""
    model_arns = tuple(str(model["modelArn"]) for model in profile.get("models", []) if "modelArn" in model)
    model, route = model_and_route_from_arns(model_arns)
    return ProfileRecord(
        profile_id=str(profile["inferenceProfileArn"]),
        model=model,
        route=route,
        name=profile.get("inferenceProfileName"),
        profile_type=str(profile.get("type", PROFILE_TYPE_APPLICATION)),
        model_arns=model_arns,
        tags=dict(tags),
    )


def standard_keys_from_tags(tags: Mapping[str, str], tag_standard: TagStandard) -> dict[str, str]:
    """Map tags onto the standard attribution keys through the tag-standard aliases.

    For each standard key the first alias in configured order wins. Values are trimmed, environment
    values are normalised through the synonyms, and values outside a key's allowed values are dropped.
    """
    by_alias: dict[str, str] = {}
    for raw_key, value in tags.items():
        by_alias.setdefault(normalize_tag_key(raw_key), value)
    result: dict[str, str] = {}
    for key in ATTRIBUTION_KEYS:
        spec = tag_standard.keys.get(key)
        if spec is None:
            continue
        for alias in (key, *spec.aliases):
            cleaned = clean_key_value(key, by_alias.get(normalize_tag_key(alias)), tag_standard)
            if cleaned is not None:
                result[key] = cleaned
                break
    return result


def clean_key_value(key: str, value: str | None, tag_standard: TagStandard) -> str | None:
    """Return a trimmed (and for environment, normalised) value, or None when empty or not allowed."""
    if value is None or not value.strip():
        return None
    cleaned = tag_standard.normalize_environment(value) if key == "environment" else value.strip()
    spec = tag_standard.keys.get(key)
    if cleaned is None or (spec is not None and spec.allowed_values is not None and cleaned not in spec.allowed_values):
        return None
    return cleaned


def profiles_table(
    records: Iterable[ProfileRecord], source: str, tag_standard: TagStandard, refreshed_at: dt.datetime
) -> pa.Table:
    """Build the ``inference_profiles`` snapshot from source records (one row per profile ARN)."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        keys = standard_keys_from_tags(record.tags, tag_standard)
        rows[record.profile_id] = {
            "profile_id": record.profile_id,
            "profile_name": record.name,
            "profile_type": record.profile_type,
            "account_id": record.account_id,
            "region": record.region,
            "model": record.model,
            "route": record.route,
            "model_arns": list(record.model_arns),
            "tags": list(record.tags.items()),
            **{key: keys.get(key) for key in ATTRIBUTION_KEYS},
            "source": source,
            "refreshed_at": refreshed_at,
        }
    ordered = [rows[key] for key in sorted(rows)]
    return pa.Table.from_pylist(ordered, schema=INFERENCE_PROFILES.schema)


def refresh_profiles(
    lake: Lake,
    source: ProfileSource,
    config: GovernanceConfig | None = None,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Replace the ``inference_profiles`` table with the source's profiles; return how many were written."""
    tag_standard = (config or GovernanceConfig()).tag_standard
    refreshed_at = now or dt.datetime.now(dt.UTC)
    table = profiles_table(source.profiles(), source.name, tag_standard, refreshed_at)
    lake.write_partition(INFERENCE_PROFILES.name, {}, table)
    return int(table.num_rows)


@dataclass(frozen=True)
class ResolvedProfile:
    """The model, route and tags of one application profile, as ingestion uses them."""

    profile_id: str
    model: str | None
    route: str | None
    tags: Mapping[str, str]


class ProfileResolver:
    """Resolves application inference profile ARNs to their base model, route and tags."""

    def __init__(self, profiles: Iterable[ResolvedProfile] = ()) -> None:
        self._by_arn = {profile.profile_id: profile for profile in profiles}

    @classmethod
    def from_lake(cls, lake: Lake) -> ProfileResolver:
        """Load the resolver from the lake's ``inference_profiles`` table (empty when never refreshed)."""
        table = lake.query("SELECT profile_id, model, route, tags FROM inference_profiles")
        return cls(
            ResolvedProfile(
                profile_id=row["profile_id"],
                model=row["model"],
                route=row["route"],
                tags=dict(row["tags"] or []),
            )
            for row in table.to_pylist()
        )

    @classmethod
    def from_records(cls, records: Iterable[ProfileRecord]) -> ProfileResolver:
        """Build a resolver straight from source records, without a lake table."""
        return cls(ResolvedProfile(r.profile_id, r.model, r.route, dict(r.tags)) for r in records)

    def with_fallback(self, other: ProfileResolver) -> ProfileResolver:
        """Return a resolver that also resolves ``other``'s profiles where this one lacks them."""
        combined = dict(other._by_arn)
        combined.update(self._by_arn)
        return ProfileResolver(combined.values())

    def __len__(self) -> int:
        return len(self._by_arn)

    def resolve(self, profile_arn: str) -> ResolvedProfile | None:
        """Return the profile for an application profile ARN, or None when the inventory lacks it."""
        return self._by_arn.get(profile_arn.strip())
