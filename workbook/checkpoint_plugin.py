"""A pytest plugin loaded by the checkpoint runner: it records each check's outcome as JSON.

Besides the outcome it records, for a failure, the exception's first line and its upstream cause
when there is one: a service file that does not parse or does not import fails every check that
touches it, and the learner must read that one line before any check's hint. Tracebacks keep only
the frames of the checks and of the learner's services: frames of FastAPI, pytest or the standard
library say nothing the learner can act on."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .paths import services_root
from .suites import ANSI

if TYPE_CHECKING:
    from _pytest._code.code import Traceback

_results: dict[str, dict[str, Any]] = {}


def _name(nodeid: str) -> str:
    return nodeid.split("::")[-1]


def _within(path: object, folder: Path) -> bool:
    try:
        return Path(str(path)).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def _first_line(error: BaseException) -> str:
    text = ANSI.sub("", str(error)).strip()
    line = text.splitlines()[0] if text else ""
    if isinstance(error, AssertionError) and line:
        return line  # a check's own message: its type says nothing more
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def upstream_cause(excinfo: pytest.ExceptionInfo[BaseException], services: Path) -> tuple[str, str]:
    """(file, one line naming it and the line that broke the import), ('', '') when the failure lies
    elsewhere. The file is relative to the services root (task-service/src/main.py).

    A SyntaxError carries its own file and line; any other exception is an import failure when a
    service file's module-level code is on the stack (the innermost such frame is the file at fault)."""
    error = excinfo.value
    if isinstance(error, SyntaxError) and error.filename and _within(error.filename, services):
        where = Path(error.filename).resolve().relative_to(services).as_posix()
        return where, f"{where} line {error.lineno} does not parse ({type(error).__name__}: {error.msg})"
    for entry in reversed(excinfo.traceback):
        if entry.name == "<module>" and _within(entry.path, services):
            where = Path(str(entry.path)).resolve().relative_to(services).as_posix()
            if isinstance(error, NotImplementedError):  # a stub at module level: the exercise is not done
                return (
                    where,
                    f"{where} line {entry.lineno + 1} still holds an exercise's stub, so it does not import",
                )
            return where, f"{where} line {entry.lineno + 1} does not import ({_first_line(error)})"
    return "", ""


def ours(keep: tuple[Path, ...]) -> Callable[[pytest.ExceptionInfo[BaseException]], "Traceback"]:
    """A traceback filter keeping the frames under `keep` (all of them when none is)."""

    def keep_ours(excinfo: pytest.ExceptionInfo[BaseException]) -> "Traceback":
        mine = excinfo.traceback.filter(lambda entry: any(_within(entry.path, folder) for folder in keep))
        return mine if len(mine) else excinfo.traceback

    return keep_ours


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    excinfo = call.excinfo
    cause_file = cause = message = ""
    if excinfo is not None and not excinfo.errisinstance(pytest.skip.Exception):
        services = services_root().resolve()
        cause_file, cause = upstream_cause(excinfo, services)
        message = _first_line(excinfo.value)
    report = yield
    if report.failed and excinfo is not None:
        entry = _results.setdefault(_name(report.nodeid), _empty(""))
        entry.update(cause=cause, cause_file=cause_file, message=message)
        plain = excinfo.errisinstance(pytest.fail.Exception) and not getattr(excinfo.value, "pytrace", True)
        if not (plain or excinfo.errisinstance(pytest.FixtureLookupError)):  # those have their own form
            keep = (services_root().resolve(), item.config.rootpath.resolve())
            report.longrepr = excinfo.getrepr(style="short", abspath=True, tbfilter=ours(keep))
    return report


def _empty(doc: str) -> dict[str, Any]:
    return {"outcome": "not run", "detail": "", "doc": doc, "cause": "", "cause_file": "", "message": ""}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _results.setdefault(_name(report.nodeid), _empty(""))
    if report.failed:
        entry["outcome"] = "failed" if report.when == "call" else "error"
        entry["detail"] = ANSI.sub("", report.longreprtext)
    elif report.skipped:
        entry["outcome"] = "skipped"
        if isinstance(report.longrepr, tuple):
            entry["detail"] = str(report.longrepr[2]).removeprefix("Skipped: ")
    elif report.when == "call":
        entry["outcome"] = "passed"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        first = doc.strip().splitlines()[0] if doc.strip() else ""
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "{" in first:  # a parametrized check's doc names its case
            first = first.format(**callspec.params)
        _results[_name(item.nodeid)] = _empty(first)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _results["collection"] = {
            **_empty("the checkpoint's tests could be loaded"),
            "outcome": "error",
            "detail": ANSI.sub("", report.longreprtext),
        }


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("WORKBOOK_RESULTS_FILE")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(_results, handle, indent=1)
