"""Reading the workbook's own notebooks: which cells write service files, which run checkpoints.

Reset, replay and the checkpoint proofs all walk the notebooks as a list of events, in order,
without a kernel: `Write` for a `%%service` cell, `Reached` for a `%checkpoint` line.

A `%service_copy FROM TO PATH...` line (a later service starting from an earlier one's plumbing) is
read as one `Write` per file, its body the last one the notebooks wrote to FROM/PATH with FROM's
name changed to TO's: whatever replays the events sees plain writes, as if the file had been pasted."""

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
COPY_LINE = re.compile(r"^\s*%service_copy\b(?P<args>.*)$", re.MULTILINE)


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


@dataclass(frozen=True)
class Copy:
    source: str
    service: str
    paths: tuple[str, ...]
    notebook: str
    cell_id: str


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


def parse_copy_line(args: str) -> tuple[str, str, tuple[str, ...]]:
    """(from, to, paths) from `%service_copy FROM TO PATH...`."""
    parts = shlex.split(args)
    if len(parts) < 3 or parts[0] == parts[1]:
        raise CellSyntaxError(
            "usage: %service_copy FROM TO PATH...   (e.g. %service_copy task-service auth-service "
            "src/api/errors.py): two different services, then at least one file"
        )
    return parts[0], parts[1], tuple(parts[2:])


def renamed(text: str, source: str, service: str) -> str:
    """FROM's file as TO's: its name as written (task-service) and as a Python or logger name
    (task_service) become TO's."""
    for old, new in ((source, service), (source.replace("-", "_"), service.replace("-", "_"))):
        text = text.replace(old, new)
    return text


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


def events(notebook: Path) -> Iterator[Union[Event, Copy]]:
    """One notebook's events in cell order; copies unresolved (see `all_events`)."""
    for cell in code_cells(notebook):
        parsed = split_service_cell(cell.source)
        if parsed:
            service, path, body = parsed
            yield Write(service, path, body, notebook.name, cell.id)
            continue
        lines = [*COPY_LINE.finditer(cell.source), *CHECKPOINT_LINE.finditer(cell.source)]
        for match in sorted(lines, key=lambda m: m.start()):
            if match.re is COPY_LINE:
                yield Copy(*parse_copy_line(match.group("args")), notebook.name, cell.id)
            else:
                yield Reached(match.group("id"), notebook.name)


def ordered_notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def all_events(folder: Path) -> list[Event]:
    """Every notebook's events in order, each copy resolved into the writes it stands for."""
    latest: dict[tuple[str, str], str] = {}
    resolved: list[Event] = []
    for notebook in ordered_notebooks(folder):
        for event in events(notebook):
            if isinstance(event, Copy):
                resolved.extend(_copied(event, latest))
                continue
            if isinstance(event, Write):
                latest[(event.service, event.path)] = event.body
            resolved.append(event)
    return resolved


def _copied(copy: Copy, latest: dict[tuple[str, str], str]) -> list[Write]:
    writes = []
    for path in copy.paths:
        if (copy.source, path) not in latest:
            raise CellSyntaxError(
                f"{copy.notebook}: %service_copy names {copy.source}/{path}, which no earlier cell writes"
            )
        body = renamed(latest[(copy.source, path)], copy.source, copy.service)
        latest[(copy.service, path)] = body
        writes.append(Write(copy.service, path, body, copy.notebook, copy.cell_id))
    return writes


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
    """Every file written (by `%%service` or `%service_copy`) in the notebooks before `notebook_name`."""
    return [
        event for event in all_events(folder) if isinstance(event, Write) and event.notebook < notebook_name
    ]
