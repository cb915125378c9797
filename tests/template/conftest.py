"""The package-size test needs `sam build` output, so it runs only when selected with `-m package_size`."""

from __future__ import annotations

import pytest

MARKER = "package_size"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: measures .aws-sam/build; run by `make template` after sam build")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if MARKER in (config.option.markexpr or ""):
        return
    selected = [item for item in items if item.get_closest_marker(MARKER) is None]
    deselected = [item for item in items if item.get_closest_marker(MARKER) is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
