from __future__ import annotations

import json
from pathlib import Path

import pytest

from genai_finops.cli.main import main


def test_query_prints_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "query",
            "SELECT 1 AS a, CAST(2.5 AS DECIMAL(38,10)) AS b",
            "--lake",
            str(tmp_path),
            "--format",
            "json",
        ]
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out) == {"a": 1, "b": "2.5000000000"}


def test_query_prints_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["query", "SELECT 'x,y' AS a, NULL AS b", "--lake", str(tmp_path), "--format", "csv"])
    assert status == 0
    assert capsys.readouterr().out.splitlines() == ["a,b", '"x,y",']


def test_query_prints_table_with_row_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["query", "SELECT count(*) AS lines FROM cost_lines", "--lake", str(tmp_path)])
    assert status == 0
    output = capsys.readouterr().out
    assert "lines" in output
    assert "(1 rows)" in output


def test_query_error_exits_non_zero_with_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["query", "SELECT nope FROM cost_lines", "--lake", str(tmp_path)])
    assert status == 1
    assert "query failed" in capsys.readouterr().err


def test_lake_defaults_to_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GENAI_FINOPS_LAKE", str(tmp_path / "from-env"))
    from genai_finops.cli.main import build_parser

    args = build_parser().parse_args(["query", "SELECT 1"])
    assert args.lake == tmp_path / "from-env"


def test_query_reads_file_and_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql_file = tmp_path / "q.sql"
    sql_file.write_text("SELECT ? AS period, CAST(? AS INTEGER) + 1 AS next", encoding="utf-8")
    status = main(
        [
            "query",
            "--file",
            str(sql_file),
            "--param",
            "2026-11",
            "--param",
            "41",
            "--lake",
            str(tmp_path),
            "--format",
            "json",
        ]
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out) == {"period": "2026-11", "next": 42}


@pytest.mark.parametrize("argv", [["query", ""], ["query"], ["query", "SELECT 1", "--file", "x.sql"]])
def test_query_without_one_statement_source_fails(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--lake", str(tmp_path)]) == 1
    assert "error:" in capsys.readouterr().err


def test_query_missing_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--file", str(tmp_path / "missing.sql"), "--lake", str(tmp_path)]) == 1
    assert "missing.sql" in capsys.readouterr().err
