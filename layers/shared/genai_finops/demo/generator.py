"""Generate a realistic organisation's AWS billing export and Bedrock invocation logs.

The output uses the delivery layouts AWS uses, under ``OUT/s3/<bucket>/...``:

- a CUR 2.0 export: ``cur2/org-cur2-hourly/data/BILLING_PERIOD=YYYY-MM/*.snappy.parquet`` with
  ``metadata/BILLING_PERIOD=YYYY-MM/org-cur2-hourly-Manifest.json``, hourly lines;
- an earlier, partial delivery of the last month under ``OUT/s3-earlier/`` that the final delivery restates;
- invocation logs: ``AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<time>_<hex>.json.gz``
  with prompt and response bodies that the pipeline must discard, a permission-check marker and a
  ``data/`` side object.

The bill is built from the requests, so each bill cell's tokens equal the logged tokens of its requests.
The deliberate gaps are a region with logging off, ``bedrock-mantle`` traffic, a shared guardrail, tagged
vector store and Lambda cost, untagged spend, credits and tax.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .organisation import (
    ACCOUNTS,
    BATCH_DISCOUNT,
    ENVIRONMENT_SHARE,
    FEATURES,
    LOGGED_REGIONS,
    MODELS,
    PAYER_ACCOUNT,
    REGION_PREFIX,
    Feature,
    Incident,
    default_incidents,
)

EXPORT_NAME = "org-cur2-hourly"
BILLING_BUCKET = "demo-billing-exports"
LOG_BUCKET = "demo-bedrock-logs"
EDP_DISCOUNT = Decimal("0.05")
USER_ID_KEY = "user_id"
DIURNAL = np.array([2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 8, 8, 9, 9, 8, 7, 6, 5, 4, 3, 3, 2], dtype=float)
WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.45, 0.4])
PROMPTS = (
    "Summarise the attached support ticket and suggest a reply to the customer.",
    "Classify this transaction description into one of the merchant categories.",
    "Answer the question using only the retrieved passages below.",
    "Draft a weekly digest of the account activity for the customer.",
)


@dataclass(frozen=True)
class GeneratedData:
    """Output locations of one generator run and the file of expected totals."""

    root: Path
    billing_root: Path
    earlier_billing_root: Path
    logs_root: Path
    config_file: Path
    profiles_file: Path
    expected_file: Path
    periods: tuple[str, ...]


def last_full_month_end(today: dt.date) -> dt.date:
    """Return the last day of the month before ``today``."""
    return today.replace(day=1) - dt.timedelta(days=1)


def profile_arn(feature: Feature, environment: str) -> str:
    """Return the application inference profile ARN of a feature in an environment."""
    digest = hashlib.sha256(f"{feature.name}/{environment}".encode()).hexdigest()[:12]
    return f"arn:aws:bedrock:{feature.region}:{ACCOUNTS[environment]}:application-inference-profile/{digest}"


def role_name(feature: Feature, environment: str) -> str:
    """Return the IAM role a feature's service runs as."""
    return f"{feature.name}-{environment}"


# -- requests ---------------------------------------------------------------------------------------


def _feature_requests(
    rng: np.random.Generator, feature: Feature, environment: str, start: dt.date, days: int, scale: float
) -> dict[str, np.ndarray]:
    day_index = np.arange(days)
    weekdays = np.array([(start + dt.timedelta(days=int(d))).weekday() for d in day_index])
    growth = (1 + feature.user_growth_per_day) ** day_index
    expected = feature.prod_requests_per_day * ENVIRONMENT_SHARE[environment] * scale * growth * WEEKDAY[weekdays]
    if environment != "prod":
        expected = feature.prod_requests_per_day * ENVIRONMENT_SHARE[environment] * scale * np.ones(days)
    counts = rng.poisson(expected)
    total = int(counts.sum())
    day = np.repeat(day_index, counts)
    hour = rng.choice(24, size=total, p=DIURNAL / DIURNAL.sum())
    second = rng.integers(0, 3600, size=total)
    users_today = np.maximum(1, (feature.users_at_start * growth * (0.05 if environment != "prod" else 1)).astype(int))
    user = (rng.random(total) ** 1.6 * users_today[day]).astype(int)
    prompt = np.maximum(50, rng.lognormal(np.log(feature.input_tokens), 0.35, total)).astype(np.int64)
    output = np.maximum(0, rng.lognormal(np.log(max(feature.output_tokens, 1)), 0.45, total)).astype(np.int64)
    if feature.output_tokens == 0:
        output = np.zeros(total, dtype=np.int64)
    return {
        "day": day,
        "hour": hour,
        "second": second,
        "user": user,
        "prompt": prompt,
        "output": output,
        "cache_read_share": np.full(total, feature.cache_read_share),
        "cache_write_share": np.full(total, feature.cache_write_share),
        "error": np.zeros(total, dtype=bool),
        "model": np.full(total, feature.model, dtype=object),
    }


