"""Ingest one billing-export delivery into ``cost_lines``, ``bill_summary`` and ``ingest_runs``.

Every file is read and normalised before anything is published, so a bad file fails the delivery
and leaves the lake as it was. Each billing period found is then published with one atomic
partition swap per table. Per export and period, a state document records the loaded delivery:
the same delivery again changes nothing, and an older one never replaces a newer one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..config import GovernanceConfig
from ..errors import InputError, ReconciliationError
from ..invocations.user_key import UserKeyProvider
from ..lake.base import Lake
from ..money import MONEY_SQL_TYPE
from ..observability import logger
from ..principals import register_principal_mask
from ..python_rows import rows_to_table
from ..tables import BILL_SUMMARY, COST_LINES, INGEST_RUNS
from .discovery import Delivery
from .formats import detect_format, legacy_header_to_snake, required_column_name
from .normalize import (
    NO_PERIOD,
    FilePlan,
    bedrock_condition,
    distinct_usage_sql,
    map_keys_sql,
    normalize_sql,
    plan_file,
    plan_tags,
    purchase_check_sql,
    quote,
    read_totals_sql,
    required_missing,
    sql_string,
    used_columns,
    value_checks,
)
from .reading import OpenedFile, expand, open_file
from .report import ZERO, DeliveryReport, PeriodReport, Totals
from .usage_types import parse_usage_type

STATE_PREFIX = "state/cur"
QUARANTINE_NO_PERIOD = "no billing period (billing period start, usage start and delivery period all empty)"
QUARANTINE_NO_COST = "no cost (the billed cost column is empty)"
# DuckDB's working memory for one delivery; larger inputs spill to the staging folder.
DEFAULT_MEMORY_LIMIT = "1GB"

# The parsed fields joined to each Bedrock line, with their DuckDB types.
USAGE_TYPE_COLUMNS = {
    "usage_key": "VARCHAR",
    "model": "VARCHAR",
    "token_class": "VARCHAR",
    "tier": "VARCHAR",
    "route": "VARCHAR",
    "region": "VARCHAR",
    "usage_family": "VARCHAR",
    "tokens_per_unit": "DOUBLE",
}


@dataclass(frozen=True)
class LoadedState:
    """The delivery recorded as loaded for one export and billing period.

    ``final`` is True when that delivery's lines of the period carry an invoice id. State documents
    written before the flag existed read as not final.
    """

    delivery_id: str
    delivered_at: dt.datetime | None
    final: bool = False

    @classmethod
    def from_json(cls, body: bytes) -> LoadedState:
        data = json.loads(body)
        delivered = data.get("delivered_at")
        return cls(
            str(data["delivery_id"]),
            dt.datetime.fromisoformat(delivered) if delivered else None,
            bool(data.get("final", False)),
        )


def state_key(export_id: str, billing_period: str) -> str:
    """Return the document key recording the delivery loaded for an export and period."""
    return f"{STATE_PREFIX}/{export_id}/{billing_period}.json"


def owners_key(billing_period: str) -> str:
    """Return the document key mapping each usage account of a period to the export that covers it."""
    return f"{STATE_PREFIX}/_accounts/{billing_period}.json"


def _status_against(state: LoadedState | None, delivery: Delivery, final: bool | None = None) -> str:
    """Return whether ``delivery`` replaces the loaded state of a period: loaded, already loaded or superseded.

    A final (invoiced) delivery replaces a delivery that is not final, and is never replaced by one,
    whatever their delivery times. Between two deliveries of the same kind, the older is
    superseded. Before the delivery is read, ``final`` is None and the delivery is superseded only
    when it is older than a final one.
    """
    if state is None:
        return "loaded"
    if state.delivery_id == delivery.delivery_id:
        return "already loaded"
    older = bool(state.delivered_at and delivery.delivered_at and delivery.delivered_at < state.delivered_at)
    if final is None:
        return "superseded" if state.final and older else "loaded"
    if state.final != final:
        return "loaded" if final else "superseded"
    return "superseded" if older else "loaded"


def _read_state(lake: Lake, export_id: str, billing_period: str) -> LoadedState | None:
    body = lake.get_document(state_key(export_id, billing_period))
    return LoadedState.from_json(body) if body else None


def _create_owners(connection: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Create ``account_owners``: which export first loaded each usage account of each billing period."""
    periods: list[str] = []
    accounts: list[str] = []
    exports: list[str] = []
    for key in lake.list_documents(f"{STATE_PREFIX}/_accounts/"):
        body = lake.get_document(key)
        if not body:
            continue
        period = key.rsplit("/", 1)[-1].removesuffix(".json")
        for account, export in json.loads(body).items():
            periods.append(period)
            accounts.append(account)
            exports.append(export)
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE account_owners AS SELECT unnest(?::VARCHAR[]) AS billing_period, "
        "unnest(?::VARCHAR[]) AS usage_account_id, unnest(?::VARCHAR[]) AS export_id",
        [periods, accounts, exports],
    )


