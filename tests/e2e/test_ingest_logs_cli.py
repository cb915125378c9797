"""``genai-finops ingest-logs`` and ``refresh-profiles`` on a bucket-style tree in a temporary folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from genai_finops.cli.main import main

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"
HOUR = f"AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/us-east-1/2026/11/03/10"
APP_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/bot1"


def _record(request_id: str, model_id: str, input_tokens: int, output_tokens: int) -> dict[str, object]:
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-11-03T10:20:00Z",
        "accountId": ACCOUNT,
        "region": "us-east-1",
        "requestId": request_id,
        "operation": "Converse",
        "modelId": model_id,
        "identity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/BotRole/run-1"},
        "requestMetadata": {"feature": "chat"},
        "input": {"inputBodyJson": {"messages": []}, "inputTokenCount": input_tokens},
        "output": {"outputBodyJson": {"stopReason": "end_turn"}, "outputTokenCount": output_tokens},
    }


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode()))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    _write(
        root / HOUR / "20261103T102000000Z_00000000000000a1.json.gz",
        [
            json.dumps(_record("r1", "anthropic.claude-3-haiku-20240307-v1:0", 100, 10)),
            json.dumps(_record("r2", APP_ARN, 200, 20)),
            json.dumps(_record("r2", APP_ARN, 200, 20)),
        ],
    )
    (root / HOUR / "data").mkdir()
    (root / HOUR / "data" / "r1_input.json.gz").write_bytes(gzip.compress(b"{}"))
    (root / HOUR / "amazon-bedrock-logs-permission-check").write_bytes(b"")
    return root


def test_ingest_prints_summary_and_progress(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = tmp_path / "lake"
    assert main(["ingest-logs", str(tree), "--lake", str(lake)]) == 0
    captured = capsys.readouterr()
    assert "lines read 3 = loaded 2 + duplicate 1 + skipped 0 + quarantined 0" in captured.out
    assert "tokens loaded: input 300, cache read 0, cache write 0, output 30" in captured.out
    assert "skipped: permission_check 1, side_object 1" in captured.out
    assert "with an unresolved application inference profile: 1" in captured.out
    assert "found 1 log objects" in captured.err
    assert "published 1 invocations partitions: 2026-11-03" in captured.err

    assert main(["ingest-logs", str(tree), "--lake", str(lake), "--format", "json", "--quiet"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["objects_unchanged"] == 1
    assert second["lines_read"] == 0


def test_refresh_profiles_then_ingest_resolves(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = tmp_path / "lake"
    profiles = tmp_path / "profiles.json"
    profiles.write_text(json.dumps([{"arn": APP_ARN, "model": "us.amazon.nova-pro-v1:0", "tags": {"team": "bots"}}]))
    assert main(["refresh-profiles", "--file", str(profiles), "--lake", str(lake)]) == 0
    assert "inference_profiles: 1 profiles from json_file" in capsys.readouterr().out

    assert main(["ingest-logs", str(tree), "--lake", str(lake), "--quiet", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_unresolved_profile"] == 0
    assert main(["query", "SELECT request_id, model, route, team, iam_role FROM invocations ORDER BY 1",
                 "--lake", str(lake), "--format", "json"]) == 0  # fmt: skip
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        {"request_id": "r1", "model": "anthropic.claude-3-haiku-20240307-v1:0", "route": "in_region",
         "team": None, "iam_role": "BotRole"},
        {"request_id": "r2", "model": "amazon.nova-pro-v1:0", "route": "geo", "team": "bots", "iam_role": "BotRole"},
    ]  # fmt: skip


def test_truncated_object_left_out_others_loaded(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tree / HOUR / "20261103T103000000Z_00000000000000b2.json.gz"
    lines = [json.dumps(_record(f"t{index}", "amazon.nova-pro-v1:0", 1, 1)) + " " * 500 for index in range(50)]
    _write(broken, lines)
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) - 40])
    lake = tmp_path / "lake"
    assert main(["ingest-logs", str(tree), "--lake", str(lake), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 log objects failed and were left out" in captured.err
    assert "failed and left out:" in captured.out
    assert "20261103T103000000Z_00000000000000b2.json.gz" in captured.out
    assert "truncated or corrupt" in captured.out
    # The good object of the same batch is loaded all the same.
    assert "objects: 1 ingested" in captured.out
    assert main(["query", "SELECT count(*) AS n FROM invocations", "--lake", str(lake), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == {"n": 2}


def test_missing_path_exits_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest-logs", str(tmp_path / "nope"), "--lake", str(tmp_path / "lake")]) == 1
    assert "path not found" in capsys.readouterr().err