def _apply_incident(
    rng: np.random.Generator, incident: Incident, feature: Feature, columns: dict[str, np.ndarray], scale: float
) -> dict[str, np.ndarray]:
    in_window = (columns["day"] * 24 + columns["hour"] >= incident.start_day * 24 + incident.start_hour) & (
        columns["day"] * 24 + columns["hour"] < incident.start_day * 24 + incident.start_hour + incident.hours
    )
    if incident.kind == "cache_write_storm":
        columns["cache_write_share"] = np.where(
            in_window, incident.extra["cache_write_share"], columns["cache_write_share"]
        )
        columns["cache_read_share"] = np.where(
            in_window, incident.extra["cache_read_share"], columns["cache_read_share"]
        )
        return columns
    if incident.kind == "frontier_model_in_dev":
        count = max(1, int(incident.extra["requests_per_hour"] * incident.hours * scale))
        extra_hours = incident.start_day * 24 + incident.start_hour + rng.integers(0, incident.hours, count)
        added = {
            "day": extra_hours // 24,
            "hour": extra_hours % 24,
            "second": rng.integers(0, 3600, count),
            "user": rng.integers(0, 3, count),
            "prompt": np.maximum(50, rng.lognormal(np.log(feature.input_tokens * 4), 0.2, count)).astype(np.int64),
            "output": np.maximum(1, rng.lognormal(np.log(400), 0.2, count)).astype(np.int64),
            "cache_read_share": np.zeros(count),
            "cache_write_share": np.zeros(count),
            "error": np.zeros(count, dtype=bool),
            "model": np.full(count, incident.model, dtype=object),
        }
        return {key: np.concatenate([columns[key], added[key]]) for key in columns}
    if incident.kind == "retry_storm":
        base = np.flatnonzero(in_window)
        if len(base) == 0:
            base = np.arange(len(columns["day"]))
        # At least a visible burst even at small scales: retries repeat requests of the window.
        copies = max(int(len(base) * (incident.extra["request_multiplier"] - 1)), 40)
        picked = rng.choice(base, size=copies)
        added = {key: value[picked] for key, value in columns.items()}
        retry_hours = incident.start_day * 24 + incident.start_hour + rng.integers(0, incident.hours, copies)
        added["day"] = retry_hours // 24
        added["hour"] = retry_hours % 24
        added["second"] = rng.integers(0, 3600, copies)
        added["error"] = rng.random(copies) < incident.extra["error_share"]
        return {key: np.concatenate([columns[key], added[key]]) for key in columns}
    raise ValueError(f"unknown incident kind {incident.kind!r}")


def build_requests(start: dt.date, days: int, scale: float, seed: int, incidents: tuple[Incident, ...]) -> pa.Table:
    """Build one row per request for the whole period, vectorised per feature and environment."""
    rng = np.random.default_rng(seed)
    parts = []
    for feature in FEATURES:
        for environment in feature.environments:
            columns = _feature_requests(rng, feature, environment, start, days, scale)
            for incident in incidents:
                if incident.feature == feature.name and incident.environment == environment:
                    columns = _apply_incident(rng, incident, feature, columns, scale)
            total = len(columns["day"])
            if total == 0:
                continue
            cache_read = (columns["prompt"] * columns["cache_read_share"]).astype(np.int64)
            cache_write = (columns["prompt"] * columns["cache_write_share"]).astype(np.int64)
            if MODELS[feature.model].cache_read_rate is None:
                cache_read[:] = 0
                cache_write[:] = 0
            error = columns["error"]
            timestamps = (
                np.datetime64(start.isoformat(), "s")
                + columns["day"].astype("timedelta64[D]")
                + columns["hour"].astype("timedelta64[h]")
                + columns["second"].astype("timedelta64[s]")
            )
            parts.append(
                pa.table(
                    {
                        "timestamp": pa.array(timestamps.astype("datetime64[s]"), pa.timestamp("s", tz="UTC")),
                        "feature": [feature.name] * total,
                        "environment": [environment] * total,
                        "model_key": columns["model"].tolist(),
                        "user": columns["user"],
                        "input_tokens": np.where(error, 0, columns["prompt"] - cache_read - cache_write),
                        "cache_read_tokens": np.where(error, 0, cache_read),
                        "cache_write_tokens": np.where(error, 0, cache_write),
                        "output_tokens": np.where(error, 0, columns["output"]),
                        "error": error,
                    }
                )
            )
    table = pa.concat_tables(parts).sort_by("timestamp")
    ids = [hashlib.md5(f"{seed}-{i}".encode(), usedforsecurity=False).hexdigest() for i in range(table.num_rows)]
    request_ids = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" for h in ids]
    return table.append_column("request_id", pa.array(request_ids))


# -- request context --------------------------------------------------------------------------------

SYSTEM_PROFILE_SHARE = 0.1  # share of chat-assistant prod calls that use a system profile directly
GEO_REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def _context_table() -> pa.Table:
    """Build one row per feature and environment with its account, region, route, tier, profile and principal."""
    rows = []
    for feature in FEATURES:
        for environment in feature.environments:
            account = ACCOUNTS[environment]
            role = role_name(feature, environment)
            direct = feature.name == "embeddings-pipeline"
            rows.append(
                {
                    "feature": feature.name,
                    "environment": environment,
                    "team": feature.team,
                    "account_id": account,
                    "region": feature.region,
                    "route": feature.route,
                    "tier": "batch" if feature.batch else "standard",
                    "profile_arn": None if direct else profile_arn(feature, environment),
                    "principal": f"arn:aws:sts::{account}:assumed-role/{role}/{role}-worker",
                }
            )
    return pa.Table.from_pylist(rows)


