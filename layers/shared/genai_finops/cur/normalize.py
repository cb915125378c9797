"""Generate the DuckDB SELECT that turns one export file into ``cost_lines`` rows.

One SELECT per file, built from the file's detected format and columns. It reads the file's Parquet
form (see ``reading``), applies the cost rules of ``docs/cost-rules.md`` and folds tags into one key
space. It joins the parsed usage types (one row per distinct usage type) and the account owners of other
exports. Each row gets a ``bucket``: ``in`` (GenAI scope), ``out`` (outside it), ``quarantine`` (no
billing period or no cost) or ``dup:<export>`` (an account and period that another export already covers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
NO_PERIOD = "__none__"


def sql_string(value: str) -> str:
    """Quote a value as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class TagPlan:
    """Source expressions per normalised key of each tag map, and the case merges found."""

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
    map_columns: set[str] = {name for name in ("product", "discount") if name in match_names}
    fields = resolve_fields(source_format, match_names, map_columns)
    if not source_format.is_focus and "discount" in match_names:
        fields["discount_map"] = match_names["discount"]
    tags = tag_columns(source_format, opened.headers, opened.physical)
    optional = ["resource_id", "usage_type", "usage_account_id", "bill_period_start", "currency", "pricing_unit"]
    missing = [name for name in optional if name not in fields]
    if not tags.columns and not tags.map_columns:
        missing.append("tags")
    return FilePlan(opened, source_format, fields, tags, missing)


def used_columns(plan: FilePlan) -> set[str]:
    """Return the physical columns that the SQL of ``plan`` reads."""
    used = {source if isinstance(source, str) else source[0] for source in plan.fields.values()}
    used.update(plan.tags.columns)
    used.update(plan.tags.map_columns)
    return used


class Expressions:
    """SQL expressions over one file's columns, typed the way ``cost_lines`` stores them.

    With ``layered`` set, map columns are referred to by the names the ``maps`` step of
    ``normalize_sql`` gives them, so that each map is cast once per row.
    """

    def __init__(self, plan: FilePlan, layered: bool = False) -> None:
        self.plan = plan
        self.types = plan.opened.types
        self.layered = layered

    def map_of(self, physical: str, value_type: str = "VARCHAR") -> str:
        if self.layered:
            return quote(f"__map_{'money' if value_type != 'VARCHAR' else 'text'}_{physical}")
        return self.map_cast(physical, value_type)

    def is_map(self, physical: str) -> bool:
        return self.types.get(physical, "VARCHAR").upper().startswith("MAP")

    def map_cast(self, physical: str, value_type: str = "VARCHAR") -> str:
        target = f"MAP(VARCHAR, {value_type})"
        if self.is_map(physical):
            return f"CAST({quote(physical)} AS {target})"
        return f"CAST(CAST({quote(physical)} AS JSON) AS {target})"

    def money_values(self, physical: str) -> str:
        """Return the values of a map column as a list of money amounts.

        A native map's values are cast as a list, which fails on the same values as casting the map
        and took an eighth of its CPU time on 5 million rows (DuckDB 2.0.1). JSON text is parsed into
        a map first.
        """
        if self.is_map(physical):
            return f"CAST(map_values({quote(physical)}) AS {MONEY_SQL_TYPE}[])"
        return f"map_values({self.map_of(physical, MONEY_SQL_TYPE)})"

    def raw(self, name: str) -> str:
        source = self.plan.fields.get(name)
        if source is None:
            return "NULL"
        if isinstance(source, tuple):
            return f"{self.map_of(source[0])}[{sql_string(source[1])}]"
        return quote(source)

    def text(self, name: str) -> str:
        raw = self.raw(name)
        return "CAST(NULL AS VARCHAR)" if raw == "NULL" else f"NULLIF(CAST({raw} AS VARCHAR), '')"

    def money(self, name: str) -> str:
        return f"CAST({self.raw(name)} AS {MONEY_SQL_TYPE})"

    def number(self, name: str) -> str:
        return f"CAST({self.raw(name)} AS DOUBLE)"

    def timestamp(self, name: str) -> str:
        raw = self.raw(name)
        source = self.plan.fields.get(name)
        if isinstance(source, str) and self.types.get(source, "").upper() == "TIMESTAMP":
            # The ingest connection's time zone is UTC, so a naive timestamp keeps its epoch microseconds.
            # The ICU cast gives the same value at 15 times the CPU time (DuckDB 2.0.1). Infinite values
            # have no epoch, so they still take the cast.
            return (
                f"CASE WHEN isfinite({raw}) THEN make_timestamptz(epoch_us({raw})) ELSE CAST({raw} AS TIMESTAMPTZ) END"
            )
        return f"CAST({raw} AS TIMESTAMPTZ)"


