"""The usage-type parser against real Bedrock usage-type strings from bills and price lists."""

from __future__ import annotations

import pytest

from genai_finops.cur.usage_types import parse_usage_type, tokens_per_unit

HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"

# usage type, product name, pricing unit -> model, token class, tier, route, region, family, tokens per unit
CASES = [
    ("USW2-Claude4.6Sonnet-input-tokens", None, "1K tokens", "Claude4.6Sonnet", "input", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USW2-Claude4.6Sonnet-output-tokens", None, "1K tokens", "Claude4.6Sonnet", "output", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USW2-Claude4.6Sonnet-cache-write-input-token-count", None, "1K tokens", "Claude4.6Sonnet", "cache_write", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USW2-Claude4.6Sonnet-cache-read-input-token-count", None, "1K tokens", "Claude4.6Sonnet", "cache_read", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USW2-Claude4.5Sonnet-cache-write-input-token-count", None, "1K tokens", "Claude4.5Sonnet", "cache_write", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USW2-Claude4.5Sonnet-input-tokens", None, "1K tokens", "Claude4.5Sonnet", "input", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USW2-Claude4.5Sonnet-output-tokens", None, "1K tokens", "Claude4.5Sonnet", "output", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USE1-Claude4.6Sonnet-output-tokens", None, "1K tokens", "Claude4.6Sonnet", "output", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-NovaLite-input-tokens", None, "1K tokens", "NovaLite", "input", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-NovaLite-output-tokens", None, "1K tokens", "NovaLite", "output", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USW2-anthropic.claude-opus-4-8-mantle-cache-write-tokens-standard", None, "1K tokens", "anthropic.claude-opus-4-8", "cache_write", "standard", "in_region", "us-west-2", "model-inference", 1000.0),
    ("USE1-anthropic.claude-sonnet-4-5-mantle-cache-write-tokens-1h-standard", None, "1K tokens", "anthropic.claude-sonnet-4-5", "cache_write_1h", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Claude4Sonnet-cache-write-input-token-count-1-hour", None, "1K tokens", "Claude4Sonnet", "cache_write_1h", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Claude3Sonnet-input-tokens", None, "1K tokens", "Claude3Sonnet", "input", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Claude2.0-input-tokens", None, "1K tokens", "Claude2.0", "input", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("EUN1-Claude-output-tokens", None, "1K tokens", "Claude", "output", "standard", "in_region", "eu-north-1", "model-inference", 1000.0),
    ("USE1-Llama4-Maverick-17B-input-tokens-batch", None, "1K tokens", "Llama4-Maverick-17B", "input", "batch", "in_region", "us-east-1", "model-inference", 1000.0),
    ("APN1-NovaPro-input-tokens-batch", None, "1K tokens", "NovaPro", "input", "batch", "in_region", "ap-northeast-1", "model-inference", 1000.0),
    ("USE1-NovaMicro-input-tokens-batch", None, "1K tokens", "NovaMicro", "input", "batch", "in_region", "us-east-1", "model-inference", 1000.0),
    ("EU-Qwen3-32B-input-tokens-batch", None, "1K tokens", "Qwen3-32B", "input", "batch", "geo", "eu", "model-inference", 1000.0),
    ("USE1-GPT-OSS-Safeguard-20B-input-tokens-priority", None, "1K tokens", "GPT-OSS-Safeguard-20B", "input", "priority", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Gemma-3-4B-IT-input-tokens-flex", None, "1K tokens", "Gemma-3-4B-IT", "input", "flex", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Qwen3-32B-input-tokens-priority", None, "1K tokens", "Qwen3-32B", "input", "priority", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-qwen.qwen3-32b-mantle-input-tokens-standard", None, "1K tokens", "qwen.qwen3-32b", "input", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("APS2-openai.gpt-oss-20b-mantle-input-tokens-batch", None, "1K tokens", "openai.gpt-oss-20b", "input", "batch", "in_region", "ap-southeast-2", "model-inference", 1000.0),
    ("USE1-Nova2.0Lite-input-tokens-cross-region-global", None, "1K tokens", "Nova2.0Lite", "input", "standard", "global", "us-east-1", "model-inference", 1000.0),
    ("USE1-Nova2.0Lite-cache-read-input-token-count", None, "1K tokens", "Nova2.0Lite", "cache_read", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Nova2.0Lite-cache-write-input-token-count", None, "1K tokens", "Nova2.0Lite", "cache_write", "standard", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Nova2.0Lite-output-tokens-custom-model", None, "1K tokens", "Nova2.0Lite", "output", "standard", "in_region", "us-east-1", "custom-model-inference", 1000.0),
    ("USE1-Nova2.0Lite-ProvisionedThroughput-NoCommit-ModelUnits", None, "Hrs", "Nova2.0Lite", None, "provisioned", None, "us-east-1", "provisioned", None),
    ("USE1-Claude3Haiku-ProvisionedThroughput-6Month-ModelUnits", None, "Hrs", "Claude3Haiku", None, "provisioned_6month", None, "us-east-1", "provisioned", None),
    ("USW2-MP:USW2_InputTokenCount-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "standard", "in_region", "us-west-2", "model-inference", 1_000_000.0),
    ("USW2-MP:USW2_OutputTokenCount-Units", HAIKU, "Units", "Claude 3 Haiku", "output", "standard", "in_region", "us-west-2", "model-inference", 1_000_000.0),
    ("USE1-MP:USE1_InputTokenCount-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "standard", "in_region", "us-east-1", "model-inference", 1_000_000.0),
    ("USE2-MP:USE2_InputTokenCount_Global-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "standard", "global", "us-east-2", "model-inference", 1_000_000.0),
    ("USW2-MP:USW2_input_tokens_standard-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "standard", "in_region", "us-west-2", "model-inference", 1_000_000.0),
    ("USW2-MP:USW2_output_tokens_global_standard-Units", HAIKU, "Units", "Claude 3 Haiku", "output", "standard", "global", "us-west-2", "model-inference", 1_000_000.0),
    ("USW2-MP:USW2_input_tokens_global_standard-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "standard", "global", "us-west-2", "model-inference", 1_000_000.0),
    ("USW2-MP:USW2_cache_read_input_tokens_standard-Units", HAIKU, "Units", "Claude 3 Haiku", "cache_read", "standard", "in_region", "us-west-2", "model-inference", 1_000_000.0),
    ("USW2-MP:USW2_cache_write_1h_input_tokens_standard-Units", HAIKU, "Units", "Claude 3 Haiku", "cache_write_1h", "standard", "in_region", "us-west-2", "model-inference", 1_000_000.0),
    ("USE1-MP:USE1_MillionBatchInputTokens-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "batch", "in_region", "us-east-1", "model-inference", 1_000_000.0),
    ("USE1-MP:USE1_MillionBatchOutputTokens-Units", HAIKU, "Units", "Claude 3 Haiku", "output", "batch", "in_region", "us-east-1", "model-inference", 1_000_000.0),
    ("USE1-MP:USE1_Reserved_1Month_InputTPM_Geo-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "reserved", "geo", "us-east-1", "reserved-throughput", None),
    ("USE1-MP:USE1_input_tokens_priority-Units", HAIKU, "Units", "Claude 3 Haiku", "input", "priority", "in_region", "us-east-1", "model-inference", 1_000_000.0),
    ("USE1-MP:USE1_output_tokens_flex-Units", HAIKU, "Units", "Claude 3 Haiku", "output", "flex", "in_region", "us-east-1", "model-inference", 1_000_000.0),
    ("USE1-Claude3.5Sonnet-input-tokens-latency-optimized", None, "1K tokens", "Claude3.5Sonnet", "input", "latency_optimized", "in_region", "us-east-1", "model-inference", 1000.0),
    ("USE1-Claude4.5Haiku-input-tokens-geo", None, "1K tokens", "Claude4.5Haiku", "input", "standard", "geo", "us-east-1", "model-inference", 1000.0),
    ("USE1-TitanEmbeddingsV2-Text-input-tokens", None, "1K tokens", "TitanEmbeddingsV2-Text", "input", "standard", "in_region", "us-east-1", "embedding", 1000.0),
    ("USE1-Claude4.6Sonnet-input-tokens", None, "1M tokens", "Claude4.6Sonnet", "input", "standard", "in_region", "us-east-1", "model-inference", 1_000_000.0),
    ("USE1-Claude4.6Sonnet-input-tokens", None, "tokens", "Claude4.6Sonnet", "input", "standard", "in_region", "us-east-1", "model-inference", 1.0),
    ("USE1-Guardrail-ContentPolicyUnitsConsumed", None, "1K units", None, None, None, None, "us-east-1", "guardrail", None),
    ("USW2-KnowledgeBase-StructuredData-Queries", None, "Queries", None, None, None, None, "us-west-2", "knowledge-base", None),
    ("USE1-Cohere-Rerank-v3.5-search_units", None, "Units", None, None, None, None, "us-east-1", "knowledge-base", None),
    ("USE1-NovaCanvas-T2I-1024-Standard-created_image", None, "Images", None, None, None, None, "us-east-1", "image-generation", None),
    ("USE1-NovaReel-T2V-720p-video-seconds", None, "Seconds", None, None, None, None, "us-east-1", "video-generation", None),
    ("USE1-Nova2.0Sonic-speech-input-tokens", None, "1K tokens", "Nova2.0Sonic-speech", "input", "standard", "in_region", "us-east-1", "speech", 1000.0),
    ("USE1-InvokeFlow-NodeTransitions", None, "1K transitions", None, None, None, None, "us-east-1", "flow", None),
    ("USE1-DataAutomation-StandardOutput-Pages", None, "Pages", None, None, None, None, "us-east-1", "data-automation", None),
    ("USE1-CustomModelImport-Inference-CMU-Minutes", None, "Minutes", None, None, None, None, "us-east-1", "custom-model-import", None),
    ("USE1-Customization-Training-Claude3Haiku", None, "1K tokens", None, None, None, None, "us-east-1", "model-customization", None),
    ("USE1-CustomModel-Storage-Claude3Haiku", None, "Month", None, None, None, None, "us-east-1", "custom-model-storage", None),
    ("USE1-ModelEvaluation-HumanTask", None, "Tasks", None, None, None, None, "us-east-1", "evaluation", None),
]


@pytest.mark.parametrize(
    ("usage_type", "product_name", "unit", "model", "token_class", "tier", "route", "region", "family", "per_unit"),
    CASES,
    ids=[f"{case[0]}|{case[2]}" for case in CASES],
)
def test_parse_usage_type_table(
    usage_type: str,
    product_name: str | None,
    unit: str,
    model: str | None,
    token_class: str | None,
    tier: str | None,
    route: str | None,
    region: str | None,
    family: str,
    per_unit: float | None,
) -> None:
    info = parse_usage_type(usage_type, "AmazonBedrock", unit, product_name)
    assert info.recognized
    assert info.model == model
    assert info.token_class == token_class
    assert info.tier == tier
    assert info.route == route
    assert info.region == region
    assert info.usage_family == family
    assert info.tokens_per_unit == per_unit


def test_table_covers_more_than_fifty_strings() -> None:
    assert len({case[0] for case in CASES}) > 50


def test_agentcore_product_code_gives_family() -> None:
    info = parse_usage_type("USE1-Consumption-vCPU-Hours", "AmazonBedrockAgentCore", "vCPU-Hours")
    assert info.usage_family == "agentcore"
    assert info.token_class is None


def test_unknown_usage_type_is_not_recognized() -> None:
    info = parse_usage_type("USE1-SomethingNew-Widgets", "AmazonBedrock", "Widgets")
    assert not info.recognized
    assert info.token_class is None
    assert info.usage_family is None
    assert info.region == "us-east-1"


def test_empty_usage_type_is_not_recognized() -> None:
    assert not parse_usage_type("", "AmazonBedrock").recognized


@pytest.mark.parametrize(
    ("unit", "marketplace", "expected"),
    [
        ("1K tokens", False, 1000.0),
        ("1k Tokens", False, 1000.0),
        ("1M tokens", False, 1_000_000.0),
        ("Million Tokens", True, 1_000_000.0),
        ("tokens", False, 1.0),
        ("Units", True, 1_000_000.0),
        ("Units", False, None),
        ("Hrs", False, None),
        (None, False, 1000.0),
        (None, True, 1_000_000.0),
    ],
)
def test_tokens_per_unit_follows_row_unit(unit: str | None, marketplace: bool, expected: float | None) -> None:
    assert tokens_per_unit(unit, marketplace) == expected
