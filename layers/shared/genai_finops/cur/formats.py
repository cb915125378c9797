"""Billing-export formats: recognise a file's format from its columns and find the columns it uses.

Legacy CUR comes with ``lineItem/UsageType`` style headers (CSV) or snake_case names (Parquet and
Athena-style CSV). Both are reduced to snake_case here, so that one column map serves legacy CUR and
CUR 2.0. FOCUS files keep their own column map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ..config import normalize_tag_key


class SourceFormat(StrEnum):
    """The export formats the ingest reads; the value is stored in ``source_format``."""

    CUR_LEGACY = "cur-legacy"
    CUR2 = "cur2"
    FOCUS_1_0 = "focus-1.0"
    FOCUS_1_2 = "focus-1.2"

    @property
    def is_focus(self) -> bool:
        return self in (SourceFormat.FOCUS_1_0, SourceFormat.FOCUS_1_2)


# Logical field -> candidate snake_case columns for legacy CUR and CUR 2.0, first present wins.
# A tuple entry ("product", "product_name") means that key of a map column.
CurColumn = str | tuple[str, str]
CUR_FIELDS: dict[str, tuple[CurColumn, ...]] = {
    "bill_period_start": ("bill_billing_period_start_date",),
    "payer_account_id": ("bill_payer_account_id",),
    "usage_account_id": ("line_item_usage_account_id",),
    "line_item_type": ("line_item_line_item_type",),
    "billing_entity": ("bill_billing_entity",),
    "product_code": ("line_item_product_code", "product_servicecode"),
    "product_name": ("product_product_name", ("product", "product_name")),
    "region": (
        "product_region_code",
        "product_region",
        ("product", "region_code"),
        ("product", "region"),
    ),
    "usage_type": ("line_item_usage_type",),
    "operation": ("line_item_operation",),
    "resource_id": ("line_item_resource_id",),
    "pricing_unit": ("pricing_unit", "product_pricing_unit", ("product", "pricing_unit")),
    "usage_amount": ("line_item_usage_amount",),
    "usage_start": ("line_item_usage_start_date",),
    "usage_end": ("line_item_usage_end_date",),
    "unblended": ("line_item_unblended_cost",),
    "net_unblended": ("line_item_net_unblended_cost",),
    "discount_total": ("discount_total_discount",),
    "currency": ("line_item_currency_code",),
    "invoice_id": ("bill_invoice_id",),
    "iam_principal": ("line_item_iam_principal",),
    "sp_effective": ("savings_plan_savings_plan_effective_cost",),
    "sp_net_effective": ("savings_plan_net_savings_plan_effective_cost",),
    "sp_total_commitment": ("savings_plan_total_commitment_to_date",),
    "sp_used_commitment": ("savings_plan_used_commitment",),
    "ri_effective": ("reservation_effective_cost",),
    "ri_net_effective": ("reservation_net_effective_cost",),
    "ri_unused_upfront": ("reservation_unused_amortized_upfront_fee_for_billing_period",),
    "ri_net_unused_upfront": ("reservation_net_unused_amortized_upfront_fee_for_billing_period",),
    "ri_unused_recurring": ("reservation_unused_recurring_fee",),
    "ri_net_unused_recurring": ("reservation_net_unused_recurring_fee",),
    "reservation_arn": ("reservation_reservation_a_r_n",),
}

FOCUS_FIELDS: dict[str, tuple[str, ...]] = {
    "bill_period_start": ("BillingPeriodStart",),
    "payer_account_id": ("BillingAccountId",),
    "usage_account_id": ("SubAccountId",),
    "line_item_type": ("ChargeCategory",),
    "billing_entity": ("InvoiceIssuerName",),
    "product_code": ("x_ServiceCode", "ServiceName"),
    "product_name": ("ServiceName",),
    "region": ("RegionId",),
    "usage_type": ("x_UsageType", "SkuMeter"),
    "operation": ("x_Operation",),
    "resource_id": ("ResourceId",),
    "pricing_unit": ("PricingUnit",),
    "usage_amount": ("PricingQuantity", "ConsumedQuantity"),
    "usage_start": ("ChargePeriodStart",),
    "usage_end": ("ChargePeriodEnd",),
    "unblended": ("BilledCost",),
    "effective": ("EffectiveCost",),
    "currency": ("BillingCurrency",),
    "invoice_id": ("InvoiceId",),
    "commitment_id": ("CommitmentDiscountId",),
}

MONEY_FIELDS = frozenset(
    {
        "unblended",
        "effective",
        "net_unblended",
        "discount_total",
        "sp_effective",
        "sp_net_effective",
        "sp_total_commitment",
        "sp_used_commitment",
        "ri_effective",
        "ri_net_effective",
        "ri_unused_upfront",
        "ri_net_unused_upfront",
        "ri_unused_recurring",
        "ri_net_unused_recurring",
    }
)
TIMESTAMP_FIELDS = frozenset({"usage_start", "usage_end", "bill_period_start"})
NUMBER_FIELDS = frozenset({"usage_amount"})

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def legacy_header_to_snake(name: str) -> str:
    """Convert a legacy CUR CSV header such as ``lineItem/UsageAccountId`` to ``line_item_usage_account_id``.

    Each upper-case letter starts a new word, the way AWS names the Parquet columns, so
    ``reservation/ReservationARN`` becomes ``reservation_reservation_a_r_n``.
    """
    parts = []
    for part in name.split("/"):
        spaced = re.sub(r"(?<!^)(?=[A-Z])", "_", part.strip())
        parts.append(re.sub(r"[^0-9a-z]+", "_", spaced.lower()).strip("_"))
    return "_".join(part for part in parts if part)


def split_camel(key: str) -> str:
    """Insert '_' at lower-to-upper case boundaries (``CostCenter`` -> ``Cost_Center``)."""
    return _CAMEL_BOUNDARY.sub("_", key)


def detect_format(columns: Sequence[str]) -> SourceFormat | None:
    """Return the export format that a file's column names show, or None for an unknown schema."""
    names = set(columns)
    if {"BilledCost", "ChargePeriodStart"} <= names or {"BilledCost", "EffectiveCost"} <= names:
        if names & {"SkuMeter", "InvoiceId", "PricingCurrency", "BillingAccountType", "ServiceSubcategory"}:
            return SourceFormat.FOCUS_1_2
        return SourceFormat.FOCUS_1_0
    if any(name.startswith("lineItem/") for name in names):
        return SourceFormat.CUR_LEGACY
    cur2_markers = {"bill_payer_account_name", "line_item_usage_account_name", "resource_tags", "tags"}
    if "line_item_line_item_type" in names or "line_item_usage_type" in names:
        return SourceFormat.CUR2 if names & cur2_markers else SourceFormat.CUR_LEGACY
    return None


