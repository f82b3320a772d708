"""Refreshing a solution notebook's stored outputs: run it headless, into a scratch services
root laid out as the notebooks before it leave it, and write the outputs back in place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .cells import writes_before
from .writer import write_all

CELL_TIMEOUT_SECONDS = 600


def execute_in_place(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    saved = {key: os.environ.get(key) for key in ("WORKBOOK_SERVICES_DIR", "WORKBOOK_STATE_DIR")}
    with tempfile.TemporaryDirectory(prefix="workbook-outputs-") as scratch:
        services = Path(scratch) / "services"
        services.mkdir()
        write_all(writes_before(notebook.parent, notebook.name), services)
        os.environ["WORKBOOK_SERVICES_DIR"] = str(services)
        os.environ["WORKBOOK_STATE_DIR"] = str(Path(scratch) / "state")
        try:
            NotebookClient(
                nb,
                timeout=CELL_TIMEOUT_SECONDS,
                kernel_name="python3",
                resources={"metadata": {"path": str(notebook.parent)}},
            ).execute()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, notebook)
