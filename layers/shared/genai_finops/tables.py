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
            ("route", pa.string()),
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

# -- attribution and unit economics: written per billing period by ``genai-finops attribute`` ---------

PERIOD_PARTITION = ("billing_period",)

MODEL_ALIASES = TableSpec(
    name="model_aliases",
    schema=pa.schema([("name", pa.string()), ("model_id", pa.string()), ("source", pa.string())]),
    partition_keys=PERIOD_PARTITION,
    row_meaning=(
        "One model name seen in the period's bill or logs, with the Bedrock model id both sides are matched on."
    ),
    column_docs={
        "name": "Model name as it appears in cost_lines.model or invocations.model.",
        "model_id": "Canonical Bedrock model id; the name itself when no mapping is known.",
        "source": "'shipped' (packaged name table), 'config' (attribution.model_names) or 'identity' (no mapping).",
    },
)

PRICE_CATALOG = TableSpec(
    name="price_catalog",
    schema=pa.schema(
        [
            ("day", pa.date32()),
            ("model_id", pa.string()),
            ("token_class", pa.string()),
            ("tier", pa.string()),
            ("region", pa.string()),
            ("route", pa.string()),
            ("price_per_million", MONEY_TYPE),
            ("source", pa.string()),
            ("reference_price_per_million", MONEY_TYPE),
            ("reference_source", pa.string()),
            ("currency", pa.string()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="The price in effect on one day for one model, token class, tier, region and route used in the period.",
    column_docs={
        "day": "UTC day the price applies to.",
        "model_id": "Canonical Bedrock model id.",
        "token_class": "input, output, cache_read, cache_write (5-minute) or cache_write_1h.",
        "tier": "standard, batch, flex, priority, ... as in cost_lines.tier; requests are priced at standard.",
        "region": "AWS region of the request or bill line.",
        "route": "in_region, geo or global.",
        "price_per_million": "Price per million tokens used for request estimates: override, else the bill's own "
        "rate, else the list price. NULL when the model is unpriced.",
        "source": "Where price_per_million comes from: override, bill, bill_previous_period or list.",
        "reference_price_per_million": "Price independent of the bill (override, else list), used to check "
        "billed cost against tokens. NULL when unknown.",
        "reference_source": "override or list, or NULL.",
        "currency": "Currency of both prices.",
    },
)

ATTRIBUTION_BILL_LINES = TableSpec(
    name="attribution_bill_lines",
    schema=pa.schema(
        [
            ("usage_start", UTC_TIMESTAMP),
            ("usage_end", UTC_TIMESTAMP),
            ("usage_account_id", pa.string()),
            ("region", pa.string()),
            ("line_item_type", pa.string()),
            ("product_code", pa.string()),
            ("usage_type", pa.string()),
            ("usage_family", pa.string()),
            ("model", pa.string()),
            ("model_id", pa.string()),
            ("token_class", pa.string()),
            ("tier", pa.string()),
            ("route", pa.string()),
            ("inference_profile_id", pa.string()),
            ("resource_id", pa.string()),
            ("iam_principal", pa.string()),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("environment", pa.string()),
            ("cost_center", pa.string()),
            ("reason", pa.string()),
            ("line_count", pa.int64()),
            ("tokens", pa.float64()),
            ("cost", MONEY_TYPE),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="Cost lines of one period grouped by every key attribution uses, with the reason a group "
    "cannot be allocated to requests (NULL when it is token usage that can be).",
    column_docs={
        "usage_start": "Start of the bill's usage interval (hour, day or month, as the export's granularity allows).",
        "usage_end": "End of the usage interval (exclusive).",
        "model": "Model name as cost_lines gives it (parsed from the usage type or Marketplace product name).",
        "model_id": "Canonical Bedrock model id from model_aliases.",
        "reason": "Why the group stays remainder before any matching: credit, non_usage_line, genai_adjacent, "
        "provisioned_throughput, guardrails, knowledge_bases, mantle, batch_inference, non_token_usage, "
        "unrecognised_model; NULL for allocatable token usage.",
        "line_count": "Number of cost_lines rows in the group.",
        "tokens": "Sum of cost_lines.tokens.",
        "cost": "Sum of the allocated cost column (attribution.cost_column, default cost_net).",
    },
)

ATTRIBUTION_USAGE_GROUPS = TableSpec(
    name="attribution_usage_groups",
    schema=pa.schema(
        [
            ("group_id", pa.int64()),
            ("hour", UTC_TIMESTAMP),
            ("day", pa.date32()),
            ("account_id", pa.string()),
            ("region", pa.string()),
            ("model", pa.string()),
            ("inference_profile_id", pa.string()),
            ("principal", pa.string()),
            ("route", pa.string()),
            ("request_count", pa.int64()),
            ("input_tokens", pa.int64()),
            ("input_requests", pa.int64()),
            ("cache_read_tokens", pa.int64()),
            ("cache_read_requests", pa.int64()),
            ("cache_write_tokens", pa.int64()),
            ("cache_write_requests", pa.int64()),
            ("cache_write_1h_tokens", pa.int64()),
            ("cache_write_1h_requests", pa.int64()),
            ("output_tokens", pa.int64()),
            ("output_requests", pa.int64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="The requests of one UTC hour that share account, region, model as logged, inference profile, "
    "principal and route: every key that decides which bill cells a request matches and its price.",
    column_docs={
        "group_id": "Number of the group within the period (stable for the same input).",
        "hour": "UTC hour of the group's requests.",
        "day": "UTC day of the group's requests.",
        "model": "Model as logged (see invocations.model).",
        "request_count": "Requests in the group.",
        "input_tokens": "Sum of the requests' uncached input tokens.",
        "input_requests": "Requests with input tokens.",
        "cache_write_tokens": "Sum of 5-minute cache-write tokens (cache_write_tokens minus the 1-hour share).",
        "cache_write_1h_tokens": "Sum of 1-hour cache-write tokens.",
    },
)

ATTRIBUTION_CELLS = TableSpec(
    name="attribution_cells",
    schema=pa.schema(
        [
            ("cell_id", pa.int64()),
            ("usage_start", UTC_TIMESTAMP),
            ("usage_end", UTC_TIMESTAMP),
            ("grain", pa.string()),
            ("usage_account_id", pa.string()),
            ("region", pa.string()),
            ("usage_type", pa.string()),
            ("model_id", pa.string()),
            ("token_class", pa.string()),
            ("tier", pa.string()),
            ("route", pa.string()),
            ("inference_profile_id", pa.string()),
            ("iam_principal", pa.string()),
            ("cost", MONEY_TYPE),
            ("billed_tokens", pa.float64()),
            ("matched_requests", pa.int64()),
            ("matched_tokens", pa.int64()),
            ("estimated_cost", MONEY_TYPE),
            ("divergence_share", pa.float64()),
            ("diverges", pa.bool_()),
            ("reason", pa.string()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One bill cell of allocatable token usage: the cost of one interval, account, region, usage "
    "type, model, token class, tier, route, profile and principal, and the requests that share it.",
    column_docs={
        "cell_id": "Number of the cell within the period (stable for the same input).",
        "grain": "hour, day or month: the granularity used to match the account's requests to the bill.",
        "inference_profile_id": "Application inference profile on the bill line; NULL does not restrict the match.",
        "iam_principal": "Caller on the bill line; NULL does not restrict the match.",
        "cost": "Cost of the cell, allocated in full to matched requests when matched_tokens > 0.",
        "billed_tokens": "Tokens the bill reports for the cell.",
        "matched_requests": "Requests with tokens of this class that fall in the cell.",
        "matched_tokens": "Their tokens of the cell's token class: the allocation weights' sum.",
        "estimated_cost": "Matched tokens priced at the reference (non-bill) price; NULL when any is unpriced.",
        "divergence_share": "|cost - estimated_cost| / cost; NULL when cost is 0 or the estimate is unknown.",
        "diverges": "True when divergence_share exceeds attribution.divergence_tolerance_share.",
        "reason": "NULL when allocated; logging_off when the account and region logged no request in the "
        "period; no_matching_requests otherwise.",
    },
)

ATTRIBUTION_GROUP_COSTS = TableSpec(
    name="attribution_group_costs",
    schema=pa.schema(
        [
            ("group_id", pa.int64()),
            ("hour", UTC_TIMESTAMP),
            ("day", pa.date32()),
            ("account_id", pa.string()),
            ("region", pa.string()),
            ("model", pa.string()),
            ("model_id", pa.string()),
            ("inference_profile_id", pa.string()),
            ("principal", pa.string()),
            ("route", pa.string()),
            ("request_count", pa.int64()),
            ("bill_through", UTC_TIMESTAMP),
            ("input_tokens", pa.int64()),
            ("input_cost", MONEY_TYPE),
            ("input_cells", pa.int64()),
            ("input_price", MONEY_TYPE),
            ("cache_read_tokens", pa.int64()),
            ("cache_read_cost", MONEY_TYPE),
            ("cache_read_cells", pa.int64()),
            ("cache_read_price", MONEY_TYPE),
            ("cache_write_tokens", pa.int64()),
            ("cache_write_cost", MONEY_TYPE),
            ("cache_write_cells", pa.int64()),
            ("cache_write_price", MONEY_TYPE),
            ("cache_write_1h_tokens", pa.int64()),
            ("cache_write_1h_cost", MONEY_TYPE),
            ("cache_write_1h_cells", pa.int64()),
            ("cache_write_1h_price", MONEY_TYPE),
            ("output_tokens", pa.int64()),
            ("output_cost", MONEY_TYPE),
            ("output_cells", pa.int64()),
            ("output_price", MONEY_TYPE),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One usage group of attribution_usage_groups with its exact share of the matched bill cells "
    "per token class, before that share is split across the group's requests.",
    column_docs={
        "group_id": "attribution_usage_groups.group_id.",
        "model_id": "Canonical Bedrock model id from model_aliases.",
        "bill_through": "End of the last bill interval of the account and model: requests before it are billed.",
        "input_tokens": "The group's input tokens: the weight of its share of each input cell.",
        "input_cost": "The group's share of the matched input cells, exact at 1e-10 (0 when none matched).",
        "input_cells": "Number of input cells the group matched.",
        "input_price": "Standard-tier price per million input tokens for the group's day, model, region and route "
        "(price_catalog); NULL when unpriced.",
    },
)

REQUEST_COSTS = TableSpec(
    name="request_costs",
    schema=pa.schema(
        [
            ("request_id", pa.string()),
            ("timestamp", UTC_TIMESTAMP),
            ("hour", UTC_TIMESTAMP),
            ("day", pa.date32()),
            ("account_id", pa.string()),
            ("region", pa.string()),
            ("model", pa.string()),
            ("model_id", pa.string()),
            ("inference_profile_id", pa.string()),
            ("route", pa.string()),
            ("principal", pa.string()),
            ("iam_role", pa.string()),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("environment", pa.string()),
            ("tenant", pa.string()),
            ("user_key", pa.string()),
            ("input_tokens", pa.int64()),
            ("cache_read_tokens", pa.int64()),
            ("cache_write_tokens", pa.int64()),
            ("cache_write_1h_tokens", pa.int64()),
            ("output_tokens", pa.int64()),
            ("estimated_cost", MONEY_TYPE),
            ("billed_cost", MONEY_TYPE),
            ("cost", MONEY_TYPE),
            ("input_cost", MONEY_TYPE),
            ("cache_read_cost", MONEY_TYPE),
            ("cache_write_cost", MONEY_TYPE),
            ("output_cost", MONEY_TYPE),
            ("state", pa.string()),
            ("priced", pa.bool_()),
            ("matched_cells", pa.int64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning=(
        "One invocation request of the period with its estimated cost, "
        "its share of the bill and which of the two counts."
    ),
    column_docs={
        "hour": "Request timestamp truncated to the UTC hour.",
        "day": "UTC day of the request.",
        "model": "Model as logged (resolved base model id).",
        "model_id": "Canonical Bedrock model id used to match the bill and price the request.",
        "cache_write_tokens": "All cache-write tokens (5-minute and 1-hour).",
        "cache_write_1h_tokens": "The part of cache_write_tokens written with a 1-hour lifetime.",
        "estimated_cost": "Tokens times price_catalog.price_per_million at the standard tier; NULL when a token "
        "class with tokens has no price (unpriced, never zero).",
        "billed_cost": "Sum of the request's shares of the bill cells it matched; 0 in estimated state.",
        "cost": "billed_cost in billed state, estimated_cost in estimated state.",
        "input_cost": "Part of cost for uncached input tokens.",
        "cache_read_cost": "Part of cost for cache-read tokens.",
        "cache_write_cost": "Part of cost for cache-write tokens (both lifetimes).",
        "output_cost": "Part of cost for output tokens.",
        "state": "billed when the request received a share of the bill or the bill has reached its hour for its "
        "account and model, else estimated.",
        "priced": "False when estimated_cost is NULL because a price is missing.",
        "matched_cells": "Number of bill cells the request received a share of.",
    },
)

ATTRIBUTION_REMAINDER = TableSpec(
    name="attribution_remainder",
    schema=pa.schema(
        [
            ("usage_start", UTC_TIMESTAMP),
            ("usage_end", UTC_TIMESTAMP),
            ("usage_account_id", pa.string()),
            ("region", pa.string()),
            ("line_item_type", pa.string()),
            ("product_code", pa.string()),
            ("usage_type", pa.string()),
            ("usage_family", pa.string()),
            ("model_id", pa.string()),
            ("token_class", pa.string()),
            ("tier", pa.string()),
            ("route", pa.string()),
            ("resource_id", pa.string()),
            ("iam_principal", pa.string()),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("environment", pa.string()),
            ("cost_center", pa.string()),
            ("reason", pa.string()),
            ("line_count", pa.int64()),
            ("tokens", pa.float64()),
            ("cost", MONEY_TYPE),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="Billed cost of the period that no request received, with the reason and the tags of its lines.",
    column_docs={
        "reason": "credit, non_usage_line, genai_adjacent, provisioned_throughput, guardrails, knowledge_bases, "
        "mantle, batch_inference, non_token_usage, unrecognised_model, logging_off or no_matching_requests.",
        "team": "Team from the line's tags (cost_lines.team); attribution of remainder is by tags only.",
        "cost": "Cost in the allocated cost column; credits are negative and stay in their own rows.",
    },
)

_UNIT_COST_COLUMNS = [
    ("team", pa.string()),
    ("feature", pa.string()),
    ("environment", pa.string()),
    ("model_id", pa.string()),
    ("inference_profile_id", pa.string()),
    ("tenant", pa.string()),
    ("request_count", pa.int64()),
    ("active_users", pa.int64()),
    ("input_tokens", pa.int64()),
    ("cache_read_tokens", pa.int64()),
    ("cache_write_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("input_tokens_mean", pa.float64()),
    ("input_tokens_p50", pa.float64()),
    ("input_tokens_p95", pa.float64()),
    ("cache_read_tokens_mean", pa.float64()),
    ("cache_read_tokens_p50", pa.float64()),
    ("cache_read_tokens_p95", pa.float64()),
    ("cache_write_tokens_mean", pa.float64()),
    ("cache_write_tokens_p50", pa.float64()),
    ("cache_write_tokens_p95", pa.float64()),
    ("output_tokens_mean", pa.float64()),
    ("output_tokens_p50", pa.float64()),
    ("output_tokens_p95", pa.float64()),
    ("total_cost", MONEY_TYPE),
    ("billed_cost", MONEY_TYPE),
    ("estimated_cost", MONEY_TYPE),
    ("unpriced_requests", pa.int64()),
    ("cost_per_request", MONEY_TYPE),
    ("cost_per_active_user", MONEY_TYPE),
    ("input_cost_per_million", MONEY_TYPE),
    ("cache_read_cost_per_million", MONEY_TYPE),
    ("cache_write_cost_per_million", MONEY_TYPE),
    ("output_cost_per_million", MONEY_TYPE),
    ("billed_share", pa.float64()),
    ("estimated_share", pa.float64()),
]

_UNIT_COST_DOCS = {
    "team": "Group key; NULL is its own group (requests without a team).",
    "active_users": "Distinct user_key values; requests without a user_key are not counted as a user.",
    "input_tokens_p50": "Approximate median of uncached input tokens per request (approx_percentile).",
    "input_tokens_p95": "Approximate 95th percentile of uncached input tokens per request.",
    "total_cost": "Sum of request_costs.cost of priced requests (billed plus estimated).",
    "billed_cost": "Part of total_cost from requests in billed state.",
    "estimated_cost": "Part of total_cost from requests in estimated state.",
    "unpriced_requests": "Requests in estimated state with no price; their cost is unknown and not in total_cost.",
    "cost_per_request": "total_cost / priced requests, rounded to 10 places.",
    "cost_per_active_user": "total_cost / active_users, rounded to 10 places; NULL without users.",
    "input_cost_per_million": "Input cost per million input tokens; NULL without such tokens.",
    "billed_share": "billed_cost / total_cost.",
    "estimated_share": "estimated_cost / total_cost.",
}

UNIT_COSTS_DAILY = TableSpec(
    name="unit_costs_daily",
    schema=pa.schema([("day", pa.date32()), *_UNIT_COST_COLUMNS]),
    partition_keys=PERIOD_PARTITION,
    row_meaning="Unit economics of one UTC day per team, feature, environment, model, inference profile and tenant.",
    column_docs={"day": "UTC day of the requests.", **_UNIT_COST_DOCS},
)

UNIT_COSTS_MONTHLY = TableSpec(
    name="unit_costs_monthly",
    schema=pa.schema(
        [
            *_UNIT_COST_COLUMNS,
            ("plan_price", MONEY_TYPE),
            ("cost_per_active_user_share_of_plan", pa.float64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning=(
        "Unit economics of one billing period per team, feature, environment, model, inference profile and tenant."
    ),
    column_docs={
        **_UNIT_COST_DOCS,
        "plan_price": "Monthly plan price of the feature from attribution.plan_prices; NULL without one.",
        "cost_per_active_user_share_of_plan": "cost_per_active_user / plan_price.",
    },
)

ATTRIBUTION_COVERAGE = TableSpec(
    name="attribution_coverage",
    schema=pa.schema(
        [
            ("cost_column", pa.string()),
            ("total_cost", MONEY_TYPE),
            ("credit_cost", MONEY_TYPE),
            ("spend", MONEY_TYPE),
            ("billed_request_cost", MONEY_TYPE),
            ("remainder_cost", MONEY_TYPE),
            ("estimated_request_cost", MONEY_TYPE),
            ("attributed_cost", MONEY_TYPE),
            ("attributable_percent", pa.float64()),
            ("request_count", pa.int64()),
            ("billed_requests", pa.int64()),
            ("estimated_requests", pa.int64()),
            ("unpriced_requests", pa.int64()),
            ("diverging_cells", pa.int64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="How much of one billing period's GenAI cost is attributed to a team, feature and environment.",
    column_docs={
        "total_cost": "GenAI total of cost_lines in the allocated column, credits included.",
        "credit_cost": "Credits and refunds (negative); never spread into usage.",
        "spend": "total_cost - credit_cost: spend before credits.",
        "billed_request_cost": (
            "Cost allocated to requests; billed_request_cost + remainder_cost + credit_cost = total_cost."
        ),
        "remainder_cost": "Cost no request received, credits excluded.",
        "estimated_request_cost": "Estimates of requests the bill has not reached yet; not part of total_cost.",
        "attributed_cost": "Part of spend with team, feature and environment all known (requests' keys or line tags).",
        "attributable_percent": "100 * attributed_cost / spend; NULL when spend is 0.",
        "diverging_cells": "Bill cells whose estimate differs from the billed cost by more than the tolerance.",
    },
)

UNATTRIBUTED_SOURCES = TableSpec(
    name="unattributed_sources",
    schema=pa.schema(
        [
            ("cost_rank", pa.int64()),
            ("source", pa.string()),
            ("reason", pa.string()),
            ("resource_id", pa.string()),
            ("principal", pa.string()),
            ("usage_type", pa.string()),
            ("model_id", pa.string()),
            ("cost", MONEY_TYPE),
            ("request_count", pa.int64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One of the largest sources of spend without team, feature and environment in a period.",
    column_docs={
        "cost_rank": "1 for the largest cost; at most attribution.unattributed_sources_limit rows.",
        "source": "requests (billed requests missing a key) or remainder (bill lines without full tags).",
        "reason": "Remainder reason, or missing_keys for requests.",
        "resource_id": "Inference profile of the requests, or the bill line's resource id.",
        "principal": "IAM principal of the requests or bill lines.",
        "usage_type": "Usage type of the bill lines; NULL for requests.",
        "request_count": "Requests in the group; NULL for remainder.",
    },
)

PLAN_COST_OUTLIERS = TableSpec(
    name="plan_cost_outliers",
    schema=pa.schema(
        [
            ("feature", pa.string()),
            ("user_key", pa.string()),
            ("request_count", pa.int64()),
            ("cost", MONEY_TYPE),
            ("plan_price", MONEY_TYPE),
            ("share_of_plan", pa.float64()),
            ("threshold_share", pa.float64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning=(
        "One user whose monthly GenAI cost in a feature exceeds the configured share of the feature's plan price."
    ),
    column_docs={
        "user_key": "Keyed hash of the end user (never the raw id).",
        "cost": "The user's cost in the feature for the period (billed plus estimated, priced requests).",
        "share_of_plan": "cost / plan_price.",
        "threshold_share": "attribution.plan_outlier_share at the time of the run.",
    },
)

ATTRIBUTION_TABLES = (
    MODEL_ALIASES,
    PRICE_CATALOG,
    ATTRIBUTION_BILL_LINES,
    ATTRIBUTION_USAGE_GROUPS,
    ATTRIBUTION_CELLS,
    ATTRIBUTION_GROUP_COSTS,
    REQUEST_COSTS,
    ATTRIBUTION_REMAINDER,
    UNIT_COSTS_DAILY,
    UNIT_COSTS_MONTHLY,
    ATTRIBUTION_COVERAGE,
    UNATTRIBUTED_SOURCES,
    PLAN_COST_OUTLIERS,
)

# -- governance: written by the monthly state machine and the daily budget check -------------------

FORECASTS = TableSpec(
    name="forecasts",
    schema=pa.schema(
        [
            ("run_id", pa.string()),
            ("made_at", UTC_TIMESTAMP),
            ("target_period", pa.string()),
            ("granularity", pa.string()),
            ("day", pa.date32()),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("scenario", pa.string()),
            ("method", pa.string()),
            ("active_users", pa.float64()),
            ("requests_per_user", pa.float64()),
            ("requests", pa.float64()),
            ("cost_per_request", MONEY_TYPE),
            ("cost", MONEY_TYPE),
            ("cost_low", MONEY_TYPE),
            ("cost_high", MONEY_TYPE),
            ("interval_level", pa.float64()),
            ("relative_error", pa.float64()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="Projected cost of one team and feature in one future month or day under one scenario, "
    "made from the actuals up to the partition's billing period.",
    column_docs={
        "billing_period": "Last billing period of the actuals the forecast was made from.",
        "target_period": "Forecast month (YYYY-MM).",
        "granularity": "month, or day for the daily split of the same month.",
        "day": "Forecast day; NULL for monthly rows.",
        "team": "Team of the feature; NULL when the cost has no team.",
        "feature": "Feature; NULL for cost with no feature (projected flat, method 'flat').",
        "scenario": "base (current cost per request), optimized (configured levers) or stress (volume multiplier).",
        "method": "bottom_up (cost per request x requests per user x users) or flat (last month repeated).",
        "active_users": "Projected distinct users in the month; NULL for daily and flat rows.",
        "requests_per_user": "Projected requests per active user in the month; NULL for daily and flat rows.",
        "requests": "Projected requests (daily rows: the month's requests split like the cost).",
        "cost_per_request": "Projected cost per request, after levers in the optimized scenario.",
        "cost": "Projected cost; daily rows of a month add up to the monthly row exactly.",
        "cost_low": "Lower bound of the prediction interval (never below 0).",
        "cost_high": "Upper bound of the prediction interval.",
        "interval_level": "Two-sided coverage the interval aims at (forecast.interval_level).",
        "relative_error": "Relative error used for the interval: mean absolute percentage error of earlier "
        "forecasts of the feature, else the month-to-month variation of its history, else the default.",
    },
)

FORECAST_ACCURACY = TableSpec(
    name="forecast_accuracy",
    schema=pa.schema(
        [
            ("forecast_period", pa.string()),
            ("forecast_run_id", pa.string()),
            ("months_ahead", pa.int64()),
            ("team", pa.string()),
            ("feature", pa.string()),
            ("scenario", pa.string()),
            ("forecast_cost", MONEY_TYPE),
            ("cost_low", MONEY_TYPE),
            ("cost_high", MONEY_TYPE),
            ("actual_cost", MONEY_TYPE),
            ("absolute_percentage_error", pa.float64()),
            ("within_interval", pa.bool_()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One earlier monthly forecast of the partition's billing period for one team, feature and "
    "scenario, compared with the actual cost.",
    column_docs={
        "billing_period": "The month that was forecast and now has actuals.",
        "forecast_period": "Billing period the forecast was made from (forecasts.billing_period).",
        "months_ahead": "Months between forecast_period and billing_period (1 = next month).",
        "actual_cost": "Actual cost of the team and feature in the month (0 when it had none).",
        "absolute_percentage_error": "|forecast_cost - actual_cost| / actual_cost; NULL when actual_cost is 0.",
        "within_interval": "True when actual_cost lies in [cost_low, cost_high].",
    },
)

SHOWBACK = TableSpec(
    name="showback",
    schema=pa.schema(
        [
            ("team", pa.string()),
            ("feature", pa.string()),
            ("direct_cost", MONEY_TYPE),
            ("untagged_cost", MONEY_TYPE),
            ("estimated_cost", MONEY_TYPE),
            ("shared_cost", MONEY_TYPE),
            ("credits_applied", MONEY_TYPE),
            ("net_cost", MONEY_TYPE),
            ("requests", pa.int64()),
            ("tokens", pa.int64()),
            ("active_users", pa.int64()),
            ("allocation_key", pa.string()),
            ("team_attributable_percent", pa.float64()),
            ("statement_mode", pa.string()),
            ("mode_reason", pa.string()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One team and feature's GenAI cost in a billing period: direct, shared allocation, credits and net.",
    column_docs={
        "team": "Team that receives the cost; NULL only for shared cost and credits left unallocated because "
        "no team has cost of its own in the period.",
        "feature": "Feature; NULL for the team's cost with no feature (its untagged remainder).",
        "direct_cost": "Cost of requests and bill lines with this team and feature, environment known.",
        "untagged_cost": "Cost with this team and feature but no environment, or with no feature (feature NULL row).",
        "estimated_cost": "Part of direct_cost and untagged_cost that is still an estimate (hours the bill has "
        "not reached).",
        "shared_cost": "The row's share of the period's shared cost under allocation_key; shares add up to the "
        "shared cost exactly.",
        "credits_applied": "The row's share of the period's Credit lines (negative), in proportion to its cost.",
        "net_cost": "direct_cost + untagged_cost + shared_cost + credits_applied.",
        "requests": "Requests of the team and feature in the period.",
        "tokens": "Input, cache and output tokens of those requests.",
        "active_users": "Distinct user_key values of those requests.",
        "allocation_key": "allocation.key that split the shared cost: even, fixed, requests, tokens, cost or "
        "active_users.",
        "team_attributable_percent": "100 x the team's direct_cost / the team's cost before credits.",
        "statement_mode": "chargeback or showback for the whole team.",
        "mode_reason": "Why the team is charged back or shown back (thresholds and values).",
    },
)

BUDGET_ACTIONS = TableSpec(
    name="budget_actions",
    schema=pa.schema(
        [
            ("action_id", pa.string()),
            ("environment", pa.string()),
            ("role_name", pa.string()),
            ("policy_name", pa.string()),
            ("cap_amount", MONEY_TYPE),
            ("spend", MONEY_TYPE),
            ("mode", pa.string()),
            ("state", pa.string()),
            ("applied_at", UTC_TIMESTAMP),
            ("lifted_at", UTC_TIMESTAMP),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One enforcement action of an environment cap on one IAM role in a billing period.",
    column_docs={
        "billing_period": "Period whose cap breach caused the action.",
        "action_id": "Stable id: period, environment and role.",
        "policy_name": "Name of the inline deny policy on the role.",
        "cap_amount": "The environment's monthly cap.",
        "spend": "Environment spend when the breach was found.",
        "mode": "enforced (policy attached) or dry_run (enforcement disabled; nothing changed in IAM).",
        "state": "applied, lifted, or dry_run.",
        "applied_at": "When the deny policy was attached (or the dry run recorded).",
        "lifted_at": "When the policy was removed at the start of a later period; NULL while applied.",
    },
)

GOVERNANCE_RUNS = TableSpec(
    name="governance_runs",
    schema=pa.schema(
        [
            ("started_at", UTC_TIMESTAMP),
            ("finished_at", UTC_TIMESTAMP),
            ("status", pa.string()),
            ("steps", STRING_MAP),
            ("error", pa.string()),
            ("error_cause", pa.string()),
        ]
    ),
    partition_keys=("billing_period", "run_id"),
    row_meaning="One execution of the monthly governance workflow for one billing period.",
    column_docs={
        "run_id": "State machine execution name (or the local run's id).",
        "status": "succeeded or failed.",
        "steps": "Step name to a short JSON summary of its result.",
        "error": "Error name of the failed step; NULL on success.",
        "error_cause": "Error message of the failed step; NULL on success.",
    },
)

MESSAGES_SENT = TableSpec(
    name="messages_sent",
    schema=pa.schema(
        [
            ("idempotency_key", pa.string()),
            ("kind", pa.string()),
            ("team", pa.string()),
            ("severity", pa.string()),
            ("subject", pa.string()),
            ("topic_arn", pa.string()),
            ("message_id", pa.string()),
            ("document_key", pa.string()),
            ("sent_at", UTC_TIMESTAMP),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One message sent to an owner for a billing period; a message with the same key is never sent twice.",
    column_docs={
        "idempotency_key": "Hash of kind, routed team, period and the message's subject matter.",
        "team": "Team the message was routed to (message attribute 'team').",
        "topic_arn": "SNS topic it was published to; NULL when only written to the local outbox.",
        "message_id": "SNS message id; NULL for the local outbox.",
        "document_key": "Outbox document holding the message (outbox/team=<team>/<period>/<kind>-<key>.json).",
    },
)

GOVERNANCE_TABLES = (FORECASTS, FORECAST_ACCURACY, SHOWBACK, BUDGET_ACTIONS, GOVERNANCE_RUNS, MESSAGES_SENT)


# -- anomaly detection: written by ``genai-finops detect`` (hourly on logs, daily on the bill) ---------

ANOMALY_CONTRIBUTOR = pa.struct(
    [
        ("dimension", pa.string()),
        ("value", pa.string()),
        ("observed_cost", MONEY_TYPE),
        ("change", MONEY_TYPE),
        ("share", pa.float64()),
    ]
)

ANOMALIES = TableSpec(
    name="anomalies",
    schema=pa.schema(
        [
            ("anomaly_id", pa.string()),
            ("kind", pa.string()),
            ("source", pa.string()),
            ("dimension", pa.string()),
            ("boundary_value", pa.string()),
            ("owner_team", pa.string()),
            ("state", pa.string()),
            ("opened_at", UTC_TIMESTAMP),
            ("last_anomalous_at", UTC_TIMESTAMP),
            ("closed_at", UTC_TIMESTAMP),
            ("detected_at", UTC_TIMESTAMP),
            ("updated_at", UTC_TIMESTAMP),
            ("window_start", UTC_TIMESTAMP),
            ("window_end", UTC_TIMESTAMP),
            ("expected_cost", MONEY_TYPE),
            ("observed_cost", MONEY_TYPE),
            ("impact", MONEY_TYPE),
            ("projected_day_impact", MONEY_TYPE),
            ("relative_change", pa.float64()),
            ("z_score", pa.float64()),
            ("volume_effect", MONEY_TYPE),
            ("input_tokens_effect", MONEY_TYPE),
            ("output_tokens_effect", MONEY_TYPE),
            ("rate_mix_effect", MONEY_TYPE),
            ("expected_requests", pa.float64()),
            ("observed_requests", pa.int64()),
            ("evidence", pa.string()),
            ("top_contributors", pa.list_(ANOMALY_CONTRIBUTOR)),
            ("also_visible_on", pa.list_(pa.string())),
            ("alerts_sent", pa.int64()),
            ("alerted_impact", MONEY_TYPE),
            ("billed_status", pa.string()),
            ("billed_impact", MONEY_TYPE),
            ("currency", pa.string()),
        ]
    ),
    partition_keys=PERIOD_PARTITION,
    row_meaning="One spend anomaly of one kind on one boundary, from the hour it opened until it closed, "
    "with its latest measurements.",
    column_docs={
        "billing_period": "Month (YYYY-MM, UTC) of opened_at; an anomaly stays in the partition it opened in.",
        "anomaly_id": "Stable id: hash of kind, source, dimension, boundary value and opened_at.",
        "kind": "spend, cache_write_without_read, token_ratio, model_drift, new_principal, retry_storm, "
        "nonprod_frontier (hourly, invocation logs) or billed_spend (daily, cost_lines).",
        "source": "hourly_logs (estimated cost of invocations) or daily_bill (billed cost of cost_lines).",
        "dimension": "Boundary: organisation, team, feature, environment, model, inference_profile, principal "
        "or feature_environment_model (feature | environment | model).",
        "boundary_value": "Value of the boundary ('(none)' for requests without the key, 'all' for organisation).",
        "owner_team": "Team the alerts are routed to: the boundary's team, else the team with most of its cost.",
        "state": "open while the series stays above its baseline, closed after anomalies.close_after_hours "
        "hours back at the baseline.",
        "opened_at": "Start of the first anomalous hour (or day for billed_spend).",
        "last_anomalous_at": "Start of the latest hour (or day) that was above the baseline.",
        "closed_at": "End of the last anomalous hour when the anomaly closed; NULL while open.",
        "detected_at": "End of the hour (or day) whose data opened the anomaly: the earliest time a run could alert.",
        "updated_at": "When a run last changed the row.",
        "window_start": "Start of the measured window (opened_at).",
        "window_end": "End (exclusive) of the measured window: the end of the last hour evaluated.",
        "expected_cost": "Baseline cost of the window.",
        "observed_cost": "Observed cost of the window.",
        "impact": "observed_cost - expected_cost over the window: the dollar impact so far.",
        "projected_day_impact": "impact plus the latest hour's excess for each hour left in the UTC day.",
        "relative_change": "observed_cost / expected_cost - 1; NULL when expected_cost is 0.",
        "z_score": "Largest robust z-score of one hour in the window (excess / scaled MAD of the series).",
        "volume_effect": "Part of impact due to the number of requests, at the baseline cost per request.",
        "input_tokens_effect": "Part due to input tokens per request (uncached, cache read and cache write), at "
        "baseline prices.",
        "output_tokens_effect": "Part due to output tokens per request, at baseline prices.",
        "rate_mix_effect": "The rest: prices and model or tier mix. The four effects add up to impact exactly.",
        "expected_requests": "Baseline requests of the window (NULL for billed_spend).",
        "observed_requests": "Requests of the window (NULL for billed_spend).",
        "evidence": "What the detector measured, in words (for example the cache read to write ratio).",
        "top_contributors": "Largest contributors to the change below the boundary (profile, principal, model) "
        "with their observed cost, change and share of impact.",
        "also_visible_on": "Broader boundaries whose excess this anomaly explains (dimension=value).",
        "alerts_sent": "Alerts sent for the anomaly (the first one and each update).",
        "alerted_impact": "Impact stated in the latest alert.",
        "billed_status": "For hourly anomalies once the bill covers their day: confirmed (billed spend of the "
        "boundary is also above its baseline) or revised (it is not); NULL before.",
        "billed_impact": "Billed excess of the boundary on the anomaly's first day when billed_status is set.",
        "currency": "Currency of every amount.",
    },
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        COST_LINES,
        BILL_SUMMARY,
        INVOCATIONS,
        INFERENCE_PROFILES,
        INGEST_RUNS,
        *ATTRIBUTION_TABLES,
        *GOVERNANCE_TABLES,
        ANOMALIES,
    )
}


def get_table(name: str) -> TableSpec:
    """Return the spec of a registered table, or raise KeyError naming the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None
