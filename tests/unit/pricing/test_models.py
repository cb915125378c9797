"""Model names of the bill and of invocation logs mapped to one model id."""

from __future__ import annotations

import pytest

from genai_finops.errors import ConfigError
from genai_finops.pricing import load_model_names
from genai_finops.pricing.models import name_key


@pytest.mark.parametrize(
    ("name", "model_id", "source"),
    [
        ("Claude3.5Sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0", "shipped"),
        ("Claude 3 Haiku", "anthropic.claude-3-haiku-20240307-v1:0", "shipped"),
        ("Claude 3 Haiku (Amazon Bedrock Edition)", "anthropic.claude-3-haiku-20240307-v1:0", "shipped"),
        ("anthropic.claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0", "shipped"),
        ("NovaLite", "amazon.nova-lite-v1:0", "shipped"),
        ("us.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", "identity"),
        ("global.anthropic.claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0", "shipped"),
        ("meta.llama3-1-8b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0", "identity"),
    ],
)
def test_names_resolve_to_model_ids(name: str, model_id: str, source: str) -> None:
    assert load_model_names().resolve(name) == (model_id, source)


def test_configured_name_overrides_shipped() -> None:
    names = load_model_names({"Claude3.5Sonnet": "anthropic.claude-3-5-sonnet-20241022-v2:0", "Acme": "acme.a-v1"})

    assert names.resolve("Claude 3.5 Sonnet") == ("anthropic.claude-3-5-sonnet-20241022-v2:0", "config")
    assert names.resolve("ACME") == ("acme.a-v1", "config")


def test_conflicting_configured_names_raise() -> None:
    with pytest.raises(ConfigError, match="maps to both"):
        load_model_names({"Acme Writer": "acme.a", "acme-writer": "acme.b"})


def test_name_key_ignores_case_and_punctuation() -> None:
    assert name_key("Claude 3.5 Sonnet") == name_key("Claude3.5Sonnet") == "claude35sonnet"


def test_alias_table_lists_each_name_once() -> None:
    table = load_model_names().alias_table(["NovaPro", None, "NovaPro", "x.y"])

    assert table.to_pylist() == [
        {"name": "NovaPro", "model_id": "amazon.nova-pro-v1:0", "source": "shipped"},
        {"name": "x.y", "model_id": "x.y", "source": "identity"},
    ]