@dataclass(frozen=True)
class TagSource:
    """The tag columns of a file.

    ``columns`` maps a column holding one tag (legacy CUR) to ``(target, key)``: the target map
    (``tags``, ``principal_tags`` or ``account_tags``) and the key as written in the export, before
    normalisation. ``map_columns`` lists map columns (CUR 2.0, FOCUS) whose keys are read from the data.
    """

    columns: dict[str, tuple[str, str]] = field(default_factory=dict)
    map_columns: tuple[str, ...] = ()


# Headers of the required fields in a legacy CUR file, for error messages.
_LEGACY_REQUIRED_HEADERS = {
    "unblended": "lineItem/UnblendedCost",
    "line_item_type": "lineItem/LineItemType",
    "usage_start": "lineItem/UsageStartDate",
}


def required_column_name(source_format: SourceFormat, logical: str) -> str:
    """Return the column name a user looks for in an export of ``source_format`` for a logical field."""
    if source_format is SourceFormat.CUR_LEGACY and logical in _LEGACY_REQUIRED_HEADERS:
        return _LEGACY_REQUIRED_HEADERS[logical]
    candidates = FOCUS_FIELDS.get(logical, ()) if source_format.is_focus else CUR_FIELDS.get(logical, ())
    names = [candidate for candidate in candidates if isinstance(candidate, str)]
    return names[0] if names else logical


