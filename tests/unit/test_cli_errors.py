"""Usage and runtime errors of ``genai-finops``: what a user reads on stderr and the exit status."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from genai_finops.cli import ingest_logs
from genai_finops.cli.main import build_parser, main

ACCOUNT = "111122223333"


def _write_log(folder: Path) -> Path:
    """Write one gzip log object with one Bedrock invocation record."""
    record = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-11-03T10:20:00Z",
        "accountId": ACCOUNT,
        "region": "us-east-1",
        "requestId": "request-1",
        "operation": "Converse",
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "identity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/BotRole/run-1"},
        "input": {"inputBodyJson": {"messages": []}, "inputTokenCount": 10},
        "output": {"outputBodyJson": {"stopReason": "end_turn"}, "outputTokenCount": 5},
    }
    path = folder / f"AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/us-east-1/2026/11/03/10/object.json.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress((json.dumps(record) + "\n").encode()))
    return path


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command that argparse must reject, check that it exits with status 2, and return its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


# -- --memory-limit ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "512", "1e9", "GB", "4 G", "1.GB", "50%"])
def test_memory_limit_malformed_rejected(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    error = _usage_error(["ingest-logs", str(tmp_path), "--lake", str(tmp_path), "--memory-limit", value], capsys)

    assert "argument --memory-limit" in error
    assert f"invalid memory limit '{value}'" in error
    assert "for example 512MB or 4GB" in error
    assert "Traceback" not in error


@pytest.mark.parametrize("value", ["1KB", "0GB", "255MB", "0.2GiB"])
def test_memory_limit_too_small_rejected(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    error = _usage_error(["ingest-logs", str(tmp_path), "--lake", str(tmp_path), "--memory-limit", value], capsys)

    assert "argument --memory-limit" in error
    assert f"memory limit '{value}' is too small" in error
    assert "at least 256MB" in error


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("256MB", "256MB"), ("512mb", "512mb"), ("4GB", "4GB"), ("1.5 GiB", "1.5GiB"), (" 1TB ", "1TB")],
)
def test_memory_limit_accepted_forms(value: str, parsed: str, tmp_path: Path) -> None:
    args = build_parser().parse_args(["ingest-logs", str(tmp_path), "--memory-limit", value])

    assert args.memory_limit == parsed


def test_memory_limit_reaches_duckdb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "logs"
    _write_log(logs)

    status = main(["ingest-logs", str(logs), "--lake", str(tmp_path / "lake"), "--memory-limit", "512MB", "--quiet"])

    assert status == 0
    assert "lines read 1 = loaded 1 " in capsys.readouterr().out


def test_ingest_logs_out_of_memory_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    _write_log(logs)

    def out_of_memory(*args: Any, **kwargs: Any) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 64.0 MiB")

    monkeypatch.setattr(ingest_logs, "ingest_log_objects", out_of_memory)

    status = main(["ingest-logs", str(logs), "--lake", str(tmp_path / "lake"), "--memory-limit", "300MB", "--quiet"])

    captured = capsys.readouterr()
    assert status == 1
    assert "DuckDB ran out of memory under --memory-limit 300MB" in captured.err
    assert "larger --memory-limit or a smaller --batch-mb" in captured.err
    assert "stopped: the next batch failed" in captured.out


# -- --lake --------------------------------------------------------------------------------------


def test_lake_file_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake_file = tmp_path / "f"
    lake_file.touch()
    export = tmp_path / "export.csv"
    export.write_text("identity/LineItemId\n", encoding="utf-8")

    error = _usage_error(["ingest-cur", str(export), "--lake", str(lake_file)], capsys)

    assert "argument --lake" in error
    assert f"invalid lake path '{lake_file}': {lake_file} is a file, not a folder" in error
    assert "NotADirectoryError" not in error


def test_lake_under_file_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake_file = tmp_path / "f"
    lake_file.touch()

    error = _usage_error(["ingest-logs", str(tmp_path), "--lake", str(lake_file / "lake")], capsys)

    assert f"{lake_file} is a file, not a folder" in error


def test_lake_file_from_environment_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake_file = tmp_path / "f"
    lake_file.touch()
    monkeypatch.setenv("GENAI_FINOPS_LAKE", str(lake_file))

    error = _usage_error(["query", "SELECT 1"], capsys)

    assert f"{lake_file} is a file, not a folder" in error


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "SELECT * FROM attribution_coverage"],
        ["attribute"],
        ["run-month", "2026-11"],
        ["budgets", "--date", "2026-11-30"],
        ["detect", "--at", "2026-12-01T00:00:00Z"],
    ],
)
def test_missing_lake_rejected(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nonexistent"

    status = main([*argv, "--lake", str(missing)])

    captured = capsys.readouterr()
    assert status == 1
    assert f"error: lake not found: {missing} does not exist" in captured.err
    assert "ingest-cur or ingest-logs first, or pass --lake" in captured.err
    assert captured.out == ""
    assert not missing.exists()


@pytest.mark.parametrize(
    ("command", "requirement"),
    [
        (["ingest-cur", "x"], "may_create"),
        (["ingest-logs", "x"], "may_create"),
        (["refresh-profiles"], "may_create"),
        (["generate-demo", "x"], "unused"),
        (["subscribe", "--team", "t", "--email", "e@example.com"], "unused"),
        (["query", "SELECT 1"], "must_exist"),
        (["attribute"], "must_exist"),
        (["run-month", "2026-11"], "must_exist"),
        (["budgets"], "must_exist"),
        (["detect"], "must_exist"),
    ],
)
def test_lake_requirement_per_command(command: list[str], requirement: str) -> None:
    assert build_parser().parse_args(command).lake_requirement == requirement


def test_ingest_logs_creates_new_lake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "logs"
    _write_log(logs)
    lake_dir = tmp_path / "new" / "lake"

    status = main(["ingest-logs", str(logs), "--lake", str(lake_dir), "--quiet"])

    assert status == 0
    assert lake_dir.is_dir()
    assert main(["query", "SELECT count(*) AS n FROM invocations", "--lake", str(lake_dir), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["n", "1"]


# -- run-month -----------------------------------------------------------------------------------


def test_run_month_failure_reason_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # With --no-refresh and no attribution tables for the period, the RefreshAttribution step fails.
    lake_dir = tmp_path / "lake"
    lake_dir.mkdir()

    status = main(["run-month", "2026-11", "--no-refresh", "--lake", str(lake_dir), "--quiet"])

    error = capsys.readouterr().err
    assert status == 1
    assert "genai-finops run-month: error: monthly run 2026-11-" in error
    assert "failed in step RefreshAttribution: InputError: attribution_coverage has no partition for 2026-11" in error
    assert "recorded in governance_runs" in error


def test_run_month_failure_when_recording_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from genai_finops.governance import steps

    def broken_record(event: dict[str, Any], runtime: steps.GovernanceRuntime) -> dict[str, Any]:
        raise RuntimeError("lake unavailable")

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "RecordRunFunctionArn", broken_record)
    lake_dir = tmp_path / "lake"
    lake_dir.mkdir()

    status = main(["run-month", "2026-11", "--no-refresh", "--lake", str(lake_dir), "--quiet"])

    error = capsys.readouterr().err
    assert status == 1
    assert "failed in step RefreshAttribution, and recording the failure failed too" in error
    assert "MonthlyRunFailed" in error


# -- output --------------------------------------------------------------------------------------


def test_query_json_ends_with_newline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["query", "SELECT 1 AS a UNION ALL SELECT 2", "--lake", str(tmp_path), "--format", "json"])

    assert status == 0
    assert capsys.readouterr().out == '{"a": 1}\n{"a": 2}\n'


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_ingest_logs_summary_ends_with_newline(
    output_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    _write_log(logs)

    status = main(["ingest-logs", str(logs), "--lake", str(tmp_path / "lake"), "--format", output_format, "--quiet"])

    output = capsys.readouterr().out
    assert status == 0
    assert output.endswith("\n")
    assert not output.endswith("\n\n")


def test_detect_rejects_year_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["detect", "--at", "9999-12-31T23:00:00Z", "--lake", str(tmp_path)])
    assert raised.value.code == 2
    assert "the year must be between 1970 and 9000" in capsys.readouterr().err


def test_wide_csv_out_of_memory_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 4,000 tag columns by 500 rows is a valid file that DuckDB cannot convert in 256MB.
    headers = ["lineItem/LineItemType", "lineItem/UnblendedCost", "lineItem/UsageStartDate"]
    headers += [f"resourceTags/user:t{index}" for index in range(4000)]
    row = ",".join(["Usage", "1.0", "2026-10-05T10:00:00Z"] + ["value"] * 4000)
    path = tmp_path / "wide.csv.gz"
    path.write_bytes(gzip.compress((",".join(headers) + "\n" + (row + "\n") * 500).encode()))
    code = main(["ingest-cur", str(path), "--lake", str(tmp_path / "lake"), "--memory-limit", "256MB", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "ran out of memory" in err
    assert "--memory-limit" in err
    assert "malformed" not in err.replace("not known to be malformed", "")