def add_context(requests: pa.Table, seed: int) -> pa.Table:
    """Join each request with its feature's account, region, route, profile and principal."""
    table = requests.join(_context_table(), keys=["feature", "environment"], join_type="left outer")
    rng = np.random.default_rng(seed + 1)
    # Some chat-assistant prod calls go straight to a geographic system profile, with no application profile.
    direct_system = (
        (pc.equal(table["feature"], "chat-assistant").to_numpy(zero_copy_only=False))
        & (pc.equal(table["environment"], "prod").to_numpy(zero_copy_only=False))
        & (rng.random(table.num_rows) < SYSTEM_PROFILE_SHARE)
    )
    # Calls to another model than the feature's own (the dev load test) bypass its application profile,
    # because a profile is bound to one model.
    own_model = {feature.name: feature.model for feature in FEATURES}
    default_models = pa.array([own_model[name] for name in table["feature"].to_pylist()])
    direct_system |= pc.not_equal(table["model_key"], default_models).to_numpy(zero_copy_only=False)
    profiles = np.array(table["profile_arn"].to_pylist(), dtype=object)
    profiles[direct_system] = None
    routes = np.array(table["route"].to_pylist(), dtype=object)
    routes[direct_system] = "geo"
    table = table.set_column(
        table.schema.get_field_index("profile_arn"), "profile_arn", pa.array(profiles, pa.string())
    )
    table = table.set_column(table.schema.get_field_index("route"), "route", pa.array(routes, pa.string()))
    return table.append_column("system_profile", pa.array(direct_system))


# -- the bill ---------------------------------------------------------------------------------------

TOKEN_CLASSES = ("input", "output", "cache_read", "cache_write")
FIRST_PARTY_SUFFIX = {
    "input": "input-tokens",
    "output": "output-tokens",
    "cache_read": "cache-read-input-token-count",
    "cache_write": "cache-write-input-token-count",
}
MARKETPLACE_SUFFIX = {"input": "InputTokenCount", "output": "OutputTokenCount"}
MARKETPLACE_PRODUCT_CODE = "c3hkmpbedrock7x2q9"


def usage_type_for(model_key: str, region: str, token_class: str, tier: str, route: str) -> tuple[str, str]:
    """Return the CUR usage type and pricing unit of a token class of a model, as Bedrock bills it."""
    model = MODELS[model_key]
    prefix = REGION_PREFIX[region]
    if model.marketplace:
        suffix = MARKETPLACE_SUFFIX[token_class] + ("_Global" if route == "global" else "")
        return f"{prefix}-MP:{prefix}_{suffix}-Units", "Units"
    usage = f"{prefix}-{model.bill_name}-{FIRST_PARTY_SUFFIX[token_class]}"
    if tier == "batch":
        usage += "-batch"
    elif route == "global":
        usage += "-cross-region-global"
    return usage, "1K tokens"


def rate_for(model_key: str, token_class: str, tier: str) -> Decimal:
    """Return the synthetic rate per million tokens of a token class."""
    model = MODELS[model_key]
    rate = {
        "input": model.input_rate,
        "output": model.output_rate,
        "cache_read": model.cache_read_rate,
        "cache_write": model.cache_write_rate,
    }[token_class]
    if rate is None:
        raise ValueError(f"model {model_key} has no {token_class} rate")
    return rate * BATCH_DISCOUNT if tier == "batch" else rate


def _model_cells(requests: pa.Table) -> Iterator[dict[str, Any]]:
    """Aggregate successful requests into hourly bill cells, one line per token class."""
    hour = pc.floor_temporal(requests["timestamp"], unit="hour")
    table = requests.append_column("hour", hour)
    keys = [
        "hour",
        "account_id",
        "region",
        "model_key",
        "tier",
        "route",
        "profile_arn",
        "principal",
        "feature",
        "environment",
        "team",
    ]
    grouped = table.group_by(keys, use_threads=False).aggregate([(f"{name}_tokens", "sum") for name in TOKEN_CLASSES])
    for row in grouped.to_pylist():
        for token_class in TOKEN_CLASSES:
            tokens = int(row[f"{token_class}_tokens_sum"] or 0)
            if tokens == 0:
                continue
            usage_type, unit = usage_type_for(row["model_key"], row["region"], token_class, row["tier"], row["route"])
            model = MODELS[row["model_key"]]
            cost = (rate_for(row["model_key"], token_class, row["tier"]) * tokens / 1_000_000).quantize(
                Decimal("1e-10")
            )
            tags = {}
            if row["profile_arn"] is not None or row["tier"] == "batch":
                tags = {
                    "user_team": row["team"],
                    "user_feature": row["feature"],
                    "user_environment": row["environment"],
                }
            yield {
                "start": row["hour"],
                "hours": 1,
                "account": row["account_id"],
                "region": row["region"],
                "usage_type": usage_type,
                "pricing_unit": unit,
                "amount": tokens / (1_000 if unit == "1K tokens" else 1_000_000),
                "cost": cost,
                "product_code": MARKETPLACE_PRODUCT_CODE if model.marketplace else "AmazonBedrock",
                "product_name": model.marketplace_product or "Amazon Bedrock",
                "billing_entity": "AWS Marketplace" if model.marketplace else "AWS",
                "resource_id": row["profile_arn"] or "",
                "principal": row["principal"],
                "tags": tags,
                "principal_tags": {"iamPrincipal/team": row["team"]},
                "line_item_type": "Usage",
            }


