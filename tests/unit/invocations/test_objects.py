"""Finding log objects and skipping side objects, sidecars and the permission-check marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from genai_finops.errors import InputError
from genai_finops.invocations import discover_log_objects, is_log_object_key
from genai_finops.invocations.objects import classify_key

PREFIX = "logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/06/06/07"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (f"{PREFIX}/20260606T070000123Z_0123456789abcdef.json.gz", None),
        (f"{PREFIX}/data/3f0e2c9d-example_input.json.gz", "side_object"),
        (f"{PREFIX}/data/3f0e2c9d-example_output.json.gz", "side_object"),
        (f"{PREFIX}/data/19926a63-3c07-4481-864c-49516d208539_input_media_00.pdf", "side_object"),
        (f"{PREFIX}/amazon-bedrock-logs-permission-check", "permission_check"),
        ("AWSLogs/123456789012/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check", "permission_check"),
        ("exports/3f0e2c9d_input.json.gz", "side_object"),
        ("notes/readme.txt", "not_a_log_object"),
        ("/home/me/data/local-log.jsonl", None),
    ],
)
def test_classify_key(key: str, reason: str | None) -> None:
    assert classify_key(key) == reason
    assert is_log_object_key(key) is (reason is None)


def test_discover_bucket_tree(tmp_path: Path) -> None:
    hour = tmp_path / PREFIX
    (hour / "data").mkdir(parents=True)
    (hour / "20260606T070000123Z_aaaaaaaaaaaaaaaa.json.gz").write_bytes(b"x")
    (hour / "20260606T071000123Z_bbbbbbbbbbbbbbbb.json.gz").write_bytes(b"y")
    (hour / "data" / "req_input.json.gz").write_bytes(b"z")
    (hour / "data" / "req_input_media_01.png").write_bytes(b"z")
    (hour / "amazon-bedrock-logs-permission-check").write_bytes(b"")
    objects, skipped = discover_log_objects([tmp_path / "logs"])
    assert [obj.path.name for obj in objects] == [
        "20260606T070000123Z_aaaaaaaaaaaaaaaa.json.gz",
        "20260606T071000123Z_bbbbbbbbbbbbbbbb.json.gz",
    ]
    assert objects[0].account_id == "123456789012"
    assert objects[0].region == "us-east-1"
    assert len(objects[0].etag) == 64
    assert sorted(item.reason for item in skipped) == ["permission_check", "side_object", "side_object"]


def test_discover_same_file_given_twice(tmp_path: Path) -> None:
    file = tmp_path / "one.json"
    file.write_text("{}\n")
    objects, _ = discover_log_objects([file, tmp_path])
    assert len(objects) == 1
    assert objects[0].account_id is None


def test_discover_missing_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing-folder: path not found"):
        discover_log_objects([tmp_path / "missing-folder"])
