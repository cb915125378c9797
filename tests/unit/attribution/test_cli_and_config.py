"""The ``attribute`` command and the attribution section of the governance configuration."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from genai_finops.cli.main import main
from genai_finops.config import parse_config
from genai_finops.errors import ConfigError
from genai_finops.lake.local import LocalLake

from .builders import cost_line, invocation, write_cost_lines, write_invocations


def test_attribute_command_prints_totals(lake: LocalLake, capsys: pytest.CaptureFixture[str]) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "1.50")])
    write_invocations(lake, [invocation("r", "2026-01-05 10:01", input_tokens=10)])

    status = main(["attribute", "--period", "2026-01", "--lake", str(lake.root), "--quiet"])

    output = capsys.readouterr().out
    assert status == 0
    assert "2026-01: bill 1.5000000000 (cost_net) = requests 1.5000000000 + remainder 0.0000000000" in output
    assert "1 requests (1 billed, 0 estimated, 0 unpriced)" in output


def test_attribute_command_runs_every_period(lake: LocalLake, capsys: pytest.CaptureFixture[str]) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "1.00")])
    write_invocations(lake, [invocation("r", "2026-02-05 10:01", input_tokens=10)])

    status = main(["attribute", "--lake", str(lake.root), "--quiet"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line.split(":")[0] for line in lines] == ["2026-01", "2026-02"]


def test_attribute_command_rejects_bad_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["attribute", "--period", "2026-13", "--lake", str(tmp_path)])

    assert exit_info.value.code == 2
    assert "invalid billing period '2026-13'" in capsys.readouterr().err


@pytest.mark.usefixtures("skewed_bill_total")
def test_attribute_command_fails_on_mismatch(lake: LocalLake, capsys: pytest.CaptureFixture[str]) -> None:
    write_cost_lines(lake, "2026-01", [cost_line("2026-01-05 10:00", "1.00")])
    write_invocations(
        lake,
        [invocation("a", "2026-01-05 10:01", input_tokens=1), invocation("b", "2026-01-05 10:02", input_tokens=1)],
    )

    status = main(["attribute", "--period", "2026-01", "--lake", str(lake.root), "--quiet"])

    assert status == 1
    assert "genai-finops attribute: error: billing period 2026-01: billed request costs" in capsys.readouterr().err
    assert lake.partitions("request_costs") == []


def test_attribution_defaults() -> None:
    attribution = parse_config({}).attribution

    assert attribution.cost_column == "cost_net"
    assert attribution.divergence_tolerance_share == Decimal("0.10")
    assert attribution.plan_prices == []


def test_unknown_cost_column_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"attribution\.cost_column"):
        parse_config({"attribution": {"cost_column": "cost_blended"}})


def test_duplicate_plan_feature_is_rejected() -> None:
    plans = [{"feature": "chat", "monthly_price": 10}, {"feature": "chat", "monthly_price": 20}]

    with pytest.raises(ConfigError, match=r"more than one plan price: \['chat'\]"):
        parse_config({"attribution": {"plan_prices": plans}})


def test_negative_override_price_is_rejected() -> None:
    override = {"model": "Claude3Haiku", "token_class": "input", "price_per_million": "-1"}

    with pytest.raises(ConfigError, match=r"attribution\.price_overrides\.0\.price_per_million"):
        parse_config({"attribution": {"price_overrides": [override]}})
