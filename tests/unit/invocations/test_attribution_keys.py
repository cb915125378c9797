"""Attribution keys: request metadata, then profile tags, then principal mapping, with sources recorded."""

from __future__ import annotations

import pyarrow.parquet as pq

from genai_finops.config import parse_config
from genai_finops.invocations import ProfileResolver
from genai_finops.invocations.keys import role_name
from genai_finops.invocations.profiles import ResolvedProfile
from genai_finops.lake.local import LocalLake

from .conftest import Ingest, rows
from .logs import ACCOUNT, record

PROFILE_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/support01"
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/SupportBotRole/i-0abc"

CONFIG = parse_config(
    {
        "principals": [
            {"match": "SupportBotRole", "team": "support", "feature": "bot", "environment": "prod", "tenant": "acme"},
            {"match": "*", "team": "fallback-team"},
        ]
    }
)
PROFILES = ProfileResolver(
    [
        ResolvedProfile(
            profile_id=PROFILE_ARN,
            model="anthropic.claude-3-haiku-20240307-v1:0",
            route="in_region",
            tags={"Team": "profile-team", "Feature": "profile-feature"},
        )
    ]
)


def test_metadata_wins_over_profile_and_principal(ingest: Ingest, lake: LocalLake) -> None:
    line = record(
        "req-1",
        modelId=PROFILE_ARN,
        identity={"arn": ROLE_SESSION},
        requestMetadata={"team": "metadata-team"},
    )
    ingest([line], config_override=CONFIG, profiles=PROFILES)
    (row,) = rows(lake)
    assert row["team"] == "metadata-team"
    assert row["feature"] == "profile-feature"
    assert row["environment"] == "prod"
    assert row["tenant"] == "acme"
    assert row["key_sources"] == {
        "team": "request_metadata",
        "feature": "profile_tags",
        "environment": "principal_mapping",
        "tenant": "principal_mapping",
    }
    assert row["model"] == "anthropic.claude-3-haiku-20240307-v1:0"


def test_metadata_aliases_follow_tag_standard(ingest: Ingest, lake: LocalLake) -> None:
    line = record("req-1", requestMetadata={"Owner": "owner-team", "Team": "team-tag", "Env": "Production"})
    ingest([line])
    (row,) = rows(lake)
    assert row["team"] == "team-tag"
    assert row["environment"] == "prod"
    assert row["key_sources"]["environment"] == "request_metadata"


def test_invalid_metadata_value_falls_through(ingest: Ingest, lake: LocalLake) -> None:
    both = record("req-mapped", identity={"arn": ROLE_SESSION}, requestMetadata={"environment": "moon"})
    alone = record("req-alone", requestMetadata={"environment": "moon"})
    ingest([both, alone], config_override=CONFIG)
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert by_id["req-mapped"]["environment"] == "prod"
    assert by_id["req-mapped"]["key_sources"]["environment"] == "principal_mapping"
    assert by_id["req-alone"]["environment"] is None
    assert by_id["req-alone"]["key_sources"]["environment"] == "invalid_value"


def test_unattributed_keys_marked_missing(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("req-1")])
    (row,) = rows(lake)
    assert row["team"] is None
    assert row["key_sources"] == {key: "missing" for key in ("team", "feature", "environment", "tenant")}


def test_first_matching_principal_mapping_wins(ingest: Ingest, lake: LocalLake) -> None:
    other = record("req-other", identity={"arn": f"arn:aws:iam::{ACCOUNT}:user/alice"})
    session = record("req-session", identity={"arn": ROLE_SESSION})
    ingest([other, session], config_override=CONFIG)
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert by_id["req-session"]["team"] == "support"
    assert by_id["req-other"]["team"] == "fallback-team"
    assert by_id["req-other"]["feature"] is None


def test_sts_sessions_grouped_under_role(ingest: Ingest, lake: LocalLake) -> None:
    sessions = [
        record(f"req-{name}", identity={"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/DataRole/{name}"})
        for name in ("alice", "bob")
    ]
    user = record("req-user", identity={"arn": f"arn:aws:iam::{ACCOUNT}:user/carol"})
    ingest([*sessions, user])
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert by_id["req-alice"]["iam_role"] == "DataRole"
    assert by_id["req-bob"]["iam_role"] == "DataRole"
    assert by_id["req-user"]["iam_role"] is None


def test_session_and_user_names_stored_masked(ingest: Ingest, lake: LocalLake) -> None:
    session = record("req-session", identity={"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/DataRole/alice@example.com"})
    user = record("req-user", identity={"arn": f"arn:aws:iam::{ACCOUNT}:user/carol"})
    role = record("req-role", identity={"arn": f"arn:aws:iam::{ACCOUNT}:role/Batch"})
    ingest([session, user, role])
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert by_id["req-session"]["principal"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/DataRole/hmac-")
    assert by_id["req-user"]["principal"].startswith(f"arn:aws:iam::{ACCOUNT}:user/hmac-")
    assert by_id["req-role"]["principal"] == f"arn:aws:iam::{ACCOUNT}:role/Batch"
    # Parquet pages are compressed, so the files are searched as decoded rows.
    stored = "".join(str(pq.read_table(path).to_pylist()) for path in lake.root.rglob("*.parquet"))
    assert "alice@example.com" not in stored
    assert "carol" not in stored


def test_role_name_forms() -> None:
    assert role_name(f"arn:aws:sts::{ACCOUNT}:assumed-role/Role-A/session") == "Role-A"
    assert role_name(f"arn:aws:iam::{ACCOUNT}:role/service/Role-B") == "Role-B"
    assert role_name(f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/GovRole/x") == "GovRole"
    assert role_name(f"arn:aws:iam::{ACCOUNT}:user/dev") is None
    assert role_name(None) is None


def test_unresolved_profile_keeps_row_with_null_model(ingest: Ingest, lake: LocalLake) -> None:
    unknown = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/unknown9"
    report = ingest([record("req-1", modelId=unknown), record("req-2", modelId=PROFILE_ARN)], profiles=PROFILES)
    by_id = {row["request_id"]: row for row in rows(lake)}
    assert by_id["req-1"]["model"] is None
    assert by_id["req-1"]["inference_profile_id"] == unknown
    assert by_id["req-1"]["input_tokens"] == 100
    assert by_id["req-2"]["model"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert report.rows_unresolved_profile == 1
    assert report.rows_loaded == 2
