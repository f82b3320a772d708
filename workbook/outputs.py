"""`make outputs`: refresh solution notebooks' stored outputs. Each runs headless, into a scratch
services root laid out as the notebooks before it leave it, and its outputs are written back in place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .cells import ordered_notebooks, writes_before
from .errors import UserError
from .paths import solutions_dir
from .writer import write_all

CELL_TIMEOUT_SECONDS = 600


def chosen(names: list[str], onward: bool = False) -> list[Path]:
    """The solution notebooks named by file name, stem or number (04); with `onward`, also every one
    after the first named, since later notebooks show results of earlier ones (counts, tables)."""
    ordered = ordered_notebooks(solutions_dir())
    picked: list[Path] = []
    for name in names:
        stem = name.removesuffix(".ipynb")
        matches = [path for path in ordered if path.stem == stem or path.stem.startswith(f"{stem}-")]
        if len(matches) != 1:
            raise UserError(f"no single solution notebook named {name!r}")
        picked.append(matches[0])
    if onward:
        picked = ordered[ordered.index(min(picked)) :]
    return picked


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
