"""workbook.suites: a service's own pytest suite, run in a fresh interpreter, read from its reports."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from workbook.suites import SuiteRun, read_junit, run_pytest

UNIT = """
def test_adds():
    assert 1 + 1 == 2

def test_breaks():
    assert 1 + 1 == 3
"""
E2E = """
import pytest

@pytest.mark.skip(reason="no server here")
def test_server():
    pass
"""
SOURCE = """
def double(x):
    if x > 0:
        return 2 * x
    return 0
"""
COVERED = """
from src.calc import double

def test_double():
    assert double(2) == 4
"""


def service(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_outcomes_per_test_and_layer_come_from_the_junit_report(tmp_path):
    folder = service(tmp_path / "svc", {"tests/unit/test_a.py": UNIT, "tests/e2e/test_b.py": E2E})
    run = run_pytest(folder, "-q", "tests")
    assert run.returncode == 1 and not run.passed and not run.timed_out
    assert run.outcomes == {
        "tests/unit/test_a.py::test_adds": "passed",
        "tests/unit/test_a.py::test_breaks": "failed",
        "tests/e2e/test_b.py::test_server": "skipped",
    }
    assert run.layer("unit") == {
        "tests/unit/test_a.py::test_adds": "passed",
        "tests/unit/test_a.py::test_breaks": "failed",
    }
    assert run.counts() == {"passed": 1, "failed": 1, "skipped": 1}
    assert run.summary() == "1 failed, 1 passed, 1 skipped"
    assert set(run.seconds) == set(run.outcomes) and all(s >= 0 for s in run.seconds.values())
    assert "test_breaks" in run.tail(60) and run.coverage is None


def test_coverage_is_measured_and_nothing_is_left_in_the_service(tmp_path):
    folder = service(
        tmp_path / "svc",
        {"src/__init__.py": "", "src/calc.py": SOURCE, "tests/test_calc.py": COVERED, "conftest.py": ""},
    )
    before = sorted(p.name for p in folder.rglob("*"))
    run = run_pytest(folder, "-q", "tests", coverage="src", env={"EXTRA": "1"})
    assert run.passed, run.output
    assert run.coverage is not None and 0 < run.coverage < 100  # `return 0` never ran
    assert "TOTAL" in run.output  # the terminal report, as a learner would read it
    assert sorted(p.name for p in folder.rglob("*")) == before  # no .coverage, cache or report


def test_a_suite_that_runs_too_long_is_stopped(tmp_path):
    folder = service(
        tmp_path / "svc", {"tests/test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(30)\n"}
    )
    run = run_pytest(folder, "-q", "tests", timeout=2)
    assert run.timed_out and not run.passed


def test_summary_falls_back_to_the_counted_outcomes():
    assert SuiteRun(0, "no closing line", {"a": "passed", "b": "passed"}).summary() == "2 passed"
    assert SuiteRun(5, "").summary() == "no tests ran"


def test_junit_names_follow_the_file_or_the_dotted_class(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("")
    report = tmp_path / "junit.xml"
    suite = ElementTree.Element("testsuite")
    ElementTree.SubElement(suite, "testcase", classname="tests.test_x.TestThing", name="test_a", time="0.5")
    ElementTree.SubElement(suite, "testcase", file="tests/other.py", classname="x", name="test_b")
    ElementTree.SubElement(suite, "testcase", classname="nowhere", name="test_c")
    ElementTree.SubElement(
        ElementTree.SubElement(suite, "testcase", classname="nowhere", name="test_d"), "error"
    )
    ElementTree.ElementTree(suite).write(report)
    outcomes, seconds = read_junit(report, tmp_path)
    assert outcomes == {
        "tests/test_x.py::test_a": "passed",
        "tests/other.py::test_b": "passed",
        "nowhere::test_c": "passed",
        "nowhere::test_d": "error",
    }
    assert seconds["tests/test_x.py::test_a"] == pytest.approx(0.5)
    assert read_junit(tmp_path / "missing.xml", tmp_path) == ({}, {})
