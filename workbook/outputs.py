"""`make outputs`: refresh solution notebooks' stored outputs. Each runs headless, into a scratch
services root laid out as the notebooks before it leave it, and its outputs are written back in place.

A solution notebook's checkpoint must pass: one that fails is a broken reference, and storing its
output would make the replay expect the failure. Then nothing is written, and the error says which
checkpoint failed and which of its checks.

Outputs are refreshed only where CI replays them: with PostgreSQL and the tools `make system`
installs. Elsewhere a notebook prints that it skipped a step (no browser, no engine), and the stored
outputs would then teach the skip and fail every replay that has the tool."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import record
from .cells import ordered_notebooks, writes_before
from .errors import UserError
from .paths import solutions_dir
from .writer import write_all

CELL_TIMEOUT_SECONDS = 600
CHECKPOINT_LINE = re.compile(r"^%checkpoint\s+(\S+)\s*$", re.MULTILINE)
# What some notebook's outputs depend on, each a command any of whose names will do.
TOOLS = {"Chromium": ("chromium", "chromium-browser"), "podman": ("podman",), "wrk": ("wrk",)}


class FailingCheckpointError(UserError):
    """A solution notebook's checkpoint cell did not pass: its outputs are not stored."""


def missing_prerequisites() -> list[str]:
    """What this machine lacks to store the outputs CI replays ([] when nothing)."""
    missing = [tool for tool, names in TOOLS.items() if not any(shutil.which(n) for n in names)]
    if not os.environ.get("TEST_DATABASE_URL"):
        missing.append("TEST_DATABASE_URL (export TEST_DATABASE_URL=$(scripts/postgres.sh))")
    return missing


def require_prerequisites() -> None:
    missing = missing_prerequisites()
    if missing:
        raise UserError(
            "nothing refreshed: stored outputs must come from the environment CI replays them in; "
            f"missing: {', '.join(missing)} (make system installs the tools)"
        )


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


def failed_checkpoints(nb: nbformat.NotebookNode, progress: record.Progress) -> list[str]:
    """One line per `%checkpoint` cell whose run the progress record does not show passing."""
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for checkpoint in CHECKPOINT_LINE.findall(cell.source):
            result = progress.checkpoints.get(checkpoint)
            if result is None:
                problems.append(f"cell {cell.get('id')}: checkpoint {checkpoint} recorded no result")
            elif not result.passed:
                failed = sorted(name for name, outcome in result.checks.items() if outcome != "passed")
                which = ", ".join(failed) or "no check ran"
                problems.append(f"cell {cell.get('id')}: checkpoint {checkpoint} failed ({which})")
    return problems


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
            problems = failed_checkpoints(nb, record.load())  # the kernel's record, in the scratch state
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    if problems:
        raise FailingCheckpointError(
            f"{notebook.name}: nothing stored, a solution notebook's checkpoint must pass: "
            + "; ".join(problems)
        )
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, notebook)
