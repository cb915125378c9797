"""The lake's tables: name, Arrow schema, partition keys and one-line meaning.

This registry is the single source for the Glue table definitions, the local DuckDB views and the
data dictionary in docs/. Partition keys are not stored inside the Parquet files; they are part of
each partition's location, as Hive and Athena expect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from .money import MONEY_TYPE

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_MAP = pa.map_(pa.string(), pa.string())


@dataclass(frozen=True)
class TableSpec:
    """A lake table: its columns (without partition keys), its partition keys and what one row is."""

    name: str
    schema: pa.Schema
    partition_keys: tuple[str, ...]
    row_meaning: str
    column_docs: dict[str, str] = field(default_factory=dict)

    @property
    def full_schema(self) -> pa.Schema:
        """Columns followed by the partition keys, all partition keys typed as strings."""
        schema = self.schema
        for key in self.partition_keys:
            schema = schema.append(pa.field(key, pa.string()))
        return schema


COST_LINES = TableSpec(
    name="cost_lines",
    schema=pa.schema(
        [
            ("usage_start", UTC_TIMESTAMP),
            ("usage_end", UTC_TIMESTAMP),
            ("payer_account_id", pa.string()),
            ("usage_account_id", pa.string()),
            ("line_item_type", pa.string()),
            ("billing_entity", pa.string()),
            ("product_code", pa.string()),
            ("product_name", pa.string()),
            ("region", pa.string()),
            ("usage_type", pa.string()),
            ("operation", pa.string()),
            ("resource_id", pa.string()),
            ("pricing_unit", pa.string()),
            ("usage_amount", pa.float64()),
            ("tokens", pa.float64()),
            ("model", pa.string()),
            ("token_class", pa.string()),
            ("tier", pa.string()),
            ("route", pa.string()),
            ("usage_family", pa.string()),
            ("inference_profile_id", pa.string()),
            ("iam_principal", pa.string()),
            ("iam_role", pa.string()),
            ("cost_unblended", MONEY_TYPE),
            ("cost_net", MONEY_TYPE),
            ("cost_amortized", MONEY_TYPE),
            ("currency", pa.string()),
            ("invoice_id", pa.string()),
            ("tags", STRING_MAP),
            ("principal_tags", STRING_MAP),
            ("account_tags", STRING_MAP),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("environment", pa.string()),
            ("cost_center", pa.string()),
            ("source_format", pa.string()),
            ("source_file", pa.string()),
            ("source_line", pa.int64()),
        ]
    ),
    partition_keys=("billing_period", "export_id"),
    row_meaning="One billing-export line in GenAI scope, normalised across legacy CUR, CUR 2.0 and FOCUS.",
)

BILL_SUMMARY = TableSpec(
    name="bill_summary",
    schema=pa.schema(
        [
            ("source_format", pa.string()),
            ("line_item_type", pa.string()),
            ("product_code", pa.string()),
            ("in_genai_scope", pa.bool_()),
            ("currency", pa.string()),
            ("row_count", pa.int64()),
            ("cost_unblended", MONEY_TYPE),
            ("cost_net", MONEY_TYPE),
            ("cost_amortized", MONEY_TYPE),
        ]
    ),
    partition_keys=("billing_period", "export_id"),
    row_meaning="Totals of every line read from one delivery, per line item type and product code, in or out of scope.",
)

INVOCATIONS = TableSpec(
    name="invocations",
    schema=pa.schema(
        [
            ("request_id", pa.string()),
            ("timestamp", UTC_TIMESTAMP),
            ("account_id", pa.string()),
            ("region", pa.string()),
            ("inference_region", pa.string()),
            ("operation", pa.string()),
            ("model_id", pa.string()),
            ("model", pa.string()),
            ("inference_profile_id", pa.string()),
            ("route", pa.string()),
            ("principal", pa.string()),
            ("iam_role", pa.string()),
            ("input_tokens", pa.int64()),
            ("cache_read_tokens", pa.int64()),
            ("cache_write_tokens", pa.int64()),
            ("cache_write_1h_tokens", pa.int64()),
            ("output_tokens", pa.int64()),
            ("status", pa.string()),
            ("error_code", pa.string()),
            ("guardrail_blocked", pa.bool_()),
            ("request_metadata", STRING_MAP),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("environment", pa.string()),
            ("tenant", pa.string()),
            ("user_key", pa.string()),
            ("key_sources", STRING_MAP),
            ("source_object", pa.string()),
            ("source_line", pa.int64()),
        ]
    ),
    partition_keys=("date",),
    row_meaning="One Bedrock model invocation (one request id), with token counts and attribution keys; no bodies.",
)

INFERENCE_PROFILES = TableSpec(
    name="inference_profiles",
    schema=pa.schema(
        [
            ("profile_id", pa.string()),
            ("profile_name", pa.string()),
            ("profile_type", pa.string()),
            ("account_id", pa.string()),
            ("region", pa.string()),
            ("model", pa.string()),
            ("model_arns", pa.list_(pa.string())),
            ("tags", STRING_MAP),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("environment", pa.string()),
            ("tenant", pa.string()),
            ("source", pa.string()),
            ("refreshed_at", UTC_TIMESTAMP),
        ]
    ),
    partition_keys=(),
    row_meaning="One application or system inference profile with its base model and tags (inventory snapshot).",
)

INGEST_RUNS = TableSpec(
    name="ingest_runs",
    schema=pa.schema(
        [
            ("run_id", pa.string()),
            ("started_at", UTC_TIMESTAMP),
            ("kind", pa.string()),
            ("source", pa.string()),
            ("status", pa.string()),
            ("rows_read", pa.int64()),
            ("rows_loaded", pa.int64()),
            ("rows_duplicate", pa.int64()),
            ("rows_skipped", pa.int64()),
            ("rows_quarantined", pa.int64()),
            ("cost_read", MONEY_TYPE),
            ("cost_loaded", MONEY_TYPE),
            ("cost_quarantined", MONEY_TYPE),
            ("message", pa.string()),
        ]
    ),
    partition_keys=("kind", "run_date"),
    row_meaning="One ingest of one delivery or log object: what was read, loaded, skipped and quarantined.",
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec for spec in (COST_LINES, BILL_SUMMARY, INVOCATIONS, INFERENCE_PROFILES, INGEST_RUNS)
}


def get_table(name: str) -> TableSpec:
    """Return the spec of a registered table, or raise KeyError naming the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None
