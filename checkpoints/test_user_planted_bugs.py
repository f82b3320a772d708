"""Checkpoint user-planted-bugs (notebook 21, step 2.18): would the learner's tests catch a bug?

As task-planted-bugs does for task-service: it plants known bugs into copies of user-service, one
per copy, runs the unit and e2e tests on each, and requires some test to fail. A test that already
fails on the learner's own code cannot catch anything, so it is left out of the mutants' runs
(and the first check says so)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workbook.planting import Mutation, Planted, catch_problem, plant_all, suite_problem
from workbook.planting_user import USER_SERVICE

SERVICE = "user-service"


@pytest.fixture(scope="session")
def results(service_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Planted:
    return plant_all(service_dir(SERVICE), tmp_path_factory.mktemp("planted-bugs"), USER_SERVICE)


def test_suite_passes(results: Planted) -> None:
    """the unit and e2e tests pass on your own code"""
    problem = suite_problem(results.baseline)
    assert not problem, problem


@pytest.mark.parametrize("mutation", USER_SERVICE.values(), ids=USER_SERVICE.keys())
def test_catches(results: Planted, mutation: Mutation) -> None:
    """your tests catch a planted bug: {mutation.bug}"""
    problem = catch_problem(results.of(mutation))
    assert not problem, problem