def plan_tags(plan: FilePlan, map_keys: Mapping[str, Sequence[str]]) -> TagPlan:
    """Group every tag source of a file by (target map, normalised key).

    When several source keys normalise to the same key on a row, the all-lower-case spelling wins,
    then the others in byte order. Each such merge is listed in ``merges`` for a warning.
    """
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    expressions = Expressions(plan, layered=True)
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
            tag_plan.merges.append(
                f"{target}.{key} <- {', '.join(spellings)} (first with a value wins: {entries[0][0]})"
            )
    return tag_plan


EMPTY_MAP = "CAST(MAP {} AS MAP(VARCHAR, VARCHAR))"
# A tag map with at most this many keys is built by casting a STRUCT of the keys present on the row.
# A tree of CASE on each value picks the STRUCT, so the tree has 2**n leaves. map_from_entries checks
# each row's keys for duplicates and was about 4 times slower on 5 million rows (DuckDB 2.0.1), so it
# only builds larger maps.
STRUCT_MAP_MAX_KEYS = 4


def tag_value_columns(tag_plan: TagPlan) -> dict[tuple[str, str], str]:
    """Name the ``typed`` step's column that contains each (target map, normalised key) value."""
    return {entry: f"__tag_{index}" for index, entry in enumerate(tag_plan.sources)}


def _tag_value(sources: list[str]) -> str:
    return sources[0] if len(sources) == 1 else f"COALESCE({', '.join(sources)})"


def _struct_map(entries: list[tuple[str, str]], present: list[tuple[str, str]]) -> str:
    """Build a CASE tree whose leaf for each pattern of non-null values casts a STRUCT of those values."""
    if not entries:
        if not present:
            return EMPTY_MAP
        fields = ", ".join(f"{sql_string(key)}: {column}" for key, column in present)
        return f"CAST({{{fields}}} AS MAP(VARCHAR, VARCHAR))"
    (key, column), rest = entries[0], entries[1:]
    absent = _struct_map(rest, present)
    found = _struct_map(rest, [*present, (key, column)])
    return f"CASE WHEN {column} IS NULL THEN {absent} ELSE {found} END"


def _map_expression(tag_plan: TagPlan, target: str, prefix: str = "") -> str:
    """Return the SQL of one tag map over the ``typed`` step's tag value columns, keys in sorted order.

    A key whose value is NULL on a row is left out of that row's map.
    """
    columns = tag_value_columns(tag_plan)
    entries = [
        (key, prefix + quote(columns[(map_target, key)]))
        for map_target, key in tag_plan.sources
        if map_target == target
    ]
    if not entries:
        return EMPTY_MAP
    # DuckDB compares STRUCT field names without regard to case, and a field name cannot be empty.
    distinct = len({key.lower() for key, _ in entries}) == len(entries) and all(key for key, _ in entries)
    if len(entries) <= STRUCT_MAP_MAX_KEYS and distinct:
        return _struct_map(entries, [])
    pairs = ", ".join(f"{{'k': {sql_string(key)}, 'v': {column}}}" for key, column in entries)
    return f"map_from_entries(list_filter([{pairs}], lambda e: e.v IS NOT NULL))"


def _standard_key(config: GovernanceConfig, tag_plan: TagPlan, key: str) -> str:
    """Return the SQL of a standard tag's value: the first of its normalised spellings found in ``tags``."""
    spec = config.tag_standard.keys.get(key)
    aliases = [key, *(spec.aliases if spec else [])]
    normalised: list[str] = []
    for alias in aliases:
        for form in (normalize_tag_key(alias), normalize_tag_key(split_camel(alias))):
            if form and form not in normalised:
                normalised.append(form)
    columns = tag_value_columns(tag_plan)
    lookups = [quote(columns[("tags", form)]) for form in normalised if ("tags", form) in columns]
    if not lookups:
        return "CAST(NULL AS VARCHAR)"
    return lookups[0] if len(lookups) == 1 else f"COALESCE({', '.join(lookups)})"


