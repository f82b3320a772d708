"""`make notebooks`: learner notebooks from the solutions, exercise regions stubbed, outputs cleared,
ids kept.

One function per transformation, as nbgrader's preprocessors are; generation is byte-stable,
so `make test` can tell a stale `notebooks/` from a fresh one by comparing bytes."""

from __future__ import annotations

import copy
import shutil
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from .cells import ordered_notebooks, split_service_cell
from .paths import notebooks_dir, solutions_dir, state_dir
from .regions import strip_solutions

CELL_METADATA_DROPPED = ("execution", "collapsed", "scrolled")
NOTEBOOK_METADATA_KEPT = ("kernelspec", "language_info")


def stub_exercises(cell: nbformat.NotebookNode) -> None:
    if cell.cell_type != "code":
        return
    parsed = split_service_cell(cell.source)
    if parsed:
        header = cell.source.partition("\n")[0]
        cell.source = header + "\n" + strip_solutions(parsed[2], parsed[1])
    else:
        cell.source = strip_solutions(cell.source)


def clear_outputs(cell: nbformat.NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    for key in CELL_METADATA_DROPPED:
        cell.metadata.pop(key, None)


def keep_stable_metadata(nb: nbformat.NotebookNode) -> None:
    nb.metadata = nbformat.from_dict(
        {key: nb.metadata[key] for key in NOTEBOOK_METADATA_KEPT if key in nb.metadata}
    )
    if "language_info" in nb.metadata:
        nb.metadata.language_info = {"name": nb.metadata.language_info.get("name", "python")}


def learner_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        stub_exercises(cell)
        clear_outputs(cell)
    keep_stable_metadata(nb)
    return nb


def render(solution_path: Path) -> str:
    nb = nbformat.read(solution_path, as_version=4)
    text: str = nbformat.writes(learner_notebook(nb))
    return text + "\n"


def has_learner_work(path: Path) -> bool:
    """A learner notebook that was run (it has outputs) may hold the learner's own answers."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # unreadable: keep it, it may be the learner's
        return True
    return any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")


def keep_learner_copy(path: Path) -> None:
    """Before a run notebook is replaced or removed, copy it under the state folder and say where."""
    if not path.exists() or not has_learner_work(path):
        return
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = state_dir() / "notebook-backups" / stamp / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)
    print(f"kept your copy of {path.name} in {target}")


def generate(check: bool = False) -> list[Path]:
    """Write `notebooks/` (or, with check, only report). Returns the notebooks that differed."""
    target_dir = notebooks_dir()
    differing: list[Path] = []
    expected = set()
    for solution in ordered_notebooks(solutions_dir()):
        target = target_dir / solution.name
        expected.add(target.name)
        text = render(solution)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            differing.append(target)
            if not check:
                keep_learner_copy(target)
                target_dir.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    for orphan in sorted(target_dir.glob("[0-9][0-9]-*.ipynb")):
        if orphan.name not in expected:
            differing.append(orphan)
            if not check:
                keep_learner_copy(orphan)
                orphan.unlink()
    return differing
