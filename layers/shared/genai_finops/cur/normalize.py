"""Generate the DuckDB SELECT that turns one export file into ``cost_lines`` rows.

One SELECT per file, built from the file's detected format and columns. It reads the file's Parquet
form (see ``reading``), applies the cost rules of ``docs/cost-rules.md``, folds tags into one key space,
joins the parsed usage types (one row per distinct usage type) and the account owners of other
exports, and labels each row with a ``bucket``: ``in`` (GenAI scope), ``out`` (outside it),
``quarantine`` (no billing period or no cost) or ``dup:<export>`` (an account and period that another
export already covers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..config import GovernanceConfig, normalize_tag_key
from ..money import MONEY_SQL_TYPE
from ..tables import COST_LINES
from .formats import (
    MONEY_FIELDS,
    NUMBER_FIELDS,
    TIMESTAMP_FIELDS,
    SourceFormat,
    TagSource,
    classify_tag_key,
    legacy_header_to_snake,
    resolve_fields,
    split_camel,
    tag_columns,
)
from .reading import OpenedFile

DISCOUNT_LINE_TYPES = ("EdpDiscount", "PrivateRateDiscount", "BundledDiscount", "SppDiscount", "Discount")
UNIT_SEPARATOR = "\x1f"


def sql_string(value: str) -> str:
    """Quote a value as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class TagPlan:
    """Which source expressions feed each normalised key of each tag map, and the case merges found."""

    sources: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)


@dataclass
class FilePlan:
    """Everything the SELECT of one file needs, resolved from its columns."""

    opened: OpenedFile
    source_format: SourceFormat
    fields: dict[str, str | tuple[str, str]]
    tags: TagSource
    missing_optional: list[str]

    def has(self, name: str) -> bool:
        return name in self.fields


def plan_file(opened: OpenedFile, source_format: SourceFormat) -> FilePlan:
    """Resolve logical fields and tag columns for a file of a known format."""
    if source_format.is_focus:
        match_names = dict(zip(opened.headers, opened.physical, strict=True))
    else:
        match_names = {}
        for header, physical in zip(opened.headers, opened.physical, strict=True):
            snake = legacy_header_to_snake(header) if "/" in header else header
            match_names.setdefault(snake, physical)
    map_columns = {name for name in ("product", "discount") if name in match_names}
    fields = resolve_fields(source_format, match_names, map_columns)
    if not source_format.is_focus and "discount" in match_names:
        fields["discount_map"] = match_names["discount"]
    tags = tag_columns(source_format, opened.headers, opened.physical)
    optional = ["resource_id", "usage_type", "usage_account_id", "bill_period_start", "currency", "pricing_unit"]
    missing = [name for name in optional if name not in fields]
    if not tags.columns and not tags.map_columns:
        missing.append("tags")
    return FilePlan(opened, source_format, fields, tags, missing)


class Expressions:
    """SQL expressions over one file's columns, typed the way ``cost_lines`` stores them."""

    def __init__(self, plan: FilePlan) -> None:
        self.plan = plan
        self.types = plan.opened.types

    def map_of(self, physical: str, value_type: str = "VARCHAR") -> str:
        column_type = self.types.get(physical, "VARCHAR")
        target = f"MAP(VARCHAR, {value_type})"
        if column_type.upper().startswith("MAP"):
            return f"CAST({quote(physical)} AS {target})"
        return f"CAST(CAST({quote(physical)} AS JSON) AS {target})"

    def raw(self, name: str) -> str:
        source = self.plan.fields.get(name)
        if source is None:
            return "NULL"
        if isinstance(source, tuple):
            return f"{self.map_of(source[0])}[{sql_string(source[1])}]"
        return quote(source)

    def text(self, name: str) -> str:
        raw = self.raw(name)
        return "CAST(NULL AS VARCHAR)" if raw == "NULL" else f"NULLIF(TRIM(CAST({raw} AS VARCHAR)), '')"

    def money(self, name: str) -> str:
        raw = self.raw(name)
        return f"CAST({raw} AS {MONEY_SQL_TYPE})"

    def number(self, name: str) -> str:
        return f"CAST({self.raw(name)} AS DOUBLE)"

    def timestamp(self, name: str) -> str:
        return f"CAST({self.raw(name)} AS TIMESTAMPTZ)"


