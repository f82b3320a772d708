"""A pytest plugin for `workbook replay`: each notebook replays into its own scratch services
root, laid out first as the notebooks before it leave it (their `%%service` cells, no kernel)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .cells import writes_before
from .writer import write_all

_prepared: set[Path] = set()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    notebook = Path(str(item.path))
    if notebook.suffix != ".ipynb" or notebook in _prepared:
        return
    _prepared.add(notebook)
    scratch = Path(os.environ["WORKBOOK_REPLAY_DIR"]) / notebook.stem
    services, state = scratch / "services", scratch / "state"
    services.mkdir(parents=True, exist_ok=True)
    write_all(writes_before(notebook.parent, notebook.name), services)
    # nbval starts this notebook's kernel right after this hook: it inherits these.
    os.environ["WORKBOOK_SERVICES_DIR"] = str(services)
    os.environ["WORKBOOK_STATE_DIR"] = str(state)
