"""Checkpoint user-planted-bugs (notebook 21, step 2.18): would the learner's tests catch a bug?

As task-planted-bugs does for task-service: it plants known bugs into copies of user-service, one
per copy, runs the unit and e2e tests on each, and requires some test to fail. A test that already
fails on the learner's own code cannot catch anything, so it is left out of the mutants' runs
(and the first check says so)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbook.planting import FAST_LAYERS, Mutant, Mutation, copy_service, run_mutants
from workbook.planting_user import USER_SERVICE
from workbook.suites import SuiteRun, run_pytest

SERVICE = "user-service"


@dataclass
class Results:
    baseline: SuiteRun
    mutants: dict[str, Mutant]


@pytest.fixture(scope="session")
def results(service_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Results:
    service = service_dir(SERVICE)
    scratch = tmp_path_factory.mktemp("planted-bugs")
    baseline = run_pytest(copy_service(service, scratch / "baseline"), "-q", *FAST_LAYERS)
    failing = [test for test, outcome in baseline.outcomes.items() if outcome in ("failed", "error")]
    return Results(baseline, run_mutants(service, scratch, USER_SERVICE, deselect=failing))


def test_suite_passes(results: Results) -> None:
    """the unit and e2e tests pass on your own code"""
    baseline = results.baseline
    failing = sorted(test for test, outcome in baseline.outcomes.items() if outcome in ("failed", "error"))
    assert baseline.outcomes, f"no test ran:\n{baseline.tail()}"
    assert not failing, f"{baseline.summary()}: a failing test catches no bug: {failing}\n{baseline.tail(30)}"


@pytest.mark.parametrize("mutation", USER_SERVICE.values(), ids=USER_SERVICE.keys())
def test_catches(results: Results, mutation: Mutation) -> None:
    """your tests catch a planted bug: {mutation.bug}"""
    mutant = next(m for m in results.mutants.values() if m.mutation is mutation)
    assert mutant.planted, mutant.problem
    assert mutant.run is not None and mutant.run.returncode in (
        0,
        1,
    ), f"the tests did not run on the mutant ({mutant.run.summary() if mutant.run else 'no run'}):\n" + (
        mutant.run.tail() if mutant.run else ""
    )
    assert (
        mutant.caught
    ), f"planted bug: {mutation.bug} ({mutation.path}); every test still passed:\n{mutant.diff}"
