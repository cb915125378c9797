"""The inference profile inventory: sources, the table, the resolver and the Bedrock adapter."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from genai_finops.config import parse_config
from genai_finops.errors import InputError
from genai_finops.invocations import ConfigProfileSource, JsonFileProfileSource, ProfileResolver, refresh_profiles
from genai_finops.invocations.aws import BedrockProfileSource, InventoryError
from genai_finops.invocations.profiles import model_and_route_from_arns
from genai_finops.lake.local import LocalLake

ACCOUNT = "111122223333"
APP_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/supportbot1"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def test_refresh_from_config_writes_table(lake: LocalLake) -> None:
    config = parse_config(
        {
            "invocations": {
                "inference_profiles": [
                    {
                        "arn": APP_ARN,
                        "model": f"us.{HAIKU}",
                        "name": "support",
                        "tags": {"Team": "support", "env": "prd"},
                    }
                ]
            }
        }
    )
    count = refresh_profiles(lake, ConfigProfileSource(config), config, now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    (row,) = lake.query_duckdb("SELECT * FROM inference_profiles").to_pylist()
    assert count == 1
    assert row["profile_id"] == APP_ARN
    assert row["model"] == HAIKU
    assert row["route"] == "geo"
    assert row["account_id"] == ACCOUNT
    assert row["region"] == "us-east-1"
    assert row["team"] == "support"
    assert row["environment"] == "prod"
    assert dict(row["tags"]) == {"Team": "support", "env": "prd"}
    assert row["source"] == "config"


def test_resolver_reads_table(lake: LocalLake) -> None:
    config = parse_config({"invocations": {"inference_profiles": [{"arn": APP_ARN, "model": HAIKU}]}})
    refresh_profiles(lake, ConfigProfileSource(config), config)
    resolver = ProfileResolver.from_lake(lake)
    profile = resolver.resolve(APP_ARN)
    assert profile is not None
    assert profile.model == HAIKU
    assert profile.route == "in_region"
    assert resolver.resolve(APP_ARN.replace("supportbot1", "other")) is None


def test_resolver_on_empty_lake(lake: LocalLake) -> None:
    assert len(ProfileResolver.from_lake(lake)) == 0


def test_json_file_accepts_both_shapes(tmp_path: Path) -> None:
    other = APP_ARN.replace("supportbot1", "search2")
    file = tmp_path / "profiles.json"
    file.write_text(
        json.dumps(
            {
                "inference_profiles": [
                    {"arn": APP_ARN, "model": HAIKU, "tags": {"team": "support"}},
                    {
                        "inferenceProfileArn": other,
                        "inferenceProfileName": "search",
                        "type": "APPLICATION",
                        "models": [
                            {"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"},
                            {"modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}"},
                        ],
                        "tags": [{"key": "team", "value": "search"}],
                    },
                ]
            }
        )
    )
    records = {record.profile_id: record for record in JsonFileProfileSource(file).profiles()}
    assert records[APP_ARN].model == HAIKU
    assert records[other].model == HAIKU
    assert records[other].route == "geo"
    assert dict(records[other].tags) == {"team": "search"}


def test_json_file_errors_name_the_entry(tmp_path: Path) -> None:
    file = tmp_path / "profiles.json"
    file.write_text(json.dumps([{"arn": APP_ARN}]))
    with pytest.raises(InputError, match=r"profiles.json\[0\]: invalid profile entry: model"):
        JsonFileProfileSource(file).profiles()
    file.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        JsonFileProfileSource(file).profiles()


@pytest.mark.parametrize(
    ("arns", "expected"),
    [
        ([f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"], (HAIKU, "in_region")),
        (
            [
                f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
                f"arn:aws:bedrock:us-east-2::foundation-model/{HAIKU}",
            ],
            (HAIKU, "geo"),
        ),
        ([f"arn:aws:bedrock:::foundation-model/{HAIKU}"], (HAIKU, "global")),
        ([], (None, None)),
    ],
)
def test_model_and_route_from_arns(arns: list[str], expected: tuple[str | None, str | None]) -> None:
    assert model_and_route_from_arns(arns) == expected


def _stubbed_bedrock() -> tuple[object, Stubber]:
    client = boto3.client("bedrock", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "list_inference_profiles",
        {
            "inferenceProfileSummaries": [
                {
                    "inferenceProfileName": "support",
                    "inferenceProfileArn": APP_ARN,
                    "inferenceProfileId": "supportbot1",
                    "models": [{"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"}],
                    "status": "ACTIVE",
                    "type": "APPLICATION",
                }
            ]
        },
        {"typeEquals": "APPLICATION"},
    )
    stubber.add_response(
        "get_inference_profile",
        {
            "inferenceProfileName": "support",
            "inferenceProfileArn": APP_ARN,
            "inferenceProfileId": "supportbot1",
            "models": [{"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"}],
            "status": "ACTIVE",
            "type": "APPLICATION",
        },
        {"inferenceProfileIdentifier": APP_ARN},
    )
    stubber.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "Team", "value": "support"}, {"key": "feature", "value": "bot"}]},
        {"resourceARN": APP_ARN},
    )
    return client, stubber


def test_bedrock_source_reads_profiles_and_tags(lake: LocalLake) -> None:
    client, stubber = _stubbed_bedrock()
    with stubber:
        count = refresh_profiles(lake, BedrockProfileSource(clients=[client]))
        stubber.assert_no_pending_responses()
    (row,) = lake.query_duckdb(
        "SELECT profile_id, model, route, team, feature, source FROM inference_profiles"
    ).to_pylist()
    assert count == 1
    assert row == {
        "profile_id": APP_ARN,
        "model": HAIKU,
        "route": "in_region",
        "team": "support",
        "feature": "bot",
        "source": "bedrock",
    }


def test_bedrock_source_denied_names_permissions(lake: LocalLake) -> None:
    client = boto3.client("bedrock", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("list_inference_profiles", service_error_code="AccessDeniedException")
    with stubber, pytest.raises(InventoryError, match="bedrock:ListInferenceProfiles"):
        refresh_profiles(lake, BedrockProfileSource(clients=[client]))
    assert lake.partitions("inference_profiles") == []
