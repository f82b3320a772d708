"""The formatting check every checkpoint adds: the Python files its notebook's `%%service` cells wrote
pass black and flake8, at the service's own settings once notebook 14 writes them (`[tool.black]` in
pyproject.toml, `.flake8`), at the same values before (100 columns), so code written in 02 is held to
the rules in 02, not first in 16.

A file that still holds an exercise stub is not held to the names its unfinished answer will use
(an import not used yet, a name defined by the answer): the exercise's own check fails for it."""

from __future__ import annotations

import re
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import process
from .regions import PYTHON_STUB

NAME = "formatting"
LINE_LENGTH = 100
BLACK_DEFAULTS = f"[tool.black]\nline-length = {LINE_LENGTH}\n"
FLAKE8_DEFAULTS = f"[flake8]\nmax-line-length = {LINE_LENGTH}\nextend-ignore = E203, W503\n"
STUB_CODES = ("F401", "F811", "F821", "F841")  # unused imports and names an unfinished answer leaves
FLAKE8_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):\d+: (?P<code>[A-Z]+\d+) (?P<text>.*)$", re.MULTILINE
)
HUNK = re.compile(r"^@@ -(?P<start>\d+)")
# "error: cannot parse: a.py:2:11" (black 26), "error: cannot format a.py: Cannot parse: 2:11: ..." (older)
UNPARSABLE = re.compile(
    r"^error: cannot (?:format|parse):? (?P<path>[^:\s]+):? ?.*?(?P<line>\d+):\d+", re.MULTILINE
)
STUB = re.compile(rf"^\s*{re.escape(PYTHON_STUB[0])}\s*$", re.MULTILINE)
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Finding:
    file: str  # relative to the services root: task-service/src/main.py
    line: int
    problem: str

    def __str__(self) -> str:
        return (
            f"{self.file} line {self.line}: {self.problem}" if self.line else f"{self.file}: {self.problem}"
        )


@dataclass(frozen=True)
class Outcome:
    findings: tuple[Finding, ...]
    missing_tool: str = ""  # black or flake8 is not installed: the check cannot run

    def hint(self, service: str) -> str:
        if not self.findings:
            return ""
        first = self.findings[0]
        path = first.file.partition("/")[2]
        more = f" ({len(self.findings)} findings, all in the details)" if len(self.findings) > 1 else ""
        return (
            f"{first}{more}. Notebook 01 states the rules: in services/{service} run "
            f"`black --line-length {LINE_LENGTH} {path}`, then fix what "
            f"`flake8 --max-line-length {LINE_LENGTH} {path}` still reports"
        )


def _black_config(folder: Path, scratch: Path) -> Path:
    pyproject = folder / "pyproject.toml"
    try:
        if "black" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}):
            return pyproject
    except (OSError, tomllib.TOMLDecodeError):
        pass  # none yet, or broken: another checkpoint's business; the defaults hold meanwhile
    defaults = scratch / "black.toml"
    defaults.write_text(BLACK_DEFAULTS, encoding="utf-8")
    return defaults


def _flake8_config(folder: Path, scratch: Path) -> Path:
    if (folder / ".flake8").is_file():
        return folder / ".flake8"
    defaults = scratch / "flake8.ini"
    defaults.write_text(FLAKE8_DEFAULTS, encoding="utf-8")
    return defaults


def black_findings(diff: str, service: str) -> list[Finding]:
    """The first line black would change in each file, read from its --diff."""
    found: list[Finding] = []
    current, start, context = "", 0, 0
    for line in diff.splitlines():
        if line.startswith("--- "):
            current, start = line[4:].split("\t")[0].strip(), 0
        elif (hunk := HUNK.match(line)) and current:
            start, context = int(hunk.group("start")), 0
        elif start and line[:1] == " ":
            context += 1
        elif start and line[:1] in ("-", "+") and not line.startswith(("---", "+++")):
            problem = "black would reformat this line (and perhaps more of the file)"
            found.append(Finding(f"{service}/{current}", start + context, problem))
            current, start = "", 0
    return found


def _crashes(service: str, black: process.Completed, flake8: process.Completed) -> list[Finding]:
    """A file black cannot parse, or a tool that stopped without checking (a broken pyproject.toml):
    a finding, never a silent pass."""
    found = [
        Finding(f"{service}/{m.group('path')}", int(m.group("line")), "black cannot parse it")
        for m in UNPARSABLE.finditer(black.stderr)
    ]
    for tool, done in (("black", black), ("flake8", flake8)):
        crashed = "Traceback (most recent call last)" in done.stderr
        if crashed or (done.returncode not in (0, 1) and not (tool == "black" and found)):
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            found.append(Finding(service, 0, f"{tool} could not check the files: {last}"))
    return found


def check_service(root: Path, service: str, paths: list[str]) -> Outcome:
    """black --check and flake8 on `paths` (relative to the service folder) that exist."""
    folder = root / service
    paths = sorted({p for p in paths if p.endswith(".py") and (folder / p).is_file()})
    if not paths:
        return Outcome(())
    with tempfile.TemporaryDirectory(prefix="workbook-formatting-") as scratch:
        black_config, flake8_config = _black_config(folder, Path(scratch)), _flake8_config(
            folder, Path(scratch)
        )
        black = process.run(
            [sys.executable, "-m", "black", "--check", "--diff", "-q", "--config", str(black_config), *paths],
            cwd=folder, timeout=TIMEOUT_SECONDS,
        )  # fmt: skip
        flake8 = process.run(
            [sys.executable, "-m", "flake8", "--config", str(flake8_config), *paths],
            cwd=folder, timeout=TIMEOUT_SECONDS,
        )  # fmt: skip
    for tool, done in (("black", black), ("flake8", flake8)):
        if "No module named" in done.stderr or done.missing:
            return Outcome((), missing_tool=tool)
    stubbed = {p for p in paths if STUB.search((folder / p).read_text(encoding="utf-8", errors="replace"))}
    found = black_findings(black.stdout, service) + _crashes(service, black, flake8)
    for match in FLAKE8_LINE.finditer(flake8.stdout):
        path = Path(match.group("path")).as_posix().removeprefix("./")
        if path in stubbed and match.group("code") in STUB_CODES:
            continue
        problem = f"flake8 {match.group('code')} {match.group('text')}"
        found.append(Finding(f"{service}/{path}", int(match.group("line")), problem))
    return Outcome(tuple(sorted(found, key=lambda f: (f.file, f.line))))