def _daily_lines(start: dt.date, days: int, rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """Yield bill lines with no logged requests behind them, one per day each."""
    for offset in range(days):
        day = dt.datetime.combine(start + dt.timedelta(days=offset), dt.time(), tzinfo=dt.UTC)
        noise = Decimal(str(round(float(rng.uniform(0.85, 1.15)), 4)))
        specs = [
            # Logging is off in us-west-2: tagged cost with no requests.
            (
                "USW2-NovaLite-input-tokens",
                "1K tokens",
                41_000.0,
                Decimal("2.46"),
                "AmazonBedrock",
                "us-west-2",
                {"user_team": "risk", "user_feature": "classifier", "user_environment": "prod"},
            ),
            (
                "USW2-NovaLite-output-tokens",
                "1K tokens",
                2_100.0,
                Decimal("0.504"),
                "AmazonBedrock",
                "us-west-2",
                {"user_team": "risk", "user_feature": "classifier", "user_environment": "prod"},
            ),
            # OpenAI-compatible bedrock-mantle endpoint: not in invocation logs.
            (
                "USE1-openai.gpt-oss-120b-mantle-input-tokens-standard",
                "1K tokens",
                9_000.0,
                Decimal("1.35"),
                "AmazonBedrock",
                "us-east-1",
                {"user_team": "growth", "user_feature": "agent", "user_environment": "prod"},
            ),
            (
                "USE1-openai.gpt-oss-120b-mantle-output-tokens-standard",
                "1K tokens",
                1_500.0,
                Decimal("0.90"),
                "AmazonBedrock",
                "us-east-1",
                {"user_team": "growth", "user_feature": "agent", "user_environment": "prod"},
            ),
            # A guardrail shared by every feature, untagged.
            (
                "USE1-Guardrail-ContentPolicyTextUnits",
                "1K text units",
                2_400.0,
                Decimal("1.80"),
                "AmazonBedrock",
                "us-east-1",
                {},
            ),
            # GenAI-adjacent cost, attributed by the feature tag.
            (
                "USE1-SearchOCU",
                "OCU-hours",
                48.0,
                Decimal("11.52"),
                "AmazonOpenSearchService",
                "us-east-1",
                {"user_team": "support", "user_feature": "rag-answer", "user_environment": "prod"},
            ),
            (
                "USE1-Lambda-GB-Second-ARM",
                "Lambda-GB-Second",
                190_000.0,
                Decimal("2.53"),
                "AWSLambda",
                "us-east-1",
                {"user_team": "platform", "user_feature": "embeddings-pipeline", "user_environment": "prod"},
            ),
            # Out of GenAI scope.
            (
                "USE1-BoxUsage:m6i.large",
                "Hrs",
                72.0,
                Decimal("6.912"),
                "AmazonEC2",
                "us-east-1",
                {"user_team": "platform"},
            ),
            ("USE1-TimedStorage-ByteHrs", "GB-Mo", 310.0, Decimal("7.13"), "AmazonS3", "us-east-1", {}),
        ]
        for usage_type, unit, amount, cost, product, region, tags in specs:
            yield {
                "start": day,
                "hours": 24,
                "account": ACCOUNTS["prod"],
                "region": region,
                "usage_type": usage_type,
                "pricing_unit": unit,
                "amount": amount * float(noise),
                "cost": (cost * noise).quantize(Decimal("1e-10")),
                "product_code": product,
                "product_name": {"AmazonBedrock": "Amazon Bedrock"}.get(product, product),
                "billing_entity": "AWS",
                "resource_id": "",
                "principal": "",
                "tags": tags,
                "principal_tags": {},
                "line_item_type": "Usage",
            }


def _monthly_lines(period_start: dt.date, genai_cost: Decimal) -> Iterator[dict[str, Any]]:
    """Yield a credit that covers part of the month's Bedrock spend, and the month's tax."""
    start = dt.datetime.combine(period_start, dt.time(), tzinfo=dt.UTC)
    common = {
        "start": start,
        "hours": 24,
        "account": ACCOUNTS["prod"],
        "region": "us-east-1",
        "pricing_unit": "",
        "amount": 0.0,
        "product_code": "AmazonBedrock",
        "product_name": "Amazon Bedrock",
        "billing_entity": "AWS",
        "resource_id": "",
        "principal": "",
        "tags": {},
        "principal_tags": {},
    }
    yield {
        **common,
        "usage_type": "",
        "line_item_type": "Credit",
        "cost": -(genai_cost * Decimal("0.2")).quantize(Decimal("0.01")),
    }
    yield {
        **common,
        "usage_type": "",
        "line_item_type": "Tax",
        "cost": (genai_cost * Decimal("0.06")).quantize(Decimal("0.01")),
    }


# -- writing the CUR 2.0 export ---------------------------------------------------------------------

STRING_MAP = pa.map_(pa.string(), pa.string())
CUR2_SCHEMA = pa.schema(
    [
        ("identity_line_item_id", pa.string()),
        ("identity_time_interval", pa.string()),
        ("bill_bill_type", pa.string()),
        ("bill_billing_entity", pa.string()),
        ("bill_billing_period_start_date", pa.timestamp("ms")),
        ("bill_billing_period_end_date", pa.timestamp("ms")),
        ("bill_invoice_id", pa.string()),
        ("bill_payer_account_id", pa.string()),
        ("bill_payer_account_name", pa.string()),
        ("line_item_line_item_type", pa.string()),
        ("line_item_usage_account_id", pa.string()),
        ("line_item_usage_account_name", pa.string()),
        ("line_item_usage_start_date", pa.timestamp("ms")),
        ("line_item_usage_end_date", pa.timestamp("ms")),
        ("line_item_product_code", pa.string()),
        ("line_item_usage_type", pa.string()),
        ("line_item_operation", pa.string()),
        ("line_item_resource_id", pa.string()),
        ("line_item_usage_amount", pa.float64()),
        ("line_item_currency_code", pa.string()),
        ("line_item_unblended_cost", pa.float64()),
        ("line_item_net_unblended_cost", pa.float64()),
        ("line_item_line_item_description", pa.string()),
        ("line_item_iam_principal", pa.string()),
        ("pricing_unit", pa.string()),
        ("product_region_code", pa.string()),
        ("product_servicecode", pa.string()),
        ("product", STRING_MAP),
        ("discount", pa.map_(pa.string(), pa.float64())),
        ("discount_total_discount", pa.float64()),
        ("resource_tags", STRING_MAP),
        ("tags", STRING_MAP),
        ("cost_category", STRING_MAP),
        ("savings_plan_savings_plan_effective_cost", pa.float64()),
        ("reservation_effective_cost", pa.float64()),
    ]
)


def _cur2_table(lines: list[dict[str, Any]], period_start: dt.date, period_end: dt.date, final: bool) -> pa.Table:
    def column(name: str) -> list[Any]:
        return [line[name] for line in lines]

    starts = column("start")
    ends = [start + dt.timedelta(hours=int(line["hours"])) for start, line in zip(starts, lines, strict=True)]
    costs = [Decimal(str(cost)) for cost in column("cost")]
    discounts = [
        -(cost * EDP_DISCOUNT) if line["line_item_type"] == "Usage" else Decimal(0)
        for cost, line in zip(costs, lines, strict=True)
    ]
    names = {ACCOUNTS[env]: f"genai-{env}" for env in ACCOUNTS}
    period_start_ts = dt.datetime.combine(period_start, dt.time())
    period_end_ts = dt.datetime.combine(period_end, dt.time())
    return pa.table(
        {
            "identity_line_item_id": [
                hashlib.sha1(f"{i}-{line['usage_type']}-{line['start']}".encode(), usedforsecurity=False).hexdigest()[
                    :26
                ]
                for i, line in enumerate(lines)
            ],
            "identity_time_interval": [
                f"{s:%Y-%m-%dT%H:%M:%SZ}/{e:%Y-%m-%dT%H:%M:%SZ}" for s, e in zip(starts, ends, strict=True)
            ],
            "bill_bill_type": ["Anniversary"] * len(lines),
            "bill_billing_entity": column("billing_entity"),
            "bill_billing_period_start_date": [period_start_ts] * len(lines),
            "bill_billing_period_end_date": [period_end_ts] * len(lines),
            "bill_invoice_id": [("INV-" + period_start.strftime("%Y%m")) if final else ""] * len(lines),
            "bill_payer_account_id": [PAYER_ACCOUNT] * len(lines),
            "bill_payer_account_name": ["genai-org-payer"] * len(lines),
            "line_item_line_item_type": column("line_item_type"),
            "line_item_usage_account_id": column("account"),
            "line_item_usage_account_name": [names[a] for a in column("account")],
            "line_item_usage_start_date": [s.replace(tzinfo=None) for s in starts],
            "line_item_usage_end_date": [e.replace(tzinfo=None) for e in ends],
            "line_item_product_code": column("product_code"),
            "line_item_usage_type": column("usage_type"),
            "line_item_operation": [
                "InvokeModelInference" if line["product_code"] != "AmazonEC2" else "RunInstances" for line in lines
            ],
            "line_item_resource_id": column("resource_id"),
            "line_item_usage_amount": column("amount"),
            "line_item_currency_code": ["USD"] * len(lines),
            "line_item_unblended_cost": [float(c) for c in costs],
            "line_item_net_unblended_cost": [float(c + d) for c, d in zip(costs, discounts, strict=True)],
            "line_item_line_item_description": [f"{line['product_name']} {line['usage_type']}" for line in lines],
            "line_item_iam_principal": column("principal"),
            "pricing_unit": column("pricing_unit"),
            "product_region_code": column("region"),
            "product_servicecode": column("product_code"),
            "product": [{"product_name": line["product_name"], "region": line["region"]} for line in lines],
            "discount": [{"edp_discount": float(d)} if d else {} for d in discounts],
            "discount_total_discount": [float(d) for d in discounts],
            "resource_tags": column("tags"),
            "tags": column("principal_tags"),
            "cost_category": [{} for _ in lines],
            "savings_plan_savings_plan_effective_cost": [0.0] * len(lines),
            "reservation_effective_cost": [0.0] * len(lines),
        },
        schema=CUR2_SCHEMA,
    )


def _write_delivery(root: Path, period: str, table: pa.Table, execution_id: str, delivered_at: dt.datetime) -> None:
    export_root = root / BILLING_BUCKET / "cur2" / EXPORT_NAME
    data_dir = export_root / "data" / f"BILLING_PERIOD={period}"
    metadata_dir = export_root / "metadata" / f"BILLING_PERIOD={period}"
    data_dir.mkdir(parents=True, exist_ok=True)
    metadata_dir.mkdir(parents=True, exist_ok=True)
    part = data_dir / f"{EXPORT_NAME}-00001.snappy.parquet"
    pq.write_table(table, part, compression="snappy", row_group_size=100_000)
    manifest = {
        "executionId": execution_id,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER_ACCOUNT}:export/{EXPORT_NAME}-0b1c2d3e",
        "columns": [{"name": field.name, "type": str(field.type)} for field in table.schema],
        "dataFiles": [f"s3://{BILLING_BUCKET}/cur2/{EXPORT_NAME}/data/BILLING_PERIOD={period}/{part.name}"],
        "additionalOutputFiles": [],
    }
    (metadata_dir / f"{EXPORT_NAME}-Manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (metadata_dir / f"{EXPORT_NAME}-Metadata.json").write_text(
        json.dumps({"exportName": EXPORT_NAME, "billingPeriod": period}), encoding="utf-8"
    )
    # File times stand in for S3 LastModified, which orders deliveries of the same period.
    timestamp = delivered_at.timestamp()
    for path in (part, *metadata_dir.iterdir()):
        os.utime(path, (timestamp, timestamp))


