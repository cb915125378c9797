"""User ids only as keyed hashes; prompts and responses in no lake file and no log output."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from pathlib import Path

import pytest

from genai_finops.config import parse_config
from genai_finops.errors import ConfigError
from genai_finops.invocations import LocalUserKey
from genai_finops.lake.local import LocalLake

from .conftest import Ingest, rows
from .logs import SECRET_MARKER, record, stream_record


def test_user_key_is_hmac_of_configured_key(ingest: Ingest, lake: LocalLake) -> None:
    config = parse_config({"invocations": {"user_id_metadata_key": "enduser"}})
    ingest([record("req-1", requestMetadata={"enduser": "alice@example.com", "team": "t1"})], config_override=config)
    (row,) = rows(lake)
    key = LocalUserKey(lake.root).key()
    expected = hmac.new(key, b"alice@example.com", hashlib.sha256).hexdigest()
    assert row["user_key"] == expected
    assert row["request_metadata"] == {"team": "t1"}


def test_same_user_same_key_across_objects(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("req-1", requestMetadata={"user_id": "u-42"})])
    ingest([record("req-2", requestMetadata={"user_id": "u-42"}), record("req-3", requestMetadata={"user_id": "u-7"})])
    keys = {row["request_id"]: row["user_key"] for row in rows(lake)}
    assert keys["req-1"] == keys["req-2"]
    assert keys["req-1"] != keys["req-3"]
    assert len(keys["req-1"]) == 64


def test_user_id_key_variants_removed(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("req-1", requestMetadata={"User-Id": "bob", "feature": "chat"})])
    (row,) = rows(lake)
    assert row["request_metadata"] == {"feature": "chat"}
    assert row["user_key"] is not None


def test_only_listed_metadata_keys_stored(ingest: Ingest, lake: LocalLake) -> None:
    config = parse_config({"invocations": {"stored_metadata_keys": ["workflow"]}})
    metadata = {"team": "t1", "Workflow": "triage", "customer_email": "carol@example.com", "user_id": "u-1"}
    ingest([record("req-1", requestMetadata=metadata)], config_override=config)
    (row,) = rows(lake)
    assert row["request_metadata"] == {"team": "t1", "Workflow": "triage"}
    assert row["user_key"] is not None


def test_unlisted_metadata_keys_dropped(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("req-1", requestMetadata={"session_email": "dave@example.com"})])
    (row,) = rows(lake)
    assert not row["request_metadata"]


def test_no_user_id_gives_null_key(ingest: Ingest, lake: LocalLake) -> None:
    ingest([record("req-1", requestMetadata={"team": "t1"}), record("req-2")])
    assert [row["user_key"] for row in rows(lake)] == [None, None]


def test_bodies_and_raw_ids_never_stored_or_logged(
    ingest: Ingest, lake: LocalLake, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    raw_user = "user-" + SECRET_MARKER
    converse = record("req-1", requestMetadata={"user_id": raw_user})
    converse["input"]["inputBodyJson"] = {"messages": [{"content": [{"text": SECRET_MARKER}]}]}
    converse["output"]["outputBodyJson"]["output"]["message"]["content"][0]["text"] = SECRET_MARKER
    stream = stream_record("req-2", 5, 6)
    stream["output"]["outputBodyJson"][1]["delta"]["text"] = SECRET_MARKER
    broken = '{"requestId": "req-3", "input": {"inputBodyJson": "' + SECRET_MARKER + '"'
    wrong_type = record("req-4", input={"inputTokenCount": SECRET_MARKER})
    caplog.set_level(logging.DEBUG)
    report = ingest([converse, stream, broken, wrong_type])
    assert report.rows_loaded == 2
    assert report.lines_quarantined == 2

    for path in lake.root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert SECRET_MARKER.encode() not in content, f"{path} contains a body or raw user id"
    captured = capsys.readouterr()
    assert SECRET_MARKER not in captured.out + captured.err
    assert SECRET_MARKER not in caplog.text


def test_local_key_created_private_and_reused(tmp_path: Path) -> None:
    provider = LocalUserKey(tmp_path)
    key = provider.key()
    path = tmp_path / "_secrets" / "user_key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert LocalUserKey(tmp_path).key() == key


def test_local_key_readable_by_others_rejected(tmp_path: Path) -> None:
    LocalUserKey(tmp_path).key()
    path = tmp_path / "_secrets" / "user_key"
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        LocalUserKey(tmp_path).key()


def test_local_key_wrong_length_rejected(tmp_path: Path) -> None:
    path = tmp_path / "_secrets" / "user_key"
    path.parent.mkdir()
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="is 5 bytes long"):
        LocalUserKey(tmp_path).key()
