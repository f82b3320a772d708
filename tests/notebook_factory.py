"""Small notebooks written on the fly for the tooling tests."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def make_notebook(path: Path, *sources: str) -> Path:
    """Cells from sources; a source starting with '# ' (markdown) becomes a markdown cell."""
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    for number, source in enumerate(sources):
        if source.startswith("# "):
            cell = new_markdown_cell(source)
        else:
            cell = new_code_cell(source, execution_count=number + 1)
            cell.outputs = [new_output("stream", name="stdout", text="stored output\n")]
        cell.id = f"cell-{number}"
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