# -- writing invocation logs ------------------------------------------------------------------------

METADATA_STYLE = {
    # Which request-metadata keys each feature's service sets: some set the standard keys, some an
    # alias, and some none at all, so that profile tags and principal mappings are exercised too.
    "chat-assistant": ("feature", "team", "environment", "tenant", "user"),
    "rag-answer": ("feature", "user"),
    "summarizer": ("app", "user"),
    "agent": ("feature", "team", "user", "tenant"),
    "classifier": (),
    "embeddings-pipeline": (),
}
TENANTS = ("acme", "globex", "initech", "umbrella")


def _log_record(row: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    model = MODELS[str(row["model_key"])]
    if row["profile_arn"]:
        model_id = str(row["profile_arn"])
    elif row["system_profile"]:
        model_id = f"us.{model.model_id}"
    else:
        model_id = model.model_id
    metadata: dict[str, str] = {}
    for key in METADATA_STYLE.get(str(row["feature"]), ()):
        if key == "user":
            metadata[USER_ID_KEY] = f"{row['feature']}-user-{row['user']:05d}"
        elif key == "tenant":
            metadata["tenant"] = TENANTS[int(row["user"]) % len(TENANTS)]
        elif key == "app":
            metadata["app"] = str(row["feature"])
        else:
            metadata[key] = str(row[key])
    streaming = row["feature"] == "chat-assistant"
    prompt = PROMPTS[int(row["user"]) % len(PROMPTS)]
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": f"{row['timestamp']:%Y-%m-%dT%H:%M:%SZ}",
        "accountId": row["account_id"],
        "identity": {"arn": row["principal"]},
        "region": row["region"],
        "requestId": row["request_id"],
        "operation": "ConverseStream" if streaming else "Converse",
        "modelId": model_id,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "messages": [{"role": "user", "content": [{"text": f"{prompt} Customer record {row['user']}."}]}]
            },
            "inputTokenCount": row["input_tokens"],
            "cacheReadInputTokenCount": row["cache_read_tokens"],
            "cacheWriteInputTokenCount": row["cache_write_tokens"],
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": (
                [
                    {"contentBlockDelta": {"delta": {"text": "Here is a draft reply"}}},
                    {"metadata": {"usage": {"outputTokens": row["output_tokens"]}}},
                    "[DONE]",
                ]
                if streaming
                else {
                    "output": {"message": {"role": "assistant", "content": [{"text": "Here is the answer."}]}},
                    "usage": {"outputTokens": row["output_tokens"]},
                }
            ),
            "outputTokenCount": row["output_tokens"],
        },
    }
    if metadata:
        record["requestMetadata"] = metadata
    if row["route"] in ("geo", "global"):
        record["inferenceRegion"] = str(rng.choice(GEO_REGIONS)) if row["route"] == "geo" else "eu-central-1"
    if row["error"]:
        record["errorCode"] = "ThrottlingException"
        record["output"] = {"outputContentType": "application/json", "outputTokenCount": 0}
    return record


