"""Exercise regions: code between `### BEGIN SOLUTION` and `### END SOLUTION`.

Solutions keep the region (the markers are dropped when the file is written); learner
notebooks get a stub in its place, in the comment syntax of the file being written."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .errors import UserError

BEGIN = re.compile(r"^(?P<indent>[ \t]*)(#|//|<!--)?\s*### BEGIN SOLUTION\b.*$")
END = re.compile(r"^[ \t]*(#|//|<!--)?\s*### END SOLUTION\b.*$")

PYTHON_STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
COMMENT_STUBS = {
    ".md": ("<!-- YOUR CODE HERE -->",),
    ".html": ("<!-- YOUR CODE HERE -->",),
}
HASH_COMMENT_STUB = ("# YOUR CODE HERE",)


class RegionError(UserError, ValueError):
    """An exercise region is opened twice, closed without being opened, or never closed."""


def stub_for(path: str | None) -> tuple[str, ...]:
    """The stub that fits the language of `path` (None: a notebook code cell, Python)."""
    if path is None:
        return PYTHON_STUB
    suffix = PurePosixPath(path).suffix
    if suffix in (".py", ".pyi"):
        return PYTHON_STUB
    return COMMENT_STUBS.get(suffix, HASH_COMMENT_STUB)


def _regions(lines: list[str]) -> list[tuple[int, int, str]]:
    regions: list[tuple[int, int, str]] = []
    start: int | None = None
    indent = ""
    for number, line in enumerate(lines):
        begin = BEGIN.match(line)
        if begin:
            if start is not None:
                raise RegionError(f"line {number + 1}: BEGIN SOLUTION inside another region")
            start, indent = number, begin.group("indent")
        elif END.match(line):
            if start is None:
                raise RegionError(f"line {number + 1}: END SOLUTION without BEGIN SOLUTION")
            regions.append((start, number, indent))
            start = None
    if start is not None:
        raise RegionError(f"line {start + 1}: BEGIN SOLUTION is never closed")
    return regions


def has_regions(source: str) -> bool:
    return bool(_regions(source.splitlines()))


def strip_solutions(source: str, path: str | None = None) -> str:
    """Replace every region with the stub for `path`'s language, at the region's indent."""
    lines = source.splitlines()
    stub = stub_for(path)
    out: list[str] = []
    cursor = 0
    for start, end, indent in _regions(lines):
        out.extend(lines[cursor:start])
        out.extend(indent + line for line in stub)
        cursor = end + 1
    out.extend(lines[cursor:])
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def drop_markers(source: str) -> str:
    """The solution as it is written to disk: the region's code without its marker lines."""
    lines = source.splitlines()
    marker_lines = {n for start, end, _ in _regions(lines) for n in (start, end)}
    kept = [line for n, line in enumerate(lines) if n not in marker_lines]
    return "\n".join(kept) + ("\n" if source.endswith("\n") else "")
