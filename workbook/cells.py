"""Reading the workbook's own notebooks: which cells write service files, which run checkpoints.

Reset, replay and the checkpoint proofs all walk the notebooks as a list of events, in order,
without a kernel: `Write` for a `%%service` cell, `Reached` for a `%checkpoint` line."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

from .errors import UserError

SERVICE_HEADER = re.compile(r"^%%service\b(?P<args>.*)$")
CHECKPOINT_LINE = re.compile(r"^\s*%checkpoint\s+(?P<id>\S+)\s*$", re.MULTILINE)


class CellSyntaxError(UserError, ValueError):
    pass


@dataclass(frozen=True)
class Write:
    service: str
    path: str
    body: str
    notebook: str
    cell_id: str


@dataclass(frozen=True)
class Reached:
    checkpoint: str
    notebook: str


Event = Union[Write, Reached]


REPLACE = "--replace"  # write this version even over a later notebook's (see workbook.magics)


def parse_service_line(args: str) -> tuple[str, str, bool]:
    """(service, path, replace) from `%%service [--replace] SERVICE PATH`."""
    parts = shlex.split(args)
    replace = parts[:1] == [REPLACE]
    if replace:
        parts = parts[1:]
    if len(parts) != 2:
        raise CellSyntaxError(
            f"usage: %%service [{REPLACE}] SERVICE PATH   (e.g. %%service task-service src/main.py)"
        )
    return parts[0], parts[1], replace


def parse_service_args(args: str) -> tuple[str, str]:
    service, path, _ = parse_service_line(args)
    return service, path


def split_service_cell(source: str) -> tuple[str, str, str] | None:
    """(service, path, body) for a `%%service` cell, None for any other cell."""
    header, _, body = source.partition("\n")
    match = SERVICE_HEADER.match(header.strip())
    if not match:
        return None
    service, path = parse_service_args(match.group("args"))
    return service, path, body


@dataclass(frozen=True)
class CodeCell:
    id: str
    source: str


def code_cells(path: Path) -> list[CodeCell]:
    """The code cells of a notebook, read as plain JSON: nbformat's validation costs seconds to
    import, and reset, check and replay only need each cell's source."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError, TypeError) as error:
        raise CellSyntaxError(f"{path.name} is not a readable notebook ({error})") from error
    return [
        CodeCell(
            str(cell.get("id", "")),
            "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"],
        )
        for cell in cells
        if cell.get("cell_type") == "code"
    ]


def events(notebook: Path) -> Iterator[Event]:
    for cell in code_cells(notebook):
        parsed = split_service_cell(cell.source)
        if parsed:
            service, path, body = parsed
            yield Write(service, path, body, notebook.name, cell.id)
            continue
        for match in CHECKPOINT_LINE.finditer(cell.source):
            yield Reached(match.group("id"), notebook.name)


def ordered_notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def all_events(folder: Path) -> list[Event]:
    return [event for notebook in ordered_notebooks(folder) for event in events(notebook)]


def checkpoint_order(folder: Path) -> list[str]:
    return [e.checkpoint for e in all_events(folder) if isinstance(e, Reached)]


def writes_until(folder: Path, checkpoint: str | None, after: str | None = None) -> list[Write]:
    """The `%%service` cells after checkpoint `after` (None: from the start) up to `checkpoint`
    (None: nothing; the empty workspace). Raises KeyError when a named checkpoint is absent."""
    if checkpoint is None:
        return []
    found_after = after is None
    writes: list[Write] = []
    for event in all_events(folder):
        if isinstance(event, Reached):
            if event.checkpoint == checkpoint:
                if not found_after:
                    raise KeyError(after)
                return writes
            if event.checkpoint == after:
                found_after = True
        elif found_after:
            writes.append(event)
    raise KeyError(checkpoint)


def writes_before(folder: Path, notebook_name: str) -> list[Write]:
    """Every `%%service` cell of the notebooks that come before `notebook_name`."""
    return [
        event
        for notebook in ordered_notebooks(folder)
        if notebook.name < notebook_name
        for event in events(notebook)
        if isinstance(event, Write)
    ]
