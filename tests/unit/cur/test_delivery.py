"""Discovery of deliveries and their replace-once semantics in the lake."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from genai_finops.config import GovernanceConfig
from genai_finops.cur import Delivery, discover_deliveries, ingest_delivery
from genai_finops.errors import InputError
from genai_finops.invocations import LocalUserKey
from genai_finops.lake.local import LocalLake

from .builders import cost_lines, cur2_parquet, cur2_row, legacy_row, write_csv


def _data_export(root: Path, export: str, period: str, execution: str, cost: float, mtime: float) -> Path:
    data = root / "cur2" / export / "data" / f"BILLING_PERIOD={period}"
    part = cur2_parquet(data / f"{export}-00001.snappy.parquet", [cur2_row(line_item_unblended_cost=cost)])
    manifest = root / "cur2" / export / "metadata" / f"BILLING_PERIOD={period}" / f"{export}-Manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        json.dumps(
            {
                "executionId": execution,
                "billingPeriod": {"start": f"{period}-01T00:00:00.000Z"},
                "dataFiles": [f"s3://bucket/cur2/{export}/data/BILLING_PERIOD={period}/{part.name}"],
            }
        )
    )
    (manifest.parent / f"{export}-Metadata.json").write_text("{}")
    os.utime(manifest, (mtime, mtime))
    return manifest


class TestDiscovery:
    def test_data_exports_tree_uses_manifest(self, tmp_path: Path) -> None:
        manifest = _data_export(tmp_path, "org-cur2", "2026-10", "exec-1", 1.0, 1_000)
        [delivery] = discover_deliveries([tmp_path])
        assert delivery.export_id == "org-cur2"
        assert delivery.delivery_id == "exec-1"
        assert delivery.billing_period == "2026-10"
        assert delivery.manifest == manifest
        assert [path.name for path in delivery.files] == ["org-cur2-00001.snappy.parquet"]

    def test_legacy_tree_uses_period_manifest(self, tmp_path: Path) -> None:
        report = tmp_path / "prefix" / "cost"
        period = report / "20261001-20261101"
        old = write_csv(period / "assembly-old" / "cost-1.csv.gz", [legacy_row()])
        new = write_csv(period / "assembly-new" / "cost-1.csv.gz", [legacy_row()])
        for assembly, part in (("assembly-old", old), ("assembly-new", new)):
            (period / assembly / "cost-Manifest.json").write_text(
                json.dumps(
                    {"assemblyId": assembly, "reportKeys": [f"prefix/cost/20261001-20261101/{assembly}/{part.name}"]}
                )
            )
        (period / "cost-Manifest.json").write_text(
            json.dumps(
                {
                    "assemblyId": "assembly-new",
                    "reportName": "cost",
                    "billingPeriod": {"start": "20261001T000000.000Z"},
                    "reportKeys": ["prefix/cost/20261001-20261101/assembly-new/cost-1.csv.gz"],
                }
            )
        )
        [delivery] = discover_deliveries([tmp_path])
        assert delivery.export_id == "cost"
        assert delivery.delivery_id == "assembly-new"
        assert delivery.billing_period == "2026-10"
        assert delivery.files == (new,)

    def test_loose_file_is_own_delivery(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "bill.csv.gz", [legacy_row()])
        [delivery] = discover_deliveries([path])
        assert delivery.export_id == "bill"
        assert delivery.delivery_id.startswith("sha256-")
        assert delivery.manifest is None

    def test_manifest_with_missing_file_fails(self, tmp_path: Path) -> None:
        manifest = tmp_path / "x-Manifest.json"
        manifest.write_text(json.dumps({"reportKeys": ["prefix/x/missing.csv.gz"]}))
        with pytest.raises(InputError, match=r"missing\.csv\.gz"):
            discover_deliveries([manifest])

    def test_metadata_json_is_not_data(self, tmp_path: Path) -> None:
        _data_export(tmp_path, "e", "2026-10", "exec-1", 1.0, 1_000)
        deliveries = discover_deliveries([tmp_path])
        assert all(path.suffix != ".json" for delivery in deliveries for path in delivery.files)

    def test_period_folder_without_manifest_is_one_delivery(self, tmp_path: Path) -> None:
        folder = tmp_path / "exports" / "daily" / "data" / "BILLING_PERIOD=2026-10"
        write_csv(folder / "daily-00001.csv.gz", [legacy_row(id="1")])
        write_csv(folder / "daily-00002.csv.gz", [legacy_row(id="2")])
        [delivery] = discover_deliveries([tmp_path / "exports"])
        assert delivery.export_id == "daily"
        assert delivery.billing_period == "2026-10"
        assert [path.name for path in delivery.files] == ["daily-00001.csv.gz", "daily-00002.csv.gz"]

    def test_hidden_lake_folder_is_not_scanned(self, tmp_path: Path) -> None:
        write_csv(tmp_path / "bill.csv", [legacy_row()])
        cur2_parquet(tmp_path / ".finops" / "tables" / "x.parquet", [cur2_row()])
        assert [delivery.export_id for delivery in discover_deliveries([tmp_path])] == ["bill"]

    def test_missing_path_fails(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="no such file"):
            discover_deliveries([tmp_path / "nope"])


def _ingest_tree(lake: LocalLake, root: Path) -> list[str]:
    statuses = []
    for delivery in discover_deliveries([root]):
        report = ingest_delivery(lake, GovernanceConfig(), delivery, user_key=LocalUserKey(lake.root))
        statuses.extend(period.status for period in report.periods)
    return statuses


def _total(lake: LocalLake) -> Decimal:
    table = lake.query_duckdb("SELECT COALESCE(sum(cost_unblended), 0) AS total FROM cost_lines")
    return Decimal(table.column("total")[0].as_py())


class TestDeliverySemantics:
    def test_newer_delivery_replaces_period(self, lake: LocalLake, tmp_path: Path) -> None:
        first, second = tmp_path / "a", tmp_path / "b"
        _data_export(first, "e", "2026-10", "exec-1", 1.0, 1_000)
        _data_export(second, "e", "2026-10", "exec-2", 3.0, 2_000)
        assert _ingest_tree(lake, first) == ["loaded"]
        assert _ingest_tree(lake, second) == ["loaded"]
        assert _total(lake) == Decimal("3")
        assert lake.partitions("cost_lines") == [{"billing_period": "2026-10", "export_id": "e"}]

    def test_same_delivery_again_changes_nothing(self, lake: LocalLake, tmp_path: Path) -> None:
        _data_export(tmp_path / "x", "e", "2026-10", "exec-1", 1.0, 1_000)
        _ingest_tree(lake, tmp_path / "x")
        location = json.loads((lake.root / "_catalog" / "cost_lines.json").read_text())
        assert _ingest_tree(lake, tmp_path / "x") == ["already loaded"]
        assert json.loads((lake.root / "_catalog" / "cost_lines.json").read_text()) == location
        assert _total(lake) == Decimal("1")

    def test_older_delivery_does_not_replace_newer(self, lake: LocalLake, tmp_path: Path) -> None:
        newer, older = tmp_path / "new", tmp_path / "old"
        _data_export(newer, "e", "2026-10", "exec-2", 3.0, 2_000)
        _data_export(older, "e", "2026-10", "exec-1", 1.0, 1_000)
        _ingest_tree(lake, newer)
        assert _ingest_tree(lake, older) == ["superseded"]
        assert _total(lake) == Decimal("3")

    def test_loose_older_file_does_not_replace(self, lake: LocalLake, tmp_path: Path) -> None:
        final = write_csv(tmp_path / "final.csv", [legacy_row(cost="2.00", invoice="INV-1")])
        draft = write_csv(tmp_path / "draft.csv", [legacy_row(cost="1.00")])
        os.utime(draft, (1_000, 1_000))
        os.utime(final, (2_000, 2_000))
        config = GovernanceConfig()
        for path in (final, draft):
            [delivery] = discover_deliveries([path])
            report = ingest_delivery(
                lake, config, Delivery(**{**delivery.__dict__, "export_id": "cost"}), user_key=LocalUserKey(lake.root)
            )
        assert report.periods[0].status == "superseded"
        assert [line["invoice_id"] for line in cost_lines(lake)] == ["INV-1"]

    def test_invoiced_delivery_kept_against_newer_draft(self, lake: LocalLake, tmp_path: Path) -> None:
        # A draft copied later (newer modification time) must not roll back the invoiced month.
        final = write_csv(tmp_path / "final.csv", [legacy_row(cost="2.00", invoice="INV-1")])
        draft = write_csv(tmp_path / "draft.csv", [legacy_row(cost="1.00")])
        os.utime(final, (1_000, 1_000))
        os.utime(draft, (2_000, 2_000))
        config = GovernanceConfig()
        for path in (final, draft):
            [delivery] = discover_deliveries([path])
            report = ingest_delivery(
                lake, config, Delivery(**{**delivery.__dict__, "export_id": "cost"}), user_key=LocalUserKey(lake.root)
            )
        assert report.periods[0].status == "superseded"
        assert [line["invoice_id"] for line in cost_lines(lake)] == ["INV-1"]
        runs = lake.query_duckdb("SELECT status, message FROM ingest_runs ORDER BY started_at").to_pylist()
        assert runs[-1]["status"] == "superseded"
        assert "invoiced" in runs[-1]["message"]

    def test_invoiced_delivery_replaces_newer_draft(self, lake: LocalLake, tmp_path: Path) -> None:
        draft = write_csv(tmp_path / "draft.csv", [legacy_row(cost="1.00")])
        final = write_csv(tmp_path / "final.csv", [legacy_row(cost="2.00", invoice="INV-1")])
        os.utime(draft, (2_000, 2_000))
        os.utime(final, (1_000, 1_000))
        config = GovernanceConfig()
        for path in (draft, final):
            [delivery] = discover_deliveries([path])
            report = ingest_delivery(
                lake, config, Delivery(**{**delivery.__dict__, "export_id": "cost"}), user_key=LocalUserKey(lake.root)
            )
        assert report.periods[0].status == "loaded"
        assert report.periods[0].final
        assert [line["invoice_id"] for line in cost_lines(lake)] == ["INV-1"]

    @pytest.mark.parametrize("invoices", [[" ", " "], ["INV-2", ""]])
    def test_blank_or_partial_invoice_ids_not_final(self, lake: LocalLake, tmp_path: Path, invoices: list[str]) -> None:
        # Whitespace is no invoice id, and a month is invoiced only when every line has one.
        final = write_csv(tmp_path / "final.csv", [legacy_row(cost="2.00", invoice="INV-1")])
        rows = [legacy_row(id=f"l{index}", cost="5.00", invoice=invoice) for index, invoice in enumerate(invoices)]
        later = write_csv(tmp_path / "later.csv", rows)
        os.utime(final, (1_000, 1_000))
        os.utime(later, (2_000, 2_000))
        config = GovernanceConfig()
        for path in (final, later):
            [delivery] = discover_deliveries([path])
            renamed = Delivery(**{**delivery.__dict__, "export_id": "cost"})
            report = ingest_delivery(lake, config, renamed, user_key=LocalUserKey(lake.root))
        assert report.periods[0].status == "superseded"
        assert not report.periods[0].final
        assert [line["invoice_id"] for line in cost_lines(lake)] == ["INV-1"]

    def test_second_export_of_same_accounts_is_reported(self, lake: LocalLake, tmp_path: Path) -> None:
        _data_export(tmp_path / "a", "org-cur2", "2026-10", "exec-1", 1.0, 1_000)
        _ingest_tree(lake, tmp_path / "a")
        [delivery] = discover_deliveries([write_csv(tmp_path / "legacy.csv", [legacy_row(cost="1.00")])])
        report = ingest_delivery(lake, GovernanceConfig(), delivery, user_key=LocalUserKey(lake.root))
        [period] = report.periods
        assert period.duplicate.rows == 1
        assert period.duplicate_of == ["org-cur2"]
        assert period.in_scope.rows == 0
        assert _total(lake) == Decimal("1")
        summary = lake.query_duckdb("SELECT sum(row_count) AS rows FROM bill_summary WHERE export_id = 'legacy'")
        assert summary.column("rows")[0].as_py() is None

    def test_ingest_runs_records_each_delivery(self, lake: LocalLake, tmp_path: Path) -> None:
        _data_export(tmp_path / "x", "e", "2026-10", "exec-1", 1.5, 1_000)
        _ingest_tree(lake, tmp_path / "x")
        _ingest_tree(lake, tmp_path / "x")
        runs = lake.query_duckdb(
            "SELECT status, rows_read, rows_loaded, cost_read, cost_loaded FROM ingest_runs "
            "WHERE kind = 'cur' ORDER BY started_at"
        ).to_pylist()
        assert [run["status"] for run in runs] == ["loaded", "already loaded"]
        assert runs[0]["rows_read"] == 1
        assert runs[0]["cost_loaded"] == Decimal("1.5")

    def test_delivery_with_period_and_no_rows_empties_period(self, lake: LocalLake, tmp_path: Path) -> None:
        _data_export(tmp_path / "a", "e", "2026-10", "exec-1", 1.0, 1_000)
        _ingest_tree(lake, tmp_path / "a")
        empty = write_csv(
            tmp_path / "b" / "empty.csv",
            [],
            columns=["lineItem/LineItemType", "lineItem/UnblendedCost", "lineItem/UsageStartDate"],
        )
        delivery = Delivery(
            export_id="e",
            delivery_id="exec-2",
            files=(empty,),
            billing_period="2026-10",
            delivered_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        )
        report = ingest_delivery(lake, GovernanceConfig(), delivery, user_key=LocalUserKey(lake.root))
        assert report.periods[0].status == "loaded"
        assert report.periods[0].read.rows == 0
        assert _total(lake) == Decimal("0")


def test_ingest_does_not_import_pandas(tmp_path: Path) -> None:
    # pyarrow imports pandas on its first conversion of Python values, which adds about 0.8 s to an ingest.
    path = cur2_parquet(tmp_path / "cur2.parquet", [cur2_row()])
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from genai_finops.config import GovernanceConfig\n"
        "from genai_finops.cur import discover_deliveries, ingest_delivery\n"
        "from genai_finops.invocations import LocalUserKey\n"
        "from genai_finops.lake.local import LocalLake\n"
        f"lake = LocalLake(Path({str(tmp_path / 'lake')!r}))\n"
        f"for delivery in discover_deliveries([Path({str(path)!r})]):\n"
        "    ingest_delivery(lake, GovernanceConfig(), delivery, user_key=LocalUserKey(lake.root))\n"
        "print('pandas' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "False"
