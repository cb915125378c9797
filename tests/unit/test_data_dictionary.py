"""Every lake table is documented column by column under docs/tables/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genai_finops.tables import TABLES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tables"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_has_dictionary_page(name: str) -> None:
    page = DOCS / f"{name}.md"
    assert page.is_file(), f"missing data dictionary page docs/tables/{name}.md"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_dictionary_names_every_column(name: str) -> None:
    page = DOCS / f"{name}.md"
    if not page.is_file():
        pytest.fail(f"missing data dictionary page docs/tables/{name}.md")
    text = page.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9_]+)`", text))
    spec = TABLES[name]
    missing = [column for column in spec.full_schema.names if column not in documented]
    assert not missing, f"docs/tables/{name}.md does not describe columns {missing}"