def plan_tags(plan: FilePlan, map_keys: dict[str, Sequence[str]]) -> TagPlan:
    """Group every tag source of a file by (target map, normalised key).

    When several source keys normalise to the same key on a row, the all-lower-case spelling wins,
    then the others in byte order; the merge is reported as a warning.
    """
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    expressions = Expressions(plan)
    for physical, (target, raw_key) in plan.tags.columns.items():
        if target == "tags":
            mapped_target, key = classify_tag_key(raw_key)
        else:
            mapped_target, key = target, normalize_tag_key(split_camel(raw_key))
        value = f"NULLIF(CAST({quote(physical)} AS VARCHAR), '')"
        grouped.setdefault((mapped_target, key), []).append((raw_key, value))
    for physical in plan.tags.map_columns:
        mapped = expressions.map_of(physical)
        for raw_key in map_keys.get(physical, ()):
            target, key = classify_tag_key(raw_key)
            value = f"NULLIF({mapped}[{sql_string(raw_key)}], '')"
            grouped.setdefault((target, key), []).append((raw_key, value))

    tag_plan = TagPlan()
    for (target, key), entries in sorted(grouped.items()):
        entries.sort(key=lambda item: (item[0] != item[0].lower(), item[0]))
        tag_plan.sources[(target, key)] = [value for _, value in entries]
        spellings = sorted({raw for raw, _ in entries})
        if len(spellings) > 1 and len({raw.lower() for raw in spellings}) < len(spellings):
            tag_plan.merges.append(f"{target}.{key} <- {', '.join(spellings)} (first with a value wins: {entries[0][0]})")
    return tag_plan


def _map_expression(tag_plan: TagPlan, target: str) -> str:
    entries = [
        f"{{'k': {sql_string(key)}, 'v': {sources[0] if len(sources) == 1 else 'COALESCE(' + ', '.join(sources) + ')'}}}"
        for (map_target, key), sources in tag_plan.sources.items()
        if map_target == target
    ]
    if not entries:
        return "CAST(MAP {} AS MAP(VARCHAR, VARCHAR))"
    return f"map_from_entries(list_filter([{', '.join(entries)}], lambda e: e.v IS NOT NULL))"


def _standard_key(config: GovernanceConfig, key: str) -> str:
    spec = config.tag_standard.keys.get(key)
    aliases = [key, *(spec.aliases if spec else [])]
    normalised: list[str] = []
    for alias in aliases:
        for form in (normalize_tag_key(alias), normalize_tag_key(split_camel(alias))):
            if form and form not in normalised:
                normalised.append(form)
    lookups = ", ".join(f"tags[{sql_string(form)}]" for form in normalised)
    return f"COALESCE({lookups})"


def _environment(config: GovernanceConfig) -> str:
    value = f"LOWER(TRIM({_standard_key(config, 'environment')}))"
    synonyms = config.tag_standard.environment_synonyms
    if not synonyms:
        return value
    cases = " ".join(f"WHEN {sql_string(k.lower())} THEN {sql_string(v)}" for k, v in sorted(synonyms.items()))
    return f"CASE {value} {cases} ELSE {value} END"