def _environment(config: GovernanceConfig, column: str) -> str:
    value = f"LOWER(TRIM({column}))"
    synonyms = config.tag_standard.environment_synonyms
    if not synonyms:
        return value
    cases = " ".join(f"WHEN {sql_string(k.lower())} THEN {sql_string(v)}" for k, v in sorted(synonyms.items()))
    return f"CASE {value} {cases} ELSE {value} END"


def _utc_month(column: str) -> str:
    """Return the SQL of a TIMESTAMPTZ column's month as ``YYYY-MM`` in UTC, the ingest connection's time zone.

    strftime of a naive timestamp with the same epoch microseconds gives the same text as ICU's strftime
    at a third of the CPU time (DuckDB 2.0.1). Infinite values have no epoch, so they keep ICU's text.
    """
    return (
        f"CASE WHEN isfinite({column}) THEN strftime(make_timestamp(epoch_us({column})), '%Y-%m') "
        f"ELSE strftime({column}, '%Y-%m') END"
    )


def _cur_costs(plan: FilePlan) -> tuple[str, str, str]:
    """Return the SQL of net_base, cost_net and cost_amortized over the ``typed`` step's columns."""
    zero = f"CAST(0 AS {MONEY_SQL_TYPE})"
    net_base = "COALESCE(net_unblended, unblended + discount_total, unblended + discount_sum, unblended)"
    discount_types = ", ".join(sql_string(name) for name in DISCOUNT_LINE_TYPES)
    has_row_discounts = any(plan.has(name) for name in ("net_unblended", "discount_total", "discount_map"))
    # With per-row net or discount columns the usage rows already carry their discount, so a
    # discount line's own net cost is zero. Without them the discount line is the only place it shows.
    net = (
        f"CASE WHEN line_item_type IN ({discount_types}) THEN {zero} ELSE net_base END"
        if has_row_discounts
        else "net_base"
    )
    amortized = (
        "CASE line_item_type "
        "WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(sp_net_effective, sp_effective, net_base) "
        f"WHEN 'SavingsPlanNegation' THEN {zero} "
        f"WHEN 'SavingsPlanUpfrontFee' THEN {zero} "
        "WHEN 'SavingsPlanRecurringFee' THEN COALESCE(sp_total_commitment - sp_used_commitment, net_base) "
        "WHEN 'DiscountedUsage' THEN COALESCE(ri_net_effective, ri_effective, net_base) "
        "WHEN 'RIFee' THEN COALESCE(ri_net_unused_upfront + ri_net_unused_recurring, "
        "ri_unused_upfront + ri_unused_recurring, net_base) "
        f"WHEN 'Fee' THEN CASE WHEN reservation_arn IS NOT NULL THEN {zero} ELSE net_base END "
        f"ELSE {net} END"
    )
    return net_base, net, amortized


def _focus_costs(plan: FilePlan) -> tuple[str, str, str]:
    """Return the SQL of net_base, cost_net and cost_amortized for FOCUS (BilledCost and EffectiveCost)."""
    effective = "effective" if plan.has("effective") else "unblended"
    # Commitment purchases are amortised into the usage they cover, so their own effective cost is 0.
    amortized = (
        f"CASE WHEN line_item_type = 'Purchase' AND commitment_id IS NOT NULL "
        f"THEN CAST(0 AS {MONEY_SQL_TYPE}) ELSE {effective} END"
    )
    return "unblended", "net_base", amortized


def required_missing(plan: FilePlan) -> list[str]:
    """Return the logical fields a file lacks without which its rows cannot be costed or attributed.

    Without the usage start, no line could be matched to the hour or day of its requests, and the whole
    bill would go to the unattributed remainder.
    """
    return [name for name in ("unblended", "line_item_type", "usage_start") if not plan.has(name)]


def usage_key(expr: Expressions) -> str:
    """Build the join key of a row's usage type, product code, pricing unit and product name."""
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


TEXT_FIELDS = (
    "payer_account_id",
    "usage_account_id",
    "line_item_type",
    "billing_entity",
    "product_code",
    "product_name",
    "region",
    "usage_type",
    "operation",
    "resource_id",
    "pricing_unit",
    "iam_principal",
    "currency",
    "invoice_id",
    "reservation_arn",
    "commitment_id",
)


