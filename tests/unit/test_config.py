from __future__ import annotations

from pathlib import Path

import pytest

from genai_finops.config import GovernanceConfig, load_config, normalize_tag_key, parse_config_text
from genai_finops.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "governance.yaml"


def test_defaults_without_file() -> None:
    config = load_config(None)
    assert config.currency == "USD"
    assert "AmazonBedrock" in config.genai_scope.all_product_codes()
    assert config.tag_standard.alias_map()["owner"] == "team"


def test_shipped_example_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert isinstance(config, GovernanceConfig)
    assert config.tag_standard.keys["environment"].allowed_values


def test_unknown_key_is_named_in_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text("tag_standard:\n  keyz: {}\n", "gov.yaml")
    message = str(caught.value)
    assert "gov.yaml" in message
    assert "tag_standard.keyz" in message


def test_unknown_standard_key_lists_allowed_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text("tag_standard:\n  keys:\n    squad: {aliases: [squad]}\n", "gov.yaml")
    assert "squad" in str(caught.value)
    assert "team" in str(caught.value)


def test_invalid_yaml_is_reported_with_source() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config_text("a: [1, 2\n", "broken.yaml")


def test_top_level_must_be_mapping() -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_config_text("- 1\n- 2\n", "list.yaml")


def test_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_config(tmp_path / "missing.yaml")


def test_partial_key_override_keeps_other_defaults() -> None:
    config = parse_config_text("tag_standard:\n  keys:\n    team: {aliases: [squad]}\n", "gov.yaml")
    aliases = config.tag_standard.alias_map()
    assert aliases["squad"] == "team"
    assert aliases["env"] == "environment"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user:Team", "user_team"),
        ("Cost Center", "cost_center"),
        ("app-name", "app_name"),
        (" Env ", "env"),
        ("équipe", "équipe"),
        ("チーム", "チーム"),
        ("--", "--"),
    ],
)
def test_tag_keys_normalise_like_export_columns(raw: str, expected: str) -> None:
    assert normalize_tag_key(raw) == expected


def test_environment_synonyms_map_to_canonical_values() -> None:
    standard = load_config(None).tag_standard
    assert standard.normalize_environment("Production") == "prod"
    assert standard.normalize_environment("dev") == "dev"
    assert standard.normalize_environment(None) is None


def test_principal_mapping_matches_role_glob() -> None:
    config = parse_config_text("principals:\n  - match: 'chat-*'\n    team: support\n", "gov.yaml")
    mapping = config.principals[0]
    assert mapping.matches(None, "chat-backend")
    assert not mapping.matches(None, "batch-backend")


def test_relative_profile_file_resolves_beside_config(tmp_path: Path) -> None:
    config_file = tmp_path / "conf" / "gov.yaml"
    config_file.parent.mkdir()
    config_file.write_text("invocations:\n  inference_profiles_file: profiles.json\n", encoding="utf-8")
    config = load_config(config_file)
    assert config.invocations.inference_profiles_file == tmp_path / "conf" / "profiles.json"


def test_cap_on_unknown_environment_is_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        text = "budgets:\n  environment_caps:\n    - environment: devv\n      monthly_amount: 10\n"
        parse_config_text(text, "gov.yaml")
    message = str(caught.value)
    assert "budgets.environment_caps.0.environment" in message
    assert "'devv'" in message


def test_environment_synonym_in_cap_names_canonical_value() -> None:
    with pytest.raises(ConfigError, match="write environment 'development' as 'dev'"):
        parse_config_text(
            "budgets:\n  environment_caps:\n    - environment: development\n      monthly_amount: 10\n", "gov.yaml"
        )
