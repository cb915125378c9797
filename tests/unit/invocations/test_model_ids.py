"""Reading logged model ids: base ids, system profiles, their ARNs and application profiles."""

from __future__ import annotations

import pytest

from genai_finops.invocations import parse_model_id

SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
APP_ARN = "arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/a1b2c3d4e5f6"


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (SONNET, (SONNET, None, "in_region")),
        ("amazon.nova-pro-v1:0", ("amazon.nova-pro-v1:0", None, "in_region")),
        (f"us.{SONNET}", (SONNET, f"us.{SONNET}", "geo")),
        (f"eu.{SONNET}", (SONNET, f"eu.{SONNET}", "geo")),
        (f"apac.{SONNET}", (SONNET, f"apac.{SONNET}", "geo")),
        (f"us-gov.{SONNET}", (SONNET, f"us-gov.{SONNET}", "geo")),
        (f"global.{SONNET}", (SONNET, f"global.{SONNET}", "global")),
        (
            f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.{SONNET}",
            (SONNET, f"us.{SONNET}", "geo"),
        ),
        (
            "arn:aws:bedrock:us-west-2:111122223333:inference-profile/global.anthropic.claude-opus-4-6-v1",
            ("anthropic.claude-opus-4-6-v1", "global.anthropic.claude-opus-4-6-v1", "global"),
        ),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}", (SONNET, None, "in_region")),
        (APP_ARN, (None, APP_ARN, None)),
        ("arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc", (None, None, None)),
        ("", (None, None, None)),
        (None, (None, None, None)),
    ],
)
def test_parse_model_id(model_id: str | None, expected: tuple[str | None, str | None, str | None]) -> None:
    assert parse_model_id(model_id) == expected
