"""Fixtures shared by the tooling tests: every test gets its own services root and state dir."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the services root and the learner state at scratch folders, never the real ones."""
    services = tmp_path / "services"
    services.mkdir()
    monkeypatch.setenv("WORKBOOK_SERVICES_DIR", str(services))
    monkeypatch.setenv("WORKBOOK_STATE_DIR", str(tmp_path / "state"))
    return services
