"""Masking of the personal part of IAM principal ARNs."""

from __future__ import annotations

import hashlib
import hmac
import re

import duckdb
import pytest

from genai_finops.principals import mask_principal, register_principal_mask

KEY = b"k" * 32
MASKED = re.compile(r"^hmac-[0-9a-f]{16}$")

# The masking rule written again with Python's re and hmac, independently of the SQL macro, so that the
# tests check the macro against a second reading of the same rule.
_PERSONAL = re.compile(
    r"(?P<kept>arn:aws[a-z-]*:(?:sts::[0-9]*:assumed-role/[^/]+/|sts::[0-9]*:federated-user/|iam::[0-9]*:user/(?:.*/)?))"
    r"(?P<name>[^/]+)"
)
_API_KEY_USER = re.compile(r"BedrockAPIKey-[A-Za-z0-9]+")
_KEPT = re.compile(
    r"arn:aws[a-z-]*:iam::[0-9]*:(?:role/(?:[^/]+/)*[^/]+|root)|BedrockAPIKey-[A-Za-z0-9]+"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com"
)


def reference_mask(principal: str, key: bytes) -> str:
    def keyed(text: str) -> str:
        return "hmac-" + hmac.new(key, f"iam-principal:{text}".encode(), hashlib.sha256).hexdigest()[:16]

    match = _PERSONAL.fullmatch(principal)
    if match:
        name = match.group("name")
        return principal if _API_KEY_USER.fullmatch(name) else match.group("kept") + keyed(name)
    return principal if _KEPT.fullmatch(principal) else keyed(principal)


def test_session_name_is_masked() -> None:
    masked = mask_principal("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_abc/alice@example.com", KEY)
    prefix, _, name = masked.rpartition("/")
    assert prefix == "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_abc"
    assert MASKED.match(name)
    assert "alice" not in masked


@pytest.mark.parametrize(
    ("principal", "kept"),
    [
        ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/"),
        ("arn:aws:iam::123456789012:user/engineering/bob.smith", "arn:aws:iam::123456789012:user/engineering/"),
        ("arn:aws:sts::123456789012:federated-user/carol", "arn:aws:sts::123456789012:federated-user/"),
        (
            "arn:aws-us-gov:sts::123456789012:assumed-role/App/i-0abc",
            "arn:aws-us-gov:sts::123456789012:assumed-role/App/",
        ),
    ],
)
def test_user_names_are_masked(principal: str, kept: str) -> None:
    masked = mask_principal(principal, KEY)
    assert masked.startswith(kept)
    assert MASKED.match(masked.removeprefix(kept))


@pytest.mark.parametrize(
    "principal",
    [
        "arn:aws:iam::123456789012:role/service-role/App",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/BedrockAPIKey-abcd",
        "bedrock.amazonaws.com",
        "BedrockAPIKey-abc123",
    ],
)
def test_non_personal_principals_are_kept(principal: str) -> None:
    assert mask_principal(principal, KEY) == principal


@pytest.mark.parametrize(
    "principal",
    [
        "arn:aws:sts::123456789012:assumed-role/Role/alice@example.com/",
        "arn:aws:sts::123456789012:assumed-role/path/to/Role/leo@example.com",
        "arn:aws:sts:us-east-1:123456789012:assumed-role/Role/x@example.com",
        "arn:aws:iam::123456789012:user/a/x@example.com/",
        "arn:aws:iam::123456789012:user/BedrockAPIKey-x@example.com",
        "BedrockAPIKey-x@example.com",
        "x@example.com.amazonaws.com",
    ],
)
def test_unknown_forms_hashed_whole(principal: str) -> None:
    masked = mask_principal(principal, KEY)
    assert "example.com" not in masked
    assert MASKED.match(masked.rpartition("/")[2])


def test_non_arn_value_masked_whole() -> None:
    assert MASKED.match(mask_principal("dave@example.com", KEY))


def test_mask_is_stable_and_keyed() -> None:
    arn = "arn:aws:sts::123456789012:assumed-role/App/alice"
    assert mask_principal(arn, KEY) == mask_principal(arn, KEY)
    assert mask_principal(arn, KEY) != mask_principal(arn, b"o" * 32)
    assert mask_principal(arn, KEY) != mask_principal("arn:aws:sts::123456789012:assumed-role/App/bob", KEY)


@pytest.mark.parametrize("key", [KEY, b"short", b"x" * 100])
def test_sql_macro_matches_reference(key: bytes) -> None:
    principals = [
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_abc/alice@example.com",
        "arn:aws:iam::123456789012:user/engineering/bob.smith",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:sts::123456789012:federated-user/carol",
        "arn:aws-cn:sts::123456789012:assumed-role/App/i-0abc",
        "arn:aws:iam::123456789012:role/service-role/App",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/BedrockAPIKey-abcd",
        "BedrockAPIKey-abc123",
        "bedrock.amazonaws.com",
        "dave@example.com",
        "arn:aws:sts::123456789012:assumed-role/App/",
        "",
        "émile/ünïcode",
        "arn:aws:sts::123456789012:assumed-role/App/back\\slash",
        "arn:aws:sts::123456789012:assumed-role/Role/alice@example.com/",
        "arn:aws:sts::123456789012:assumed-role/path/to/Role/leo@example.com",
        "arn:aws:sts:us-east-1:123456789012:assumed-role/Role/x@example.com",
        "arn:aws:iam::123456789012:user/BedrockAPIKey-x@example.com",
        "BedrockAPIKey-x@example.com",
        "x@example.com.amazonaws.com",
        "BedrockAPIKey-abc\n",
        "arn:aws:sts::123456789012:assumed-role/App/alice\n",
        "arn:aws:iam::123456789012:user/a/b\\c/d",
    ]
    connection = duckdb.connect()
    register_principal_mask(connection, key)
    masked = connection.execute("SELECT mask_principal(unnest(?::VARCHAR[]))", [principals]).fetchall()
    assert [row[0] for row in masked] == [reference_mask(principal, key) for principal in principals]
    assert connection.execute("SELECT mask_principal(NULL)").fetchone() == (None,)
