"""Fixtures shared by every test, and each test folder's marker (live, slow, ui) set from where it lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import SHARED_DATA

#: Tests under these folders carry the marker of the same name; the default run deselects them.
MARKED_FOLDERS = ("live", "slow", "ui")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        folder = item.path.relative_to(root).parts[0]
        if folder in MARKED_FOLDERS:
            item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("the public data sets beside the checkout are not available")
    return SHARED_DATA