def _typed_columns(plan: FilePlan, expr: Expressions, tag_plan: TagPlan) -> list[str]:
    """Return the ``typed`` step: every logical field cast once, NULL when the file lacks it."""
    columns = [f"{expr.text(name)} AS {name}" for name in TEXT_FIELDS]
    columns += [f"{expr.money(name)} AS {name}" for name in sorted(MONEY_FIELDS)]
    columns += [f"{expr.timestamp(name)} AS {name}" for name in sorted(TIMESTAMP_FIELDS)]
    line = f"file_row_number + {plan.opened.first_line}"
    for name in sorted(NUMBER_FIELDS):
        # Infinity and NaN pass the cast to DOUBLE, so they are rejected here with their line.
        number = expr.number(name)
        columns.append(
            f"CASE WHEN {number} IS NULL OR isfinite({number}) THEN {number} "
            f"ELSE error('{name} is not a finite number on line ' || ({line})) END AS {name}"
        )
    discount_map = plan.fields.get("discount_map")
    if isinstance(discount_map, str):
        columns.append(f"COALESCE(list_sum({expr.money_values(discount_map)}), 0) AS discount_sum")
    else:
        columns.append(f"CAST(NULL AS {MONEY_SQL_TYPE}) AS discount_sum")
    # Each tag value is extracted once here. The standard tags read these columns, and the tag maps are
    # built from them in the final SELECT, after lines outside the written bucket are filtered out.
    for entry, column in tag_value_columns(tag_plan).items():
        columns.append(f"{_tag_value(tag_plan.sources[entry])} AS {quote(column)}")
    columns.append(f"file_row_number + {plan.opened.first_line} AS source_line")
    return columns


def _map_columns(plan: FilePlan, expr: Expressions) -> list[str]:
    """Return the ``maps`` step's casts: each map column used is cast once per row."""
    used: set[tuple[str, str]] = set()
    for source in plan.fields.values():
        if isinstance(source, tuple):
            used.add((source[0], "VARCHAR"))
    used.update((physical, "VARCHAR") for physical in plan.tags.map_columns)
    discount_map = plan.fields.get("discount_map")
    if isinstance(discount_map, str) and not expr.is_map(discount_map):
        used.add((discount_map, MONEY_SQL_TYPE))
    return [
        f"{expr.map_cast(physical, value_type)} AS {expr.map_of(physical, value_type)}"
        for physical, value_type in sorted(used)
    ]