def resolve_fields(
    source_format: SourceFormat, match_names: dict[str, str], map_columns: set[str]
) -> dict[str, str | tuple[str, str]]:
    """Return logical field -> physical column (or (map column, key)) for the fields present.

    ``match_names`` maps the name used for matching (snake_case for CUR, original for FOCUS) to the
    physical column. When two headers reduce to the same name, the first physical column wins.
    """
    resolved: dict[str, str | tuple[str, str]] = {}
    if source_format.is_focus:
        for logical, candidates in FOCUS_FIELDS.items():
            for candidate in candidates:
                if candidate in match_names:
                    resolved[logical] = match_names[candidate]
                    break
        return resolved
    for logical, cur_candidates in CUR_FIELDS.items():
        for cur_candidate in cur_candidates:
            if isinstance(cur_candidate, tuple):
                if cur_candidate[0] in map_columns:
                    resolved[logical] = (match_names[cur_candidate[0]], cur_candidate[1])
                    break
            elif cur_candidate in match_names:
                resolved[logical] = match_names[cur_candidate]
                break
    return resolved


def tag_columns(source_format: SourceFormat, headers: Sequence[str], physical: Sequence[str]) -> TagSource:
    """Find the tag columns of a file from its original headers (``physical`` names them in SQL)."""
    if source_format.is_focus:
        maps = tuple(p for h, p in zip(headers, physical, strict=True) if h == "Tags")
        return TagSource(map_columns=maps)
    columns: dict[str, tuple[str, str]] = {}
    maps_found: list[str] = []
    for header, name in zip(headers, physical, strict=True):
        if header.startswith("resourceTags/"):
            columns[name] = ("tags", header.split("/", 1)[1])
        elif header.startswith("iamPrincipal/"):
            columns[name] = ("principal_tags", header.split("/", 1)[1])
        elif header.startswith("accountTag/"):
            columns[name] = ("account_tags", header.split("/", 1)[1])
        elif header.startswith("resource_tags_"):
            columns[name] = ("tags", header[len("resource_tags_") :])
        elif header in ("resource_tags", "tags"):
            maps_found.append(name)
    return TagSource(columns=columns, map_columns=tuple(maps_found))


def classify_tag_key(raw_key: str) -> tuple[str, str]:
    """Return ``(target map, normalised key)`` for a tag key as written in any export format.

    ``iamPrincipal/`` and ``userAttribute/`` keys go to ``principal_tags``, ``accountTag/`` keys to
    ``account_tags`` and everything else to ``tags``. The ``user:`` or ``user_`` prefix of
    user-defined cost allocation tags is dropped, AWS-generated ``aws:`` tags keep an ``aws_`` prefix,
    camelCase is split into words, and the rest is normalised like every tag key (lower case,
    punctuation as '_'). So ``user:Team``, ``user_team`` and ``Team`` all give ``team``.
    """
    key = raw_key.strip()
    target = "tags"
    lowered = key.lower()
    if lowered.startswith("iamprincipal/"):
        target, key = "principal_tags", key.split("/", 1)[1]
    elif lowered.startswith("accounttag/"):
        target, key = "account_tags", key.split("/", 1)[1]
    elif lowered.startswith("userattribute/"):
        target, key = "principal_tags", "user_attribute_" + key.split("/", 1)[1]
    lowered = key.lower()
    if lowered.startswith(("user:", "user_")):
        key = key[5:]
    elif lowered.startswith("aws:"):
        key = "aws_" + key[4:]
    return target, normalize_tag_key(split_camel(key))
