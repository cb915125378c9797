"""Per-team statements written to the lake as CSV and JSON under ``reports/<period>/team=<team>/``."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ..lake.base import Lake, key_segment

# Text that a spreadsheet would evaluate as a formula (OWASP CSV injection): tab and carriage return
# are included because some spreadsheets strip them before checking the first character.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
STATEMENT_COLUMNS = (
    "feature",
    "direct_cost",
    "untagged_cost",
    "estimated_cost",
    "shared_cost",
    "credits_applied",
    "net_cost",
    "requests",
    "tokens",
    "active_users",
)


def neutralize_cell(value: Any) -> str:
    """Render a CSV cell; text that starts like a formula gets a leading apostrophe so it stays text.

    Numbers the pipeline formats itself (a negative credit such as -12.50) are left as numbers.
    """
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def statement_keys(period: str, team: str) -> tuple[str, str]:
    """Return the document keys of a team's CSV and JSON statements."""
    prefix = f"reports/{period}/team={key_segment(team)}"
    return f"{prefix}/statement.csv", f"{prefix}/statement.json"


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


def write_team_statements(lake: Lake, period: str, showback: pa.Table, currency: str) -> dict[str, dict[str, Any]]:
    """Write one CSV and one JSON statement per team from the showback rows; return each team's totals."""
    by_team: dict[str, list[dict[str, Any]]] = {}
    for row in showback.to_pylist():
        if row["team"] is not None:
            by_team.setdefault(row["team"], []).append(row)

    summaries: dict[str, dict[str, Any]] = {}
    for team, rows in sorted(by_team.items()):
        # Active users are distinct per feature, so their sum would count a user of two features twice:
        # the TOTAL row leaves them empty.
        totals: dict[str, Any] = {
            column: sum((row[column] for row in rows), Decimal(0) if isinstance(rows[0][column], Decimal) else 0)
            for column in STATEMENT_COLUMNS[1:]
            if column != "active_users"
        }
        totals["active_users"] = None
        csv_key, json_key = statement_keys(period, team)

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["billing_period", "team", *STATEMENT_COLUMNS, "currency"])
        for row in rows:
            values = [period, team, *(row[column] for column in STATEMENT_COLUMNS), currency]
            writer.writerow([neutralize_cell(value) for value in values])
        writer.writerow([neutralize_cell(value) for value in [period, team, "TOTAL", *totals.values(), currency]])
        lake.put_document(csv_key, buffer.getvalue().encode("utf-8"))

        document = {
            "billing_period": period,
            "team": team,
            "currency": currency,
            "statement_mode": rows[0]["statement_mode"],
            "mode_reason": rows[0]["mode_reason"],
            "allocation_key": rows[0]["allocation_key"],
            "attributable_percent": rows[0]["team_attributable_percent"],
            "totals": {name: _plain(value) for name, value in totals.items()},
            "features": [{column: _plain(row[column]) for column in STATEMENT_COLUMNS} for row in rows],
        }
        lake.put_document(json_key, json.dumps(document, indent=2).encode("utf-8"))
        summaries[team] = {**document, "totals": totals, "csv_key": csv_key, "json_key": json_key, "rows": rows}
    return summaries