def _connect(memory_limit: str, staging: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    connection.execute(f"SET temp_directory = {sql_string(str(staging / 'spill'))}")
    connection.execute("SET preserve_insertion_order = false")
    connection.execute("SET enable_progress_bar = false")
    connection.execute(
        f"""
        CREATE TEMP TABLE line_totals (
            billing_period VARCHAR, bucket VARCHAR, source_file VARCHAR, source_format VARCHAR,
            line_item_type VARCHAR, product_code VARCHAR, currency VARCHAR, unknown_usage_type VARCHAR,
            row_count BIGINT, cost_unblended {MONEY_SQL_TYPE}, cost_net {MONEY_SQL_TYPE},
            cost_amortized {MONEY_SQL_TYPE}, accounts VARCHAR[], quarantine_lines BIGINT[], invoiced_rows BIGINT,
            undated_rows BIGINT
        )
        """
    )
    return connection


def _match_headers(opened: OpenedFile) -> list[str]:
    return [legacy_header_to_snake(h) if "/" in h else h for h in opened.headers] + list(opened.headers)


def _plan_columns(headers: tuple[str, ...], physical: tuple[str, ...]) -> set[str] | None:
    """Return the CSV columns that normalising reads, or None (every column) for an unknown schema."""
    opened = OpenedFile("", Path(), headers, physical, dict.fromkeys(physical, "VARCHAR"), 2)
    source_format = detect_format(_match_headers(opened))
    if source_format is None:
        return None
    return used_columns(plan_file(opened, source_format))


def _create_usage_types(connection: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> None:
    """Parse each distinct usage type once and create ``usage_types`` for the normalising join."""
    columns: dict[str, list[Any]] = {name: [] for name in USAGE_TYPE_COLUMNS}
    for key, usage_type, product_code, pricing_unit, product_name in rows:
        info = parse_usage_type(usage_type or "", product_code, pricing_unit, product_name)
        columns["usage_key"].append(key)
        for name in list(USAGE_TYPE_COLUMNS)[1:]:
            columns[name].append(getattr(info, name))
    selects = ", ".join(f"unnest(?::{sql_type}[]) AS {name}" for name, sql_type in USAGE_TYPE_COLUMNS.items())
    connection.execute(f"CREATE OR REPLACE TEMP TABLE usage_types AS SELECT {selects}", list(columns.values()))


def _diagnose(connection: duckdb.DuckDBPyConnection, plan: FilePlan, error: duckdb.Error) -> InputError:
    """Find the first value that failed to convert and name its file, line and column."""
    source = sql_string(str(plan.opened.parquet))
    headers = dict(zip(plan.opened.physical, plan.opened.headers, strict=True))
    for name, sql_type, physical in value_checks(plan):
        column = quote(physical)
        # DuckDB 2.0.1 drops "TRY_CAST(double AS DECIMAL) IS NULL" for a non-null double, so NaN and
        # infinity are matched by their text.
        found = connection.execute(
            f"SELECT file_row_number, CAST({column} AS VARCHAR) FROM read_parquet({source}, file_row_number = true) "
            f"WHERE {column} IS NOT NULL AND (TRY_CAST({column} AS {sql_type}) IS NULL "
            f"OR lower(CAST({column} AS VARCHAR)) IN ('nan', '-nan', 'inf', '-inf', 'infinity', '-infinity')) LIMIT 1"
        ).fetchone()
        if found:
            return InputError(
                f"invalid {name.replace('_', ' ')} {found[1]!r} in column {headers.get(physical, physical)!r}; "
                "fix the value or re-export the file",
                source=plan.opened.source,
                line=int(found[0]) + plan.opened.first_line,
            )
    for physical in plan.tags.map_columns:
        column = quote(physical)
        found = connection.execute(
            f"SELECT file_row_number FROM read_parquet({source}, file_row_number = true) "
            f"WHERE {column} IS NOT NULL AND TRY_CAST(TRY_CAST({column} AS JSON) AS MAP(VARCHAR, VARCHAR)) IS NULL "
            "LIMIT 1"
        ).fetchone()
        if found:
            return InputError(
                f"invalid map value in column {headers.get(physical, physical)!r} (expected a JSON object)",
                source=plan.opened.source,
                line=int(found[0]) + plan.opened.first_line,
            )
    return InputError(f"cannot normalise rows: {str(error).splitlines()[0]}", source=plan.opened.source)


@dataclass
class _FileResult:
    source: str
    plan: FilePlan
    read: Totals


class _DeliveryRun:
    """The work of one ``ingest_delivery`` call; split out to keep each step readable."""

    def __init__(
        self,
        lake: Lake,
        config: GovernanceConfig,
        delivery: Delivery,
        progress: Callable[[str], None],
        memory_limit: str,
    ) -> None:
        self.lake = lake
        self.config = config
        self.delivery = delivery
        self.progress = progress
        self.memory_limit = memory_limit
        self.report = DeliveryReport(delivery.export_id, delivery.delivery_id)
        self.period_files: dict[str, list[Path]] = {}

    # -- reading -----------------------------------------------------------------------------------

    def normalise_file(
        self, connection: duckdb.DuckDBPyConnection, opened: OpenedFile, staging: Path, index: int
    ) -> _FileResult | None:
        source_format = detect_format(_match_headers(opened))
        if source_format is None:
            # Only short names are shown: the first line of a file that is not an export (a log object, say)
            # can hold customer text, which must not reach the terminal or the logs.
            names = [name for name in opened.headers[:4] if len(name) <= 40 and name.isprintable()]
            column_text = f"columns {', '.join(names)}, ..." if names else "no recognisable column names"
            self.report.warnings.append(
                f"{opened.source}: unknown schema ({len(opened.headers)} columns, {column_text}); "
                "not a CUR, CUR 2.0 or FOCUS file, skipped"
            )
            self.report.skipped_files.append(opened.source)
            return None
        plan = plan_file(opened, source_format)
        missing = required_missing(plan)
        if missing:
            columns = ", ".join(required_column_name(source_format, name) for name in missing)
            raise InputError(
                f"{source_format.value} file lacks required columns {columns}; export the file with them",
                source=opened.source,
            )
        if plan.missing_optional:
            self.report.warnings.append(
                f"{opened.source}: no {', '.join(plan.missing_optional)} column; those fields are null"
            )

        try:
            map_keys = {
                physical: [row[0] for row in connection.execute(map_keys_sql(plan, physical)).fetchall()]
                for physical in plan.tags.map_columns
            }
            tag_plan = plan_tags(plan, map_keys)
            usage_rows = connection.execute(distinct_usage_sql(plan, self.config)).fetchall()
            _create_usage_types(connection, usage_rows)
            read_rows, read_cost = connection.execute(read_totals_sql(plan)).fetchone() or (0, ZERO)
            purchase_sql = purchase_check_sql(plan)
            purchases = connection.execute(purchase_sql).fetchone() if purchase_sql else None
            if purchases and purchases[0]:
                self.report.warnings.append(
                    f"{opened.source}: {purchases[0]} commitment purchase rows carry an EffectiveCost; their "
                    "amortised cost is set to 0 because the usage they cover carries it"
                )
            sql = normalize_sql(plan, self.config, tag_plan, self.delivery.export_id, self.delivery.billing_period)
            connection.execute(_totals_sql(sql, opened.source, self.config))
            self.write_in_scope(connection, sql, opened.source, staging, index)
        except (duckdb.ConversionException, duckdb.InvalidInputException) as error:
            raise _diagnose(connection, plan, error) from error
        except duckdb.Error as error:
            # DuckDB reports a damaged Parquet page or an unreadable file as a bare Error or IOException.
            # Errors of other kinds (binder, catalog) are bugs in the generated SQL, so they are raised as they are.
            if type(error) not in (duckdb.Error, duckdb.IOException, duckdb.SerializationException):
                raise
            raise InputError(
                f"file is corrupt or unreadable ({error}); download the delivery again", source=opened.source
            ) from error
        for merge in tag_plan.merges:
            self.report.warnings.append(f"{opened.source}: tag keys differing only in case merged: {merge}")
        return _FileResult(opened.source, plan, Totals(int(read_rows), Decimal(read_cost)))

    def write_in_scope(
        self, connection: duckdb.DuckDBPyConnection, sql: str, source: str, staging: Path, index: int
    ) -> None:
        """Write the file's lines in GenAI scope as Parquet, one file per billing period, for publishing."""
        periods = [
            str(row[0])
            for row in connection.execute(
                "SELECT DISTINCT billing_period FROM line_totals WHERE source_file = ? AND bucket = 'in'", [source]
            ).fetchall()
        ]
        if not periods:
            return
        columns = ", ".join(quote(name) for name in COST_LINES.schema.names)
        if len(periods) == 1:
            target = staging / "cost_lines" / periods[0] / f"f{index:05d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            connection.execute(
                f"COPY (SELECT {columns} FROM ({sql}) WHERE bucket = 'in') "
                f"TO {sql_string(str(target))} (FORMAT parquet, COMPRESSION zstd)"
            )
            self.period_files.setdefault(periods[0], []).append(target)
            return
        target = staging / "cost_lines" / f"f{index:05d}"
        target.parent.mkdir(parents=True, exist_ok=True)
        connection.execute(
            f"COPY (SELECT {columns}, billing_period FROM ({sql}) WHERE bucket = 'in') "
            f"TO {sql_string(str(target))} (FORMAT parquet, PARTITION_BY (billing_period), COMPRESSION zstd)"
        )
        for period in periods:
            self.period_files.setdefault(period, []).extend(sorted(target.glob(f"billing_period={period}/*.parquet")))

    def read_all(self, connection: duckdb.DuckDBPyConnection, staging: Path) -> list[_FileResult]:
        results: list[_FileResult] = []
        index = 0
        for path in self.delivery.files:
            self.progress(f"reading {path}")
            for source, plain in expand(Path(path), staging):
                opened = open_file(connection, source, plain, staging, index, _plan_columns)
                if opened is None:
                    self.report.warnings.append(f"{source}: empty file without a header; skipped")
                    self.report.skipped_files.append(source)
                    continue
                result = self.normalise_file(connection, opened, staging, index)
                index += 1
                if result is not None:
                    results.append(result)
        return results

    # -- accounting --------------------------------------------------------------------------------

    def summarise(
        self, connection: duckdb.DuckDBPyConnection, results: list[_FileResult]
    ) -> tuple[dict[str, PeriodReport], dict[str, pa.Table]]:
        """Build the period reports and each period's bill_summary rows from ``line_totals``.

        Raise ReconciliationError when a file's totals do not add up, and InputError when GenAI lines are
        billed in a currency other than the configured one.
        """
        reports: dict[str, PeriodReport] = {}
        if self.delivery.billing_period:
            reports[self.delivery.billing_period] = PeriodReport(self.delivery.billing_period)
        grouped = connection.execute(
            """
            SELECT billing_period, bucket, source_file, source_format, line_item_type, currency, unknown_usage_type,
                   row_count, cost_unblended, cost_net, cost_amortized, quarantine_lines, invoiced_rows,
                   undated_rows
            FROM line_totals
            """
        ).fetchall()
        per_file: dict[str, Totals] = {}
        undated: dict[str, int] = {}
        billed_rows: dict[str, int] = {}
        invoiced_rows: dict[str, int] = {}
        line_types: dict[str, set[str]] = {}
        scope_currencies: dict[str, set[str]] = {}
        for row in grouped:
            period, bucket, source_file, source_format, lit, currency, unknown, rows = row[:8]
            totals = Totals(int(rows), Decimal(row[8]), Decimal(row[9]), Decimal(row[10]))
            per_file[source_file] = per_file.get(source_file, Totals()).add(totals)
            line_types.setdefault(source_file, set()).add(lit)
            report = reports.setdefault(period, PeriodReport(period))
            report.read = report.read.add(totals)
            if bucket in ("in", "out"):
                billed_rows[period] = billed_rows.get(period, 0) + int(rows)
                invoiced_rows[period] = invoiced_rows.get(period, 0) + int(row[12] or 0)
            if bucket == "in" and row[13]:
                undated[period] = undated.get(period, 0) + int(row[13])
            if bucket == "in":
                report.in_scope = report.in_scope.add(totals)
                if currency:
                    scope_currencies.setdefault(period, set()).add(currency)
            elif bucket == "out":
                report.out_of_scope = report.out_of_scope.add(totals)
            elif bucket == "quarantine":
                report.quarantined = report.quarantined.add(totals)
                reason = QUARANTINE_NO_PERIOD if period == NO_PERIOD else QUARANTINE_NO_COST
                first_lines = ", ".join(str(line) for line in (row[11] or []))
                key = f"{reason}; first in {source_file} lines {first_lines}"
                report.quarantine_reasons[key] = report.quarantine_reasons.get(key, 0) + int(rows)
            else:
                report.duplicate = report.duplicate.add(totals)
                other = bucket.removeprefix("dup:")
                if other not in report.duplicate_of:
                    report.duplicate_of.append(other)
            if unknown is not None:
                report.unknown_usage_types[unknown] = report.unknown_usage_types.get(unknown, 0) + int(rows)
            if source_format not in report.source_formats:
                report.source_formats.append(source_format)
            if currency and currency not in report.currencies:
                report.currencies.append(currency)

        # GenAI amounts are summed across lines and teams, so they must share the configured currency.
        for period_name, currencies in sorted(scope_currencies.items()):
            foreign = sorted(currencies - {self.config.currency})
            if foreign:
                raise InputError(
                    f"billing period {period_name} has GenAI lines in {', '.join(sorted(currencies))} but the "
                    f"governance configuration's currency is {self.config.currency}; set 'currency' to the "
                    "bill's currency (one currency per lake)",
                    source=self.delivery.export_id,
                )
        for result in results:
            loaded = per_file.get(result.source, Totals())
            if loaded.rows != result.read.rows or loaded.unblended != result.read.unblended:
                raise ReconciliationError(
                    f"{result.source}: read {result.read.rows} rows costing {result.read.unblended} but "
                    f"accounted for {loaded.rows} rows costing {loaded.unblended}"
                )
        self.warn_cost_fallbacks(line_types, results)
        # AWS fills the invoice id of every line once the month is invoiced, so a period with some lines
        # still blank is not final.
        for period_name, count in billed_rows.items():
            reports[period_name].final = count > 0 and invoiced_rows.get(period_name, 0) == count
        for period_name, count in sorted(undated.items()):
            self.report.warnings.append(
                f"period {period_name}: {count} GenAI lines have no usage start date; attribution cannot match "
                "them to requests, so their cost stays unattributed"
            )
        for period_name, period in sorted(reports.items()):
            if period.unknown_usage_types:
                count = sum(period.unknown_usage_types.values())
                examples = ", ".join(sorted(period.unknown_usage_types)[:5])
                self.report.warnings.append(
                    f"period {period_name}: {count} Bedrock lines with unrecognised usage types ({examples}) "
                    "kept with no token class"
                )

        # One query per period, because filtering an Arrow table by a Python string imports pandas (pyarrow 25).
        summaries = {
            period_name: connection.sql(
                """
                SELECT billing_period, source_format, line_item_type, product_code, bucket = 'in' AS in_genai_scope,
                       currency, CAST(sum(row_count) AS BIGINT) AS row_count,
                       sum(cost_unblended) AS cost_unblended, sum(cost_net) AS cost_net,
                       sum(cost_amortized) AS cost_amortized
                FROM line_totals WHERE bucket IN ('in', 'out') AND billing_period = ?
                GROUP BY ALL ORDER BY ALL
                """,
                params=[period_name],
            ).to_arrow_table()
            for period_name in reports
        }
        return reports, summaries

    def warn_cost_fallbacks(self, line_types: dict[str, set[str]], results: list[_FileResult]) -> None:
        """Warn when a file has commitment lines but lacks the columns their amortised cost comes from."""
        needs = {
            "SavingsPlanCoveredUsage": ("sp_effective", "savings plan effective cost"),
            "SavingsPlanRecurringFee": ("sp_total_commitment", "savings plan total commitment"),
            "DiscountedUsage": ("ri_effective", "reservation effective cost"),
            "RIFee": ("ri_unused_upfront", "reservation unused fees"),
        }
        for result in results:
            if result.plan.source_format.is_focus:
                continue
            for line_type in sorted(line_types.get(result.source, set())):
                if line_type in needs and not result.plan.has(needs[line_type][0]):
                    self.report.warnings.append(
                        f"{result.source}: {line_type} lines but no {needs[line_type][1]} column; "
                        "their amortised cost is their net cost"
                    )

    # -- publishing --------------------------------------------------------------------------------

    def publish(self, report: PeriodReport, summary: pa.Table) -> None:
        period = report.billing_period
        partition = {"billing_period": period, "export_id": self.delivery.export_id}
        files = self.period_files.get(period, [])
        self.lake.publish_partition("cost_lines", partition, files)
        table = (
            summary.select(BILL_SUMMARY.schema.names).cast(BILL_SUMMARY.schema)
            if summary.num_rows
            else BILL_SUMMARY.schema.empty_table()
        )
        self.lake.write_partition("bill_summary", partition, table)

    def record_state(self, report: PeriodReport, accounts: list[str]) -> None:
        period = report.billing_period
        delivered = self.delivery.delivered_at.isoformat() if self.delivery.delivered_at else None
        body = {
            "delivery_id": self.delivery.delivery_id,
            "delivered_at": delivered,
            "loaded_at": dt.datetime.now(dt.UTC).isoformat(),
            "files": [str(path) for path in self.delivery.files],
            "manifest": str(self.delivery.manifest) if self.delivery.manifest else None,
            "rows_in_scope": report.in_scope.rows,
            "final": report.final,
        }
        self.lake.put_document(state_key(self.delivery.export_id, period), json.dumps(body, indent=1).encode())
        key = owners_key(period)
        existing = self.lake.get_document(key)
        owners: dict[str, str] = json.loads(existing) if existing else {}
        # NOTE: ownership is never released, so an account that the owning export stops covering stays
        # reported as a duplicate for other exports until the document is edited.
        changed = False
        for account in accounts:
            if account not in owners:
                owners[account] = self.delivery.export_id
                changed = True
        if changed:
            self.lake.put_document(key, json.dumps(dict(sorted(owners.items())), indent=1).encode())


def _period_accounts(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Return, per billing period, the usage accounts whose lines this delivery loaded (in or out of scope)."""
    rows = connection.execute(
        "SELECT DISTINCT billing_period, unnest(accounts) AS account FROM line_totals ORDER BY 1, 2"
    ).fetchall()
    accounts: dict[str, list[str]] = {}
    for period, account in rows:
        accounts.setdefault(str(period), []).append(str(account))
    return accounts


def _totals_sql(normalized: str, source: str, config: GovernanceConfig) -> str:
    """INSERT the totals of one file's normalised lines into ``line_totals``.

    Grouping the lines is much cheaper than writing them, so out-of-scope lines are only counted.
    """
    bedrock = bedrock_condition(config, "product_code", "product_name")
    return f"""
        INSERT INTO line_totals
        SELECT billing_period, bucket, {sql_string(source)} AS source_file, source_format, line_item_type,
               product_code, currency,
               CASE WHEN bucket = 'in' AND usage_family IS NULL AND usage_type IS NOT NULL AND {bedrock}
                    THEN usage_type END AS unknown_usage_type,
               count(*) AS row_count,
               COALESCE(sum(cost_unblended), 0), COALESCE(sum(cost_net), 0), COALESCE(sum(cost_amortized), 0),
               list(DISTINCT usage_account_id) FILTER (
                   WHERE bucket IN ('in', 'out') AND usage_account_id IS NOT NULL) AS accounts,
               (list(source_line ORDER BY source_line) FILTER (WHERE bucket = 'quarantine'))[1:5]
                   AS quarantine_lines,
               count(*) FILTER (WHERE trim(invoice_id) <> '') AS invoiced_rows,
               count(*) FILTER (WHERE usage_start IS NULL) AS undated_rows
        FROM ({normalized})
        GROUP BY ALL
    """


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_string(str(path)) for path in paths) + "]"


def record_ingest_run(lake: Lake, rows: list[dict[str, Any]]) -> None:
    """Append rows to today's ``ingest_runs`` partition for kind 'cur' (read, then rewrite the partition)."""
    if not rows:
        return
    today = dt.datetime.now(dt.UTC).date().isoformat()
    partition = {"kind": "cur", "run_date": today}
    names = INGEST_RUNS.schema.names
    combined = rows_to_table(rows, INGEST_RUNS.schema)
    if partition in lake.partitions("ingest_runs"):
        existing = lake.query(
            f"SELECT {', '.join(names)} FROM ingest_runs WHERE kind = ? AND run_date = ?", ["cur", today]
        )
        combined = pa.concat_tables([existing.select(names).cast(INGEST_RUNS.schema), combined])
    # NOTE: two ingests finishing at the same moment can lose one run row; the data partitions are unaffected.
    lake.write_partition("ingest_runs", partition, combined)


def _run_row(
    delivery: Delivery, report: PeriodReport, started: dt.datetime, status: str, message: str
) -> dict[str, Any]:
    loaded = report.in_scope
    if report.duplicate.rows:
        others = ", ".join(report.duplicate_of)
        message = (
            f"{message}; {report.duplicate.rows} lines costing {report.duplicate.unblended:.2f} "
            f"left out because export {others} already covers their accounts"
        )
    return {
        "run_id": uuid.uuid4().hex,
        "started_at": started,
        "kind": "cur",
        "source": f"{delivery.export_id}/{delivery.delivery_id}/{report.billing_period}",
        "status": status,
        "rows_read": report.read.rows,
        "rows_loaded": loaded.rows,
        "rows_duplicate": report.duplicate.rows,
        "rows_skipped": report.out_of_scope.rows,
        "rows_quarantined": report.quarantined.rows,
        "cost_read": report.read.unblended,
        "cost_loaded": loaded.unblended,
        "cost_quarantined": report.quarantined.unblended,
        "message": message,
    }


def ingest_delivery(
    lake: Lake,
    config: GovernanceConfig,
    delivery: Delivery,
    progress: Callable[[str], None] | None = None,
    *,
    user_key: UserKeyProvider,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> DeliveryReport:
    """Normalise every file of a delivery and publish each billing period found.

    Raise InputError for a corrupt or malformed file. Raise ReconciliationError when the rows and cost
    read do not equal those loaded, left out of scope, quarantined and covered by another export.
    In both cases nothing is published. The outcome is also recorded in ``ingest_runs``. ``user_key``
    is the HMAC key that masks the personal part of IAM principals, the same key as for ``user_key``
    in invocations, so that bill lines and requests still match.
    """
    say = progress or (lambda message: None)
    started = dt.datetime.now(dt.UTC)
    run = _DeliveryRun(lake, config, delivery, say, memory_limit)
    report = run.report

    hint = delivery.billing_period
    if hint:
        status = _status_against(_read_state(lake, delivery.export_id, hint), delivery)
        if status != "loaded":
            period = PeriodReport(hint, status=status)
            report.periods.append(period)
            record_ingest_run(lake, [_run_row(delivery, period, started, status, "nothing changed")])
            logger.info(
                "delivery skipped", extra={"export": delivery.export_id, "billing_period": hint, "status": status}
            )
            return report

    staging = lake.staging_dir()
    connection = _connect(memory_limit, staging)
    try:
        _create_owners(connection, lake)
        register_principal_mask(connection, user_key.key())
        try:
            results = run.read_all(connection, staging)
            say(f"accounting {len(results)} files")
            periods, summaries = run.summarise(connection, results)
            for period_name, period in sorted(periods.items()):
                if not period.balances():
                    raise ReconciliationError(
                        f"period {period_name}: read {period.read.describe()} but in scope, out of scope, "
                        "quarantined and duplicate lines add up to something else"
                    )
        except (InputError, ReconciliationError) as error:
            failed = PeriodReport(hint or "unknown", status="failed")
            record_ingest_run(lake, [_run_row(delivery, failed, started, "failed", str(error))])
            raise
        accounts = _period_accounts(connection)

        run_rows = []
        for period_name in sorted(periods):
            period = periods[period_name]
            report.periods.append(period)
            if period_name == NO_PERIOD:
                period.status = "quarantined"
                run_rows.append(_run_row(delivery, period, started, "quarantined", "lines without a billing period"))
                continue
            state = _read_state(lake, delivery.export_id, period_name)
            period.status = _status_against(state, delivery, period.final)
            if period.status != "loaded":
                message = "nothing changed"
                if state is not None and state.final and not period.final:
                    message += "; the loaded delivery is invoiced and this one is not"
                run_rows.append(_run_row(delivery, period, started, period.status, message))
                continue
            say(f"publishing {delivery.export_id} {period_name}: {period.in_scope.rows} lines in GenAI scope")
            run.publish(period, summaries[period_name])
            run.record_state(period, accounts.get(period_name, []))
            message = "; ".join(report.warnings[:5]) if report.warnings else "ok"
            run_rows.append(_run_row(delivery, period, started, "loaded", message))
            logger.info(
                "billing period loaded",
                extra={"export": delivery.export_id, "billing_period": period_name, "line_count": period.read.rows},
            )
        if report.warnings or any(period.quarantined.rows for period in report.periods):
            logger.warning(
                "delivery loaded with warnings or quarantined lines",
                extra={
                    "export": delivery.export_id,
                    "delivery_id": delivery.delivery_id,
                    "warning_count": len(report.warnings),
                    "quarantined_count": sum(period.quarantined.rows for period in report.periods),
                },
            )
        record_ingest_run(lake, run_rows)
        return report
    finally:
        connection.close()
        shutil.rmtree(staging, ignore_errors=True)
