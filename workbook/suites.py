"""Running a service's own test suite and reading what happened.

One way for the notebooks, the checkpoints and the tooling to run `python -m pytest` in a service
folder: in a fresh interpreter (the kernel's imports can neither hide nor invent a failure), with no
colours, and with every cache and report written outside the learner's tree. Each test's outcome is
read from pytest's JUnit XML, not scraped from its terminal output, and coverage from its JSON report."""

from __future__ import annotations

import json
import re
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .process import run

RUN_TIMEOUT_SECONDS = 300.0
LAYERS = ("unit", "integration", "e2e")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CLOSING = re.compile(r"^=*\s*(?P<counts>\d+ \w+.*?)(?: in [\d.]+s.*)?\s*=*$")


@dataclass
class SuiteRun:
    """One pytest run: exit status, output, each test's outcome, and coverage when it was measured."""

    returncode: int
    output: str
    outcomes: dict[str, str] = field(default_factory=dict)  # "tests/unit/test_x.py::test_y" -> outcome
    seconds: dict[str, float] = field(default_factory=dict)
    coverage: float | None = None

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    @property
    def timed_out(self) -> bool:
        return self.returncode == 124

    def layer(self, name: str) -> dict[str, str]:
        """The outcomes of the tests under tests/<name>/."""
        return {test: outcome for test, outcome in self.outcomes.items() if f"/{name}/" in f"/{test}"}

    def counts(self) -> Counter[str]:
        return Counter(self.outcomes.values())

    def summary(self) -> str:
        """'66 passed', '1 failed, 7 error': what pytest's closing line says, without its timing."""
        for line in reversed(self.output.strip().splitlines()):
            match = CLOSING.match(line.strip())
            if match:
                return match.group("counts").strip()
        return ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts().items())) or "no tests ran"

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_pytest(
    folder: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    coverage: str | None = None,
    timeout: float = RUN_TIMEOUT_SECONDS,
) -> SuiteRun:
    """`python -m pytest ARGS` in `folder`; `coverage="src"` also measures coverage of that package.

    Third-party plugins are not auto-loaded (the workbook's own, nbval, costs seconds); the ones
    needed are named. Caches, the coverage data file and the reports go to a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="workbook-suite-") as scratch:
        reports = Path(scratch)
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--color=no",
            f"--junitxml={reports / 'junit.xml'}", f"--basetemp={reports / 'tmp'}",
        ]  # fmt: skip
        if coverage:
            command += ["-p", "pytest_cov.plugin", f"--cov={coverage}", "--cov-report=term-missing",
                        f"--cov-report=json:{reports / 'coverage.json'}"]  # fmt: skip
        extra = {
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "NO_COLOR": "1",
            "COVERAGE_FILE": str(reports / ".coverage"),
            "MYPY_CACHE_DIR": str(reports / "mypy"),
            **(env or {}),
        }
        done = run([*command, *args], cwd=folder, extra_env=extra, timeout=timeout)
        outcomes, seconds = read_junit(reports / "junit.xml", folder)
        suite = SuiteRun(done.returncode, ANSI.sub("", done.output), outcomes, seconds)
        report = reports / "coverage.json"
        if report.exists():
            suite.coverage = float(json.loads(report.read_text())["totals"]["percent_covered"])
    return suite


def read_junit(path: Path, folder: Path) -> tuple[dict[str, str], dict[str, float]]:
    """Each test's outcome and time, keyed as pytest names it on the command line."""
    if not path.exists():
        return {}, {}
    outcomes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        node = f"{_file_of(case, folder)}::{case.get('name', '')}"
        outcomes[node] = {"failure": "failed"}.get(outcome, outcome)
        seconds[node] = float(case.get("time") or 0)
    return outcomes, seconds


def _file_of(case: ElementTree.Element, folder: Path) -> str:
    """tests/unit/test_x.py from the case's file attribute, else from its dotted class name."""
    file = case.get("file")
    if file:
        return file
    dotted = case.get("classname", "")
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        candidate = "/".join(parts[:cut]) + ".py"
        if (folder / candidate).is_file():
            return candidate
    return dotted