def _cur_costs(expr: Expressions) -> tuple[str, str, str]:
    plan = expr.plan
    unblended = expr.money("unblended")
    adjustments = []
    if plan.has("net_unblended"):
        adjustments.append(expr.money("net_unblended"))
    if plan.has("discount_total"):
        adjustments.append(f"{unblended} + COALESCE({expr.money('discount_total')}, 0)")
    if plan.has("discount_map"):
        physical = plan.fields["discount_map"]
        assert isinstance(physical, str)
        discounts = expr.map_of(physical, MONEY_SQL_TYPE)
        adjustments.append(f"{unblended} + COALESCE(list_sum(map_values({discounts})), 0)")
    net_base = f"COALESCE({', '.join([*adjustments, unblended])})"
    lit = expr.text("line_item_type")
    discount_types = ", ".join(sql_string(name) for name in DISCOUNT_LINE_TYPES)
    # With per-row net or discount columns the usage rows already carry their discount, so a
    # discount line's own net cost is zero; without them the discount line is the only place it shows.
    net = f"CASE WHEN {lit} IN ({discount_types}) THEN CAST(0 AS {MONEY_SQL_TYPE}) ELSE {net_base} END" if adjustments else net_base

    def first(*names: str) -> str:
        present = [expr.money(name) for name in names if plan.has(name)]
        return f"COALESCE({', '.join([*present, net_base])})"

    unused_net = (
        f"{expr.money('ri_net_unused_upfront')} + {expr.money('ri_net_unused_recurring')}"
        if plan.has("ri_net_unused_upfront") and plan.has("ri_net_unused_recurring")
        else "NULL"
    )
    unused = (
        f"{expr.money('ri_unused_upfront')} + {expr.money('ri_unused_recurring')}"
        if plan.has("ri_unused_upfront") and plan.has("ri_unused_recurring")
        else "NULL"
    )
    commitment_unused = (
        f"{expr.money('sp_total_commitment')} - {expr.money('sp_used_commitment')}"
        if plan.has("sp_total_commitment") and plan.has("sp_used_commitment")
        else "NULL"
    )
    reservation_arn = expr.text("reservation_arn")
    zero = f"CAST(0 AS {MONEY_SQL_TYPE})"
    amortized = (
        f"CASE {lit} "
        f"WHEN 'SavingsPlanCoveredUsage' THEN {first('sp_net_effective', 'sp_effective')} "
        f"WHEN 'SavingsPlanNegation' THEN {zero} "
        f"WHEN 'SavingsPlanUpfrontFee' THEN {zero} "
        f"WHEN 'SavingsPlanRecurringFee' THEN COALESCE({commitment_unused}, {net_base}) "
        f"WHEN 'DiscountedUsage' THEN {first('ri_net_effective', 'ri_effective')} "
        f"WHEN 'RIFee' THEN COALESCE({unused_net}, {unused}, {net_base}) "
        f"WHEN 'Fee' THEN CASE WHEN {reservation_arn} IS NOT NULL THEN {zero} ELSE {net_base} END "
        f"ELSE {net} END"
    )
    return unblended, net, amortized


def _focus_costs(expr: Expressions) -> tuple[str, str, str]:
    billed = expr.money("unblended")
    effective = expr.money("effective") if expr.plan.has("effective") else billed
    purchase = f"{expr.text('line_item_type')} = 'Purchase' AND {expr.text('commitment_id')} IS NOT NULL"
    # Commitment purchases are amortised into the usage they cover, so their own effective cost is 0.
    amortized = f"CASE WHEN {purchase} THEN CAST(0 AS {MONEY_SQL_TYPE}) ELSE {effective} END"
    return billed, billed, amortized


def required_missing(plan: FilePlan) -> list[str]:
    """Return the logical fields a file lacks without which its rows cannot be costed."""
    return [name for name in ("unblended", "line_item_type") if not plan.has(name)]


def usage_key(expr: Expressions) -> str:
    """The join key of a row's usage type, product code, pricing unit and product name."""
    parts = [expr.text(name) for name in ("usage_type", "product_code", "pricing_unit", "product_name")]
    return "concat_ws(chr(31), " + ", ".join(f"COALESCE({part}, '')" for part in parts) + ")"


def bedrock_condition(config: GovernanceConfig, product_code: str, product_name: str) -> str:
    """SQL that is true for Bedrock lines, whose usage types the parser reads."""
    codes = ", ".join(sql_string(code) for code in config.genai_scope.product_codes)
    suffix = sql_string(config.genai_scope.marketplace_product_name_suffix)
    return f"({product_code} IN ({codes}) OR COALESCE(suffix({product_name}, {suffix}), false))"


def distinct_usage_sql(plan: FilePlan, config: GovernanceConfig) -> str:
    """SELECT the distinct usage-type keys of a file's Bedrock lines."""
    expr = Expressions(plan)
    bedrock = bedrock_condition(config, expr.text("product_code"), expr.text("product_name"))
    columns = ", ".join(
        f"{expr.text(name)} AS {name}" for name in ("usage_type", "product_code", "pricing_unit", "product_name")
    )
    return (
        f"SELECT DISTINCT {usage_key(expr)} AS usage_key, {columns} "
        f"FROM read_parquet({sql_string(str(plan.opened.parquet))}) WHERE {bedrock}"
    )


