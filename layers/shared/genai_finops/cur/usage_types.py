"""Parse Amazon Bedrock usage types into model, token class, tier, route, region and usage family.

Bedrock bills under several usage-type dialects at once:

- first party: ``USE1-Claude4.6Sonnet-input-tokens``, ``...-cache-read-input-token-count``,
  ``...-cache-write-input-token-count-1-hour``, with suffixes such as ``-batch``, ``-flex``,
  ``-priority``, ``-cross-region-global`` or ``-custom-model``;
- the OpenAI-compatible ``mantle`` endpoint: ``USE1-qwen.qwen3-32b-mantle-input-tokens-standard``;
- AWS Marketplace models: ``USW2-MP:USW2_InputTokenCount-Units`` or
  ``USW2-MP:USW2_output_tokens_global_standard-Units``, where the model is only in the product name;
- charges that are not tokens: provisioned throughput model units, guardrails, knowledge bases,
  embeddings billed per request, image and video generation, flows, AgentCore and others.

The parser runs once per distinct usage type of a delivery, never once per billing row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Billing region codes that prefix usage types, mapped to AWS region names. Geographic codes such as
# "EU" or "US" stand for a group of regions and are kept as they are, in lower case.
BILLING_REGION_CODES = {
    "USE1": "us-east-1",
    "USE2": "us-east-2",
    "USW1": "us-west-1",
    "USW2": "us-west-2",
    "UGW1": "us-gov-west-1",
    "UGE1": "us-gov-east-1",
    "CAN1": "ca-central-1",
    "CAN2": "ca-west-1",
    "SAE1": "sa-east-1",
    "MXC1": "mx-central-1",
    "EUC1": "eu-central-1",
    "EUC2": "eu-central-2",
    "EUW1": "eu-west-1",
    "EUW2": "eu-west-2",
    "EUW3": "eu-west-3",
    "EUN1": "eu-north-1",
    "EUS1": "eu-south-1",
    "EUS2": "eu-south-2",
    "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2",
    "APN3": "ap-northeast-3",
    "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2",
    "APS3": "ap-south-1",
    "APS4": "ap-southeast-3",
    "APS5": "ap-south-2",
    "APS6": "ap-southeast-4",
    "APS7": "ap-southeast-5",
    "APE1": "ap-east-1",
    "MES1": "me-south-1",
    "MEC1": "me-central-1",
    "AFS1": "af-south-1",
    "ILC1": "il-central-1",
}

_REGION_PREFIX = re.compile(r"^(?P<code>[A-Z]{2,4}\d?)-(?P<rest>.+)$")
_MARKETPLACE = re.compile(r"^(?:(?P<code>[A-Z]{2,4}\d?)-)?MP:(?:(?P<code2>[A-Z]{2,4}\d?)_)?(?P<rest>.+)$")
# The token marker of first-party and mantle usage types; the model is what precedes it.
_FIRST_PARTY_TOKEN = re.compile(
    r"-(?:mantle-)?"
    r"(?P<kind>cache-read-input-token-count|cache-write-input-token-count|cache-read-input-tokens"
    r"|cache-write-input-tokens|cache-read-tokens|cache-write-tokens|input-token-count|output-token-count"
    r"|input-tokens|output-tokens|input-token|output-token)"
    r"(?P<suffix>(?:-.*)?)$",
    re.IGNORECASE,
)

# Substring rules for charges that are not model tokens, checked in order on the usage type with
# everything but letters and digits removed, in lower case. The first match gives the usage family.
_FAMILY_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("provisionedthroughput", "modelunit"), "provisioned"),
    (("guardrail",), "guardrail"),
    (("knowledgebase", "kbstorage", "structureddata", "rerankquer", "searchunit"), "knowledge-base"),
    (("custommodelimport",), "custom-model-import"),
    (("customizationtraining", "rfttraining", "training", "finetun", "distill"), "model-customization"),
    (("custommodelstorage", "modelstorage", "storage"), "custom-model-storage"),
    (("evaluation", "humaneval", "judge"), "evaluation"),
    (("invokeflow", "flow"), "flow"),
    (("dataautomation", "bda"), "data-automation"),
    (("novacanvas", "imagegenerat", "createdimage", "image"), "image-generation"),
    (("novareel", "video", "t2v", "i2v"), "video-generation"),
    (("sonic", "speech", "audio"), "speech"),
    (("embed",), "embedding"),
    (("agentcore", "runtime", "gateway", "browser", "codeinterpreter", "memory", "identity"), "agentcore"),
)


@dataclass(frozen=True)
class UsageTypeInfo:
    """The meaning of one Bedrock usage type.

    ``tokens_per_unit`` is how many tokens one unit of ``usage_amount`` is, taken from the row's own
    pricing unit. It is None for charges that are not tokens and for units that are not token units.
    ``recognized`` is False when no rule matched; such rows are kept with ``token_class`` None.
    """

    model: str | None = None
    token_class: str | None = None
    tier: str | None = None
    route: str | None = None
    region: str | None = None
    usage_family: str | None = None
    tokens_per_unit: float | None = None
    recognized: bool = False


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def region_from_code(code: str | None) -> str | None:
    """Return the AWS region name of a billing region code, or the code in lower case for geographic ones."""
    if not code:
        return None
    return BILLING_REGION_CODES.get(code.upper(), code.lower())


def _token_class(compact: str) -> str | None:
    """Return the token class named by a usage type that has no separators left."""
    if "cacheread" in compact:
        return "cache_read"
    if "cachewrite" in compact:
        one_hour = "1h" in compact or "1hour" in compact or "onehour" in compact
        return "cache_write_1h" if one_hour else "cache_write"
    if "input" in compact:
        return "input"
    if "output" in compact:
        return "output"
    return None


def _tier(compact: str, default: str | None) -> str | None:
    if "reserved" in compact:
        return "reserved"
    if "batch" in compact:
        return "batch"
    if "flex" in compact:
        return "flex"
    if "priority" in compact:
        return "priority"
    if "latencyoptimized" in compact:
        return "latency_optimized"
    if "standard" in compact:
        return "standard"
    return default


def _route(compact: str) -> str:
    if "global" in compact:
        return "global"
    if "geo" in compact or "crossregion" in compact:
        return "geo"
    return "in_region"


def tokens_per_unit(pricing_unit: str | None, marketplace: bool) -> float | None:
    """Return how many tokens one unit is for a token usage type, or None when the unit is not about tokens.

    First-party rows have long used '1K tokens'; Marketplace rows use 'Units', meaning one million
    tokens. Newer units such as '1M tokens' or plain 'tokens' are read as written.
    """
    if pricing_unit is None or not pricing_unit.strip():
        # NOTE: a token row without a pricing unit is assumed to follow its dialect's long-standing unit.
        return 1_000_000.0 if marketplace else 1_000.0
    unit = _compact(pricing_unit)
    if unit in {"units", "unit"}:
        return 1_000_000.0 if marketplace else None
    multipliers = {
        "tokens": 1.0,
        "token": 1.0,
        "1ktokens": 1_000.0,
        "ktokens": 1_000.0,
        "thousandtokens": 1_000.0,
        "1000tokens": 1_000.0,
        "1mtokens": 1_000_000.0,
        "mtokens": 1_000_000.0,
        "milliontokens": 1_000_000.0,
        "1milliontokens": 1_000_000.0,
        "1000000tokens": 1_000_000.0,
    }
    return multipliers.get(unit)


def _family_of(compact: str) -> str | None:
    for needles, family in _FAMILY_RULES:
        if any(needle in compact for needle in needles):
            return family
    return None


def _parse_marketplace(
    code: str | None, rest: str, product_name: str | None, pricing_unit: str | None
) -> UsageTypeInfo:
    compact = _compact(rest)
    model = None
    if product_name:
        model = re.sub(r"\s*\(Amazon Bedrock Edition\)\s*$", "", product_name).strip() or None
    token_class = _token_class(compact)
    if token_class is None or not ("token" in compact or "tpm" in compact):
        family = _family_of(compact)
        return UsageTypeInfo(
            model=model,
            region=region_from_code(code),
            usage_family=family or "marketplace",
            tier=_tier(compact, None),
            recognized=family is not None,
        )
    tier = _tier(compact.replace("million", ""), "standard")
    if "tpm" in compact:
        # Reserved throughput is billed per tokens-per-minute of capacity, not per token processed.
        return UsageTypeInfo(
            model=model,
            token_class=token_class,
            tier="reserved",
            route=_route(compact),
            region=region_from_code(code),
            usage_family="reserved-throughput",
            tokens_per_unit=None,
            recognized=True,
        )
    return UsageTypeInfo(
        model=model,
        token_class=token_class,
        tier=tier,
        route=_route(compact),
        region=region_from_code(code),
        usage_family="model-inference",
        tokens_per_unit=tokens_per_unit(pricing_unit, marketplace=True),
        recognized=True,
    )


def _parse_first_party(code: str | None, rest: str, pricing_unit: str | None) -> UsageTypeInfo | None:
    token = _FIRST_PARTY_TOKEN.search(rest)
    if token is None:
        return None
    model = rest[: token.start()] or None
    suffix = _compact(token.group("suffix"))
    kind = _compact(token.group("kind"))
    token_class = _token_class(kind + suffix if "cachewrite" in kind else kind)
    family = "model-inference"
    if "custommodel" in suffix:
        family = "custom-model-inference"
    elif model is not None and "embed" in _compact(model):
        family = "embedding"
    route = _route(suffix)
    if code is not None and code.upper() not in BILLING_REGION_CODES and route == "in_region":
        # A geographic prefix such as "EU-" means the request was routed within that geography.
        route = "geo"
    return UsageTypeInfo(
        model=model,
        token_class=token_class,
        tier=_tier(suffix, "standard"),
        route=route,
        region=region_from_code(code),
        usage_family=family,
        tokens_per_unit=tokens_per_unit(pricing_unit, marketplace=False),
        recognized=True,
    )


def parse_usage_type(
    usage_type: str,
    product_code: str | None = None,
    pricing_unit: str | None = None,
    product_name: str | None = None,
) -> UsageTypeInfo:
    """Parse one Bedrock usage type; unknown strings give ``recognized=False`` and no token class."""
    text = (usage_type or "").strip()
    if not text:
        return UsageTypeInfo()

    marketplace = _MARKETPLACE.match(text)
    if marketplace is not None:
        code = marketplace.group("code") or marketplace.group("code2")
        return _parse_marketplace(code, marketplace.group("rest"), product_name, pricing_unit)
    if product_name and product_name.rstrip().endswith("(Amazon Bedrock Edition)"):
        prefix = _REGION_PREFIX.match(text)
        code = prefix.group("code") if prefix else None
        return _parse_marketplace(code, prefix.group("rest") if prefix else text, product_name, pricing_unit)

    prefix = _REGION_PREFIX.match(text)
    code = prefix.group("code") if prefix else None
    rest = prefix.group("rest") if prefix else text

    compact = _compact(rest)
    if "millionbatch" in compact or ("tokencount" in compact and "-" not in rest):
        # The CamelCase form used by the AmazonBedrockFoundationModels price list, per million tokens.
        return UsageTypeInfo(
            token_class=_token_class(compact),
            tier=_tier(compact.replace("million", ""), "standard"),
            route=_route(compact),
            region=region_from_code(code),
            usage_family="model-inference",
            tokens_per_unit=tokens_per_unit(pricing_unit, marketplace=True),
            recognized=_token_class(compact) is not None,
        )

    family = _family_of(compact)
    if family == "provisioned":
        model = re.split(r"-(?:ProvisionedThroughput|ModelUnits?)", rest, maxsplit=1, flags=re.IGNORECASE)[0]
        commitment = "nocommit" if "nocommit" in compact else None
        if commitment is None:
            months = re.search(r"(\d+)month", compact)
            commitment = f"{months.group(1)}month" if months else None
        return UsageTypeInfo(
            model=model or None,
            tier="provisioned" if commitment in (None, "nocommit") else f"provisioned_{commitment}",
            region=region_from_code(code),
            usage_family="provisioned",
            recognized=True,
        )

    parsed = _parse_first_party(code, rest, pricing_unit)
    if parsed is not None:
        if family in {"guardrail", "knowledge-base", "image-generation", "video-generation", "speech"}:
            return UsageTypeInfo(
                model=parsed.model,
                token_class=parsed.token_class,
                tier=parsed.tier,
                route=parsed.route,
                region=parsed.region,
                usage_family=family,
                tokens_per_unit=parsed.tokens_per_unit,
                recognized=True,
            )
        return parsed

    if family is None and product_code == "AmazonBedrockAgentCore":
        family = "agentcore"
    if family is None:
        return UsageTypeInfo(region=region_from_code(code))
    return UsageTypeInfo(region=region_from_code(code), usage_family=family, recognized=True)
