"""Model names on the bill and in invocation logs, mapped to one canonical Bedrock model id.

The usage-type parser yields names such as ``Claude3.5Sonnet`` (first-party usage types),
``anthropic.claude-sonnet-4-5`` (mantle usage types) or ``Claude 3 Haiku`` (Marketplace product names),
while invocation logs carry model ids such as ``anthropic.claude-3-5-sonnet-20240620-v1:0``. Both sides
are mapped to the model id before a bill line is matched to requests or a request is priced.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

import pyarrow as pa

from ..errors import ConfigError
from ..python_rows import columns_to_table

# Geographic and global system inference profiles put one of these before the model id.
SYSTEM_PROFILE_PREFIXES = ("us-gov.", "us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.")
MARKETPLACE_SUFFIX = re.compile(r"\s*\(Amazon Bedrock Edition\)\s*$", re.IGNORECASE)
SHIPPED_NAMES_FILE = "model_names.csv"


def name_key(name: str) -> str:
    """Return the comparison key of a model name: lower case, only letters and digits."""
    return re.sub(r"[^0-9a-z]", "", MARKETPLACE_SUFFIX.sub("", name).lower())


def strip_system_profile(name: str) -> str:
    """Remove a system inference profile prefix such as ``us.`` from a model id."""
    for prefix in SYSTEM_PROFILE_PREFIXES:
        if name.startswith(prefix) and "." in name[len(prefix) :]:
            return name[len(prefix) :]
    return name


@dataclass(frozen=True)
class ModelNames:
    """Name-to-model-id mapping: the shipped table, overridden by the configuration's entries."""

    shipped: Mapping[str, str] = field(default_factory=dict)
    configured: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, name: str | None) -> tuple[str | None, str]:
        """Return the canonical model id of a name and where the mapping came from.

        The source is ``config``, ``shipped`` or ``identity`` (no mapping: the name, without a
        system-profile prefix, is taken as the model id).
        """
        if name is None or not name.strip():
            return None, "identity"
        bare = strip_system_profile(name.strip())
        key = name_key(bare)
        if key in self.configured:
            return self.configured[key], "config"
        if key in self.shipped:
            return self.shipped[key], "shipped"
        return bare, "identity"

    def alias_table(self, names: Iterable[str | None]) -> pa.Table:
        """Build the ``model_aliases`` rows (name, model_id, source) for the distinct names given."""
        rows: dict[str, tuple[str | None, str]] = {}
        for name in names:
            if name is not None and name not in rows:
                rows[name] = self.resolve(name)
        ordered = sorted(rows)
        columns: dict[str, list[str | None]] = {
            "name": list(ordered),
            "model_id": [rows[name][0] for name in ordered],
            "source": [rows[name][1] for name in ordered],
        }
        return columns_to_table(columns, pa.schema([(name, pa.string()) for name in columns]))


def _keyed(mapping: Mapping[str, str], origin: str) -> dict[str, str]:
    keyed: dict[str, str] = {}
    for name, model_id in mapping.items():
        key = name_key(name)
        if not key:
            raise ConfigError(f"{origin}: model name {name!r} has no letters or digits")
        if key in keyed and keyed[key] != model_id:
            raise ConfigError(f"{origin}: model name {name!r} maps to both {keyed[key]!r} and {model_id!r}; keep one")
        keyed[key] = model_id
    return keyed


def parse_model_names(text: str, origin: str) -> dict[str, str]:
    """Parse a ``name,model_id`` CSV with ``#`` comment lines into a name-to-id mapping."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        name = (row.get("name") or "").strip()
        model_id = (row.get("model_id") or "").strip()
        if not name or not model_id:
            raise ConfigError(f"{origin}: every row needs a name and a model_id, got {row}")
        mapping[name] = model_id
    return mapping


def load_model_names(configured: Mapping[str, str] | None = None) -> ModelNames:
    """Load the shipped model-name table and add the configuration's ``attribution.model_names``."""
    resource = resources.files("genai_finops").joinpath("data", SHIPPED_NAMES_FILE)
    shipped = parse_model_names(resource.read_text(encoding="utf-8"), f"data/{SHIPPED_NAMES_FILE}")
    return ModelNames(
        shipped=_keyed(shipped, f"data/{SHIPPED_NAMES_FILE}"),
        configured=_keyed(configured or {}, "attribution.model_names"),
    )
