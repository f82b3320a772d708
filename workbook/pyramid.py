"""What the task-tests and user-tests checkpoints ask of a learner's test pyramid, once for both.

Each question returns the problem in a sentence, or "" when there is none, so that a checkpoint's
test is one assert and its hint says what to fix: every layer has its files and enough tests, the
layer markers are declared, each layer passes, and the integration layer really needs PostgreSQL
(against one that does not answer it fails: a suite that skips or passes there tests nothing)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .planting import copy_service
from .suites import LAYERS, SuiteRun, run_pytest

MIN_TESTS_PER_FILE = 3


@dataclass
class Results:
    baseline: SuiteRun  # the whole suite on a working database
    dead_database: SuiteRun  # the integration layer against a closed port


def run_layers(service: Path, scratch: Path, dead_url: str, coverage: str | None = None) -> Results:
    """The whole suite, and beside it (both at once, in copies) the integration layer on `dead_url`."""
    baseline_folder = copy_service(service, scratch / "baseline")
    dead_folder = copy_service(service, scratch / "dead-database")
    with ThreadPoolExecutor(max_workers=2) as pool:
        baseline = pool.submit(run_pytest, baseline_folder, "-q", "-rfEs", "tests", coverage=coverage)
        dead = pool.submit(
            run_pytest, dead_folder, "-q", "tests/integration", env={"TEST_DATABASE_URL": dead_url}
        )
        return Results(baseline.result(), dead.result())


def missing_tests(service: Path, results: Results, required: Sequence[str]) -> str:
    """`required` is the conftest first, then the test files, each with at least a few tests."""
    missing = [path for path in required if not (service / path).is_file()]
    if missing:
        return f"missing: {missing}"
    for path in required[1:]:
        count = sum(1 for test in results.baseline.outcomes if test.split("::")[0] == path)
        if count < MIN_TESTS_PER_FILE:
            return f"{path}: {count} tests collected, expected at least {MIN_TESTS_PER_FILE}"
    return ""


def undeclared_markers(service: Path, scratch: Path) -> str:
    markers = run_pytest(copy_service(service, scratch), "--markers", timeout=120)
    undeclared = [layer for layer in LAYERS if f"@pytest.mark.{layer}:" not in markers.output]
    return f"markers not declared in the pytest configuration: {undeclared}" if undeclared else ""


def layer_problem(results: Results, layer: str) -> str:
    outcomes = results.baseline.layer(layer)
    if not outcomes:
        return f"no {layer} test ran:\n{results.baseline.tail()}"
    bad = sorted(test for test, outcome in outcomes.items() if outcome != "passed")
    if bad:
        return f"{layer} tests ({results.baseline.summary()} in all): {bad}\n{results.baseline.tail()}"
    return ""


def runs_without_database(results: Results) -> str:
    dead = results.dead_database
    outcomes = dead.layer("integration")
    if not outcomes:
        return f"no integration test ran:\n{dead.tail()}"
    passed = sorted(test for test, outcome in outcomes.items() if outcome == "passed")
    if passed:
        return f"these integration tests pass without a database: {passed}"
    if dead.returncode != 1:
        return f"expected failures, got {dead.summary()}:\n{dead.tail()}"
    return ""