def write_logs(requests: pa.Table, root: Path, seed: int) -> int:
    """Write gzip NDJSON log objects, one per account, region and hour; return the number of records."""
    rng = np.random.default_rng(seed + 2)
    logged = requests.filter(pc.equal(requests["tier"], "standard"))
    logged = logged.filter(pc.is_in(logged["region"], pa.array(LOGGED_REGIONS)))
    hour = pc.floor_temporal(logged["timestamp"], unit="hour")
    logged = logged.append_column("hour", hour).sort_by(
        [("account_id", "ascending"), ("region", "ascending"), ("hour", "ascending"), ("timestamp", "ascending")]
    )
    records = 0
    current: tuple[Any, ...] | None = None
    buffer: list[str] = []

    def flush(key: tuple[Any, ...] | None) -> None:
        if key is None or not buffer:
            return
        account, region, when = key
        folder = (
            root
            / LOG_BUCKET
            / "AWSLogs"
            / str(account)
            / "BedrockModelInvocationLogs"
            / str(region)
            / f"{when:%Y/%m/%d/%H}"
        )
        folder.mkdir(parents=True, exist_ok=True)
        suffix = hashlib.sha256(f"{account}{region}{when}".encode()).hexdigest()[:16]
        with gzip.open(
            folder / f"{when:%Y%m%dT%H%M%S}000Z_{suffix}.json.gz", "wt", encoding="utf-8", compresslevel=1
        ) as handle:
            handle.write("\n".join(buffer) + "\n")
        buffer.clear()

    for row in logged.to_pylist():
        key = (row["account_id"], row["region"], row["hour"])
        if key != current:
            flush(current)
            current = key
        record = _log_record(row, rng)
        if record["operation"] == "ConverseStream" and rng.random() < 0.03:
            # Streaming calls sometimes log a zero-count record first under the same request id.
            early = json.loads(json.dumps(record))
            early["input"]["inputTokenCount"] = 0
            early["input"]["cacheReadInputTokenCount"] = 0
            early["input"]["cacheWriteInputTokenCount"] = 0
            early["output"]["outputTokenCount"] = 0
            buffer.append(json.dumps(early, separators=(",", ":")))
        buffer.append(json.dumps(record, separators=(",", ":")))
        records += 1
    flush(current)

    # Objects that are not logs: the permission check written when logging is set up, and a body side object.
    marker = (
        root
        / LOG_BUCKET
        / "AWSLogs"
        / ACCOUNTS["prod"]
        / "BedrockModelInvocationLogs"
        / "amazon-bedrock-logs-permission-check"
    )
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_bytes(b"")
    first = logged["timestamp"][0].as_py() if logged.num_rows else dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    side = (
        root
        / LOG_BUCKET
        / "AWSLogs"
        / ACCOUNTS["prod"]
        / "BedrockModelInvocationLogs"
        / "us-east-1"
        / f"{first:%Y/%m/%d/%H}"
        / "data"
    )
    side.mkdir(parents=True, exist_ok=True)
    with gzip.open(side / "large-body_input.json.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"body": "a large prompt body stored on its own"}))
    return records


# -- configuration and inventory --------------------------------------------------------------------


def _profiles() -> list[dict[str, Any]]:
    entries = []
    for feature in FEATURES:
        for environment in feature.environments:
            if feature.name == "embeddings-pipeline":
                continue
            entries.append(
                {
                    "arn": profile_arn(feature, environment),
                    "model": MODELS[feature.model].model_id,
                    "name": f"{feature.name}-{environment}",
                    "tags": {"team": feature.team, "feature": feature.name, "environment": environment},
                }
            )
    return entries


def _config_text(profiles_file: Path, end: dt.date, scale: float) -> str:
    # Services that send no request metadata and may call without an application profile are attributed
    # by their role.
    principals = "\n".join(
        f'  - match: "{role_name(feature, environment)}"\n'
        f"    team: {feature.team}\n    feature: {feature.name}\n    environment: {environment}"
        for feature in FEATURES
        if feature.name in ("embeddings-pipeline", "classifier")
        for environment in feature.environments
    )
    teams = sorted({feature.team for feature in FEATURES})
    owners = "\n".join(f"    {team}:\n      contact: {team}-leads@example.com" for team in teams)
    first_period = f"{end - dt.timedelta(days=85):%Y-%m}"

    def amount(dollars: int) -> str:
        # Budgets scale with traffic, so the same incidents cross them at every size.
        return str(max(Decimal("0.01"), (Decimal(dollars) * Decimal(str(scale))).quantize(Decimal("0.01"))))

    return f"""# Governance configuration of the generated demo organisation.
version: 1
currency: USD
principals:
{principals}
invocations:
  user_id_metadata_key: {USER_ID_KEY}
  inference_profiles_file: {profiles_file.name}
attribution:
  plan_prices:
    - feature: chat-assistant
      monthly_price: 20
    - feature: agent
      monthly_price: 30
  plan_outlier_share: 0.5
owners:
  finops:
    team: finops
    contact: finops@example.com
  teams:
{owners}
budgets:
  items:
    - name: support-monthly
      scope: team
      value: support
      monthly_amount: {amount(600)}
    - name: chat-assistant
      scope: feature
      value: chat-assistant
      monthly_amount: {amount(300)}
      owner_team: support
    - name: growth-monthly
      scope: team
      value: growth
      monthly_amount: {amount(250)}
  environment_caps:
    - environment: dev
      monthly_amount: {amount(25)}
      enforce: false
      role_names: [classifier-dev, chat-assistant-dev]
      owner_team: risk
allocation:
  key: requests
chargeback:
  min_attributable_percent: 90
  min_spend: {amount(50)}
forecast:
  user_growth: {{chat-assistant: 0.08, "*": 0.03}}
  levers:
    - name: prompt caching on the chat assistant
      feature: chat-assistant
      share_of_requests: 0.5
      saving: 0.3
    - name: route short prompts to a smaller model
      share_of_requests: 0.2
      saving: 0.6
anomalies:
  min_impact: {amount(2)}
credits:
  balance: {amount(1500)}
  balance_as_of: "{first_period}"
  expires_on: {end + dt.timedelta(days=120):%Y-%m-%d}
"""


# -- entry point ------------------------------------------------------------------------------------


def _period_of(value: dt.datetime) -> str:
    return f"{value:%Y-%m}"


def generate(out_dir: Path, *, end: dt.date, days: int = 90, scale: float = 1.0, seed: int = 7) -> GeneratedData:
    """Write a demo organisation's billing export, invocation logs, configuration and expected totals."""
    if days < 1:
        raise ValueError("days must be at least 1")
    start = end - dt.timedelta(days=days - 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    billing_root = out_dir / "s3"
    earlier_root = out_dir / "s3-earlier"
    incidents = default_incidents(days)

    requests = add_context(build_requests(start, days, scale, seed, incidents), seed)
    rng = np.random.default_rng(seed + 3)
    lines = list(_model_cells(requests)) + list(_daily_lines(start, days, rng))
    by_period: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_period.setdefault(_period_of(line["start"]), []).append(line)

    expected: dict[str, Any] = {"periods": {}, "incidents": [incident.__dict__ for incident in incidents]}
    periods = sorted(by_period)
    for period in periods:
        period_lines = by_period[period]
        period_start = dt.date.fromisoformat(f"{period}-01")
        period_end = (period_start + dt.timedelta(days=32)).replace(day=1)
        bedrock = sum(
            (
                Decimal(str(line["cost"]))
                for line in period_lines
                if line["product_code"] in ("AmazonBedrock", MARKETPLACE_PRODUCT_CODE)
            ),
            Decimal(0),
        )
        period_lines = period_lines + list(_monthly_lines(period_start, bedrock))
        final = period_end <= end + dt.timedelta(days=1)
        table = _cur2_table(period_lines, period_start, period_end, final)
        delivered = dt.datetime.combine(min(period_end, end) + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)
        _write_delivery(billing_root, period, table, f"exec-{period}-final", delivered)
        if period == periods[-1]:
            # The early delivery covers the first half of the days generated in the last period.
            first_day = max(period_start, start)
            cutoff = dt.datetime.combine(first_day + (end - first_day) / 2, dt.time(), tzinfo=dt.UTC)
            partial = [line for line in period_lines if line["start"] < cutoff and line["line_item_type"] == "Usage"]
            early_table = _cur2_table(partial, period_start, period_end, False)
            _write_delivery(earlier_root, period, early_table, f"exec-{period}-early", cutoff + dt.timedelta(hours=8))
        genai = sum(
            (
                Decimal(str(line["cost"]))
                for line in period_lines
                if line["product_code"] in ("AmazonBedrock", MARKETPLACE_PRODUCT_CODE) or "user_feature" in line["tags"]
            ),
            Decimal(0),
        )
        expected["periods"][period] = {
            "lines": len(period_lines),
            "total_unblended": str(sum((Decimal(str(line["cost"])) for line in period_lines), Decimal(0))),
            "genai_unblended": str(genai),
            "bedrock_usage_unblended": str(bedrock),
        }

    logs_root = out_dir / "s3"
    logged = write_logs(requests, logs_root, seed)
    expected["requests_generated"] = requests.num_rows
    expected["requests_logged"] = logged

    profiles_file = out_dir / "inference_profiles.json"
    profiles_file.write_text(json.dumps(_profiles(), indent=2), encoding="utf-8")
    config_file = out_dir / "governance.yaml"
    config_file.write_text(_config_text(profiles_file, end, scale), encoding="utf-8")
    expected_file = out_dir / "expected.json"
    expected_file.write_text(json.dumps(expected, indent=2, default=str), encoding="utf-8")
    return GeneratedData(
        root=out_dir,
        billing_root=billing_root / BILLING_BUCKET,
        earlier_billing_root=earlier_root / BILLING_BUCKET,
        logs_root=logs_root / LOG_BUCKET,
        config_file=config_file,
        profiles_file=profiles_file,
        expected_file=expected_file,
        periods=tuple(periods),
    )