def normalize_sql(
    plan: FilePlan,
    config: GovernanceConfig,
    tag_plan: TagPlan,
    export_id: str,
    period_hint: str | None,
) -> str:
    """Return the SELECT producing ``cost_lines`` columns plus ``billing_period`` and ``bucket``.

    The query expects two registered relations: ``usage_types`` (usage_key and parsed fields) and
    ``account_owners`` (billing_period, usage_account_id, export_id), and the ``mask_principal`` macro
    (``genai_finops.principals``): IAM principals are stored masked, while the role name is read from
    the principal as billed. It is built in steps so that
    each cast and rule is computed once per row: ``maps`` casts map columns, ``typed`` casts every
    field, ``costed`` applies the cost rules and ``keyed`` derives scope keys and standard tags.
    """
    expr = Expressions(plan, layered=True)
    net_base, net, amortized = _focus_costs(plan) if plan.source_format.is_focus else _cur_costs(plan)

    scope = config.genai_scope
    scope_codes = ", ".join(sql_string(code) for code in scope.all_product_codes())
    suffix = sql_string(scope.marketplace_product_name_suffix)
    feature_rule = " OR feature IS NOT NULL" if scope.lines_with_feature_tag else ""
    hint = sql_string(period_hint) if period_hint else "CAST(NULL AS VARCHAR)"
    key_parts = ", ".join(
        f"COALESCE({name}, '')" for name in ("usage_type", "product_code", "pricing_unit", "product_name")
    )
    maps = ", ".join(["*", *_map_columns(plan, expr)])
    typed = ",\n            ".join(_typed_columns(plan, expr, tag_plan))
    # LIKE and split_part instead of regular expressions: these run on every row of the bill.
    role = (
        "CASE WHEN iam_principal LIKE 'arn:aws%:sts::%:assumed-role/%' "
        "THEN split_part(split_part(iam_principal, ':assumed-role/', 2), '/', 1) "
        "WHEN iam_principal LIKE 'arn:aws%:iam::%:role/%' "
        "THEN string_split(iam_principal, '/')[-1] END"
    )
    columns = {
        "region": "COALESCE(k.region, u.region)",
        "tokens": "k.usage_amount * u.tokens_per_unit",
        "model": "u.model",
        "token_class": "u.token_class",
        "tier": "u.tier",
        "route": "u.route",
        "usage_family": "u.usage_family",
        "inference_profile_id": (
            "CASE WHEN k.resource_id LIKE 'arn:aws%:bedrock:%:inference-profile/%' "
            "OR k.resource_id LIKE 'arn:aws%:bedrock:%:application-inference-profile/%' THEN k.resource_id END"
        ),
        "iam_role": role.replace("iam_principal", "k.iam_principal"),
        "iam_principal": "mask_principal(k.iam_principal)" if plan.has("iam_principal") else "k.iam_principal",
        "source_format": sql_string(plan.source_format.value),
        "source_file": sql_string(plan.opened.source),
        "tags": _map_expression(tag_plan, "tags", "k."),
        "principal_tags": _map_expression(tag_plan, "principal_tags", "k."),
        "account_tags": _map_expression(tag_plan, "account_tags", "k."),
    }
    select = ",\n            ".join(
        f"{columns.get(name, 'k.' + quote(name))} AS {quote(name)}" for name in COST_LINES.schema.names
    )
    return f"""
        WITH maps AS (
            SELECT {maps} FROM read_parquet({sql_string(str(plan.opened.parquet))}, file_row_number = true)
        ), typed AS (
            SELECT
            {typed}
            FROM maps
        ), based AS (
            SELECT *, {net_base} AS net_base FROM typed
        ), costed AS (
            SELECT *,
                unblended AS cost_unblended,
                {net} AS cost_net,
                {amortized} AS cost_amortized,
                {_standard_key(config, tag_plan, "team")} AS team,
                {_standard_key(config, tag_plan, "feature")} AS feature,
                {_standard_key(config, tag_plan, "environment")} AS environment_raw,
                {_standard_key(config, tag_plan, "cost_center")} AS cost_center,
                COALESCE({_utc_month("bill_period_start")}, {_utc_month("usage_start")}, {hint}) AS period,
                {bedrock_condition(config, "product_code", "product_name")} AS is_bedrock
            FROM based
        ), keyed AS (
            SELECT *,
                {_environment(config, "environment_raw")} AS environment,
                CASE WHEN is_bedrock THEN concat_ws(chr(31), {key_parts}) END AS usage_key,
                product_code IN ({scope_codes}) OR COALESCE(suffix(product_name, {suffix}), false){feature_rule}
                    AS in_scope
            FROM costed
        )
        SELECT
            {select},
            COALESCE(k.period, '{NO_PERIOD}') AS billing_period,
            CASE
                WHEN k.period IS NULL OR k.cost_unblended IS NULL THEN 'quarantine'
                WHEN o.export_id IS NOT NULL AND o.export_id <> {sql_string(export_id)} THEN 'dup:' || o.export_id
                WHEN k.in_scope THEN 'in'
                ELSE 'out'
            END AS bucket
        FROM keyed k
        LEFT JOIN usage_types u ON u.usage_key = k.usage_key
        LEFT JOIN account_owners o ON o.billing_period = k.period AND o.usage_account_id = k.usage_account_id
    """


def purchase_check_sql(plan: FilePlan) -> str | None:
    """SELECT how many FOCUS commitment purchases carry an effective cost, which the rules set to 0."""
    if not (plan.source_format.is_focus and plan.has("effective") and plan.has("commitment_id")):
        return None
    expr = Expressions(plan)
    return (
        f"SELECT count(*) FROM read_parquet({sql_string(str(plan.opened.parquet))}) "
        f"WHERE {expr.text('line_item_type')} = 'Purchase' AND {expr.text('commitment_id')} IS NOT NULL "
        f"AND {expr.money('effective')} <> 0"
    )


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