def read_totals_sql(plan: FilePlan) -> str:
    """SELECT the row count and the sum of the billed cost column straight from the file."""
    expr = Expressions(plan)
    return (
        f"SELECT count(*), COALESCE(sum({expr.money('unblended')}), 0) "
        f"FROM read_parquet({sql_string(str(plan.opened.parquet))})"
    )


def normalize_sql(
    plan: FilePlan,
    config: GovernanceConfig,
    tag_plan: TagPlan,
    export_id: str,
    period_hint: str | None,
) -> str:
    """Return the SELECT producing ``cost_lines`` columns plus ``billing_period`` and ``bucket``.

    The query expects two registered relations: ``usage_types`` (usage_key and parsed fields) and
    ``account_owners`` (billing_period, usage_account_id, export_id).
    """
    expr = Expressions(plan)
    if plan.source_format.is_focus:
        unblended, net, amortized = _focus_costs(expr)
    else:
        unblended, net, amortized = _cur_costs(expr)

    scope = config.genai_scope
    product_code = expr.text("product_code")
    product_name = expr.text("product_name")
    extra_codes = ", ".join(sql_string(code) for code in scope.all_product_codes())
    suffix = sql_string(scope.marketplace_product_name_suffix)
    feature_rule = " OR b.feature IS NOT NULL" if scope.lines_with_feature_tag else ""
    hint = sql_string(period_hint) if period_hint else "NULL"
    usage_start = expr.timestamp("usage_start")
    period_sources = [f"strftime({expr.timestamp('bill_period_start')}, '%Y-%m')"] if plan.has("bill_period_start") else []
    period_sources += [f"strftime({usage_start}, '%Y-%m')", hint]
    principal = expr.text("iam_principal")
    resource = expr.text("resource_id")
    source_file = sql_string(plan.opened.source)

    base = f"""
        SELECT
            {usage_start} AS usage_start,
            {expr.timestamp('usage_end')} AS usage_end,
            {expr.text('payer_account_id')} AS payer_account_id,
            {expr.text('usage_account_id')} AS usage_account_id,
            {expr.text('line_item_type')} AS line_item_type,
            {expr.text('billing_entity')} AS billing_entity,
            {product_code} AS product_code,
            {product_name} AS product_name,
            {expr.text('region')} AS region_column,
            {expr.text('usage_type')} AS usage_type,
            {expr.text('operation')} AS operation,
            {resource} AS resource_id,
            {expr.text('pricing_unit')} AS pricing_unit,
            {expr.number('usage_amount')} AS usage_amount,
            {principal} AS iam_principal,
            {unblended} AS cost_unblended,
            {net} AS cost_net,
            {amortized} AS cost_amortized,
            {expr.text('currency')} AS currency,
            {expr.text('invoice_id')} AS invoice_id,
            {_map_expression(tag_plan, 'tags')} AS tags,
            {_map_expression(tag_plan, 'principal_tags')} AS principal_tags,
            {_map_expression(tag_plan, 'account_tags')} AS account_tags,
            COALESCE({', '.join(period_sources)}) AS billing_period,
            CASE WHEN {bedrock_condition(config, product_code, product_name)} THEN {usage_key(expr)} END AS usage_key,
            file_row_number + {plan.opened.first_line} AS source_line
        FROM read_parquet({sql_string(str(plan.opened.parquet))}, file_row_number = true)
    """
    tagged = f"""
        SELECT *,
            {_standard_key(config, 'team')} AS team,
            {_standard_key(config, 'feature')} AS feature,
            {_environment(config)} AS environment,
            {_standard_key(config, 'cost_center')} AS cost_center
        FROM base
    """
    role = (
        "CASE WHEN regexp_matches(b.iam_principal, '^arn:aws[a-z-]*:sts::[0-9]+:assumed-role/') "
        "THEN regexp_extract(b.iam_principal, 'assumed-role/([^/]+)', 1) "
        "WHEN regexp_matches(b.iam_principal, '^arn:aws[a-z-]*:iam::[0-9]+:role/') "
        "THEN regexp_extract(b.iam_principal, '/([^/]+)$', 1) END"
    )
    columns = {
        "usage_start": "b.usage_start",
        "usage_end": "b.usage_end",
        "payer_account_id": "b.payer_account_id",
        "usage_account_id": "b.usage_account_id",
        "line_item_type": "b.line_item_type",
        "billing_entity": "b.billing_entity",
        "product_code": "b.product_code",
        "product_name": "b.product_name",
        "region": "COALESCE(b.region_column, u.region)",
        "usage_type": "b.usage_type",
        "operation": "b.operation",
        "resource_id": "b.resource_id",
        "pricing_unit": "b.pricing_unit",
        "usage_amount": "b.usage_amount",
        "tokens": "b.usage_amount * u.tokens_per_unit",
        "model": "u.model",
        "token_class": "u.token_class",
        "tier": "u.tier",
        "route": "u.route",
        "usage_family": "u.usage_family",
        "inference_profile_id": (
            "NULLIF(regexp_extract(b.resource_id, 'inference-profile/([^/]+)$', 1), '')"
        ),
        "iam_principal": "b.iam_principal",
        "iam_role": role,
        "cost_unblended": "b.cost_unblended",
        "cost_net": "b.cost_net",
        "cost_amortized": "b.cost_amortized",
        "currency": "b.currency",
        "invoice_id": "b.invoice_id",
        "tags": "b.tags",
        "principal_tags": "b.principal_tags",
        "account_tags": "b.account_tags",
        "team": "b.team",
        "feature": "b.feature",
        "environment": "b.environment",
        "cost_center": "b.cost_center",
        "source_format": sql_string(plan.source_format.value),
        "source_file": source_file,
        "source_line": "b.source_line",
    }
    missing = [name for name in COST_LINES.schema.names if name not in columns]
    if missing:
        raise RuntimeError(f"normalize_sql does not produce cost_lines columns {missing}")
    select = ",\n            ".join(f"{columns[name]} AS {quote(name)}" for name in COST_LINES.schema.names)
    in_scope = (
        f"(b.product_code IN ({extra_codes}) OR COALESCE(suffix(b.product_name, {suffix}), false){feature_rule})"
    )
    return f"""
        WITH base AS ({base}), b AS ({tagged})
        SELECT
            {select},
            COALESCE(b.billing_period, '__none__') AS billing_period,
            CASE
                WHEN b.billing_period IS NULL OR b.cost_unblended IS NULL THEN 'quarantine'
                WHEN o.export_id IS NOT NULL AND o.export_id <> {sql_string(export_id)} THEN 'dup:' || o.export_id
                WHEN {in_scope} THEN 'in'
                ELSE 'out'
            END AS bucket
        FROM b
        LEFT JOIN usage_types u ON u.usage_key = b.usage_key
        LEFT JOIN account_owners o
            ON o.billing_period = b.billing_period AND o.usage_account_id = b.usage_account_id
    """


def map_keys_sql(plan: FilePlan, physical: str) -> str:
    """SELECT the distinct keys of one map column (tags arrive as a map in CUR 2.0 and FOCUS)."""
    mapped = Expressions(plan).map_of(physical)
    return (
        f"SELECT DISTINCT unnest(map_keys({mapped})) AS key "
        f"FROM read_parquet({sql_string(str(plan.opened.parquet))}) ORDER BY 1"
    )


def value_checks(plan: FilePlan) -> list[tuple[str, str, str]]:
    """Return (logical field, SQL type, physical column) for each column that is cast on read."""
    checks: list[tuple[str, str, str]] = []
    for name, physical in plan.fields.items():
        if isinstance(physical, tuple):
            continue
        if name in TIMESTAMP_FIELDS:
            checks.append((name, "TIMESTAMPTZ", physical))
        elif name in NUMBER_FIELDS:
            checks.append((name, "DOUBLE", physical))
        elif name in MONEY_FIELDS:
            checks.append((name, MONEY_SQL_TYPE, physical))
    return checks
