"""A pytest plugin loaded by the checkpoint runner: it records each check's outcome as JSON."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_results: dict[str, dict[str, Any]] = {}


def _name(nodeid: str) -> str:
    return nodeid.split("::")[-1]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _results.setdefault(_name(report.nodeid), {"outcome": "not run", "detail": "", "doc": ""})
    if report.failed:
        entry["outcome"] = "failed" if report.when == "call" else "error"
        entry["detail"] = report.longreprtext
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
        _results[_name(item.nodeid)] = {"outcome": "not run", "detail": "", "doc": first}


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _results["collection"] = {
            "outcome": "error",
            "detail": report.longreprtext,
            "doc": "the checkpoint's tests could be loaded",
        }


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("WORKBOOK_RESULTS_FILE")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(_results, handle, indent=1)
