"""Checkpoint task-tests (notebook 10, step 2.10): the learner's own test suite, layer by layer.

It runs the learner's tests in a copy of task-service: every layer exists and passes, the layer
markers follow the folders, and the integration tests really need PostgreSQL. Passing on correct
code is half of a test's job: each test an exercise asks for must also fail on the bugs planted for
it (workbook.planting_task), so a test that checks less than its instruction says is caught here, in
its own notebook. Coverage is notebook 11's checkpoint, the whole suite against planted bugs
notebook 12's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workbook import pyramid
from workbook.planting import Mutant, Mutation, copy_service, run_mutants
from workbook.planting_task import LIST_STATUS, TASK_SERVICE
from workbook.pyramid import Results
from workbook.suites import LAYERS, run_pytest

SERVICE = "task-service"
REQUIRED_FILES = (
    "tests/conftest.py",
    "tests/unit/test_models.py",
    "tests/unit/test_routes.py",
    "tests/integration/test_database.py",
    "tests/e2e/test_api_e2e.py",
)

# Planted in a copy of the service, next to the learner's unit tests: it asks the learner's own
# `db_session` fixture (and the conftest it lives in) what notebook 10 says it does.
PROBE_PATH = "tests/unit/test_checkpoint_db_session.py"
PROBE = '''"""The task-tests checkpoint's probe of the db_session fixture (not part of the service)."""

import pytest
from sqlalchemy import event, func, select

from src.models.database import Task

SESSIONS = []  # (session, task): the task is held, so the session's weak identity map keeps it


@pytest.fixture
def cleanup_watch(engine):
    """Set up before db_session and torn down after it: what db_session's cleanup leaves behind."""
    borrowed = []
    event.listen(engine, "checkout", lambda *args: borrowed.append(1))
    event.listen(engine, "checkin", lambda *args: borrowed.pop())
    yield
    assert not borrowed, "db_session's cleanup leaves its connection checked out: close the connection"
    session, task = SESSIONS[-1]
    assert task not in session, "db_session's cleanup does not close the session"


def test_a_committed_task_reads_without_a_query(cleanup_watch, db_session):
    statements = []
    task = Task(title="probe")
    db_session.add(task)
    db_session.commit()
    SESSIONS.append((db_session, task))
    event.listen(db_session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert task.title == "probe"
    assert not statements, f"reading a committed task ran {statements}: set expire_on_commit=False"


def test_the_next_test_starts_from_empty_tables(db_session):
    left = db_session.scalar(select(func.count()).select_from(Task))
    assert left == 0, f"{left} task(s) the previous test committed are still there: roll the transaction back"
'''


# Each exercise's test and the bugs it must catch, one per thing its instruction says to check: the
# title's both bounds; only the done task listed, and the total counting only it.
BUGS = {**TASK_SERVICE, **LIST_STATUS}
HELD_TO: dict[str, tuple[str, ...]] = {
    "tests/unit/test_models.py::test_title_bounds": ("empty-title", "long-title"),
    "tests/unit/test_routes.py::test_list_filters_by_status": ("status", "status-items", "status-total"),
}
NODES = {test.split("::")[-1]: test for test in HELD_TO}  # the function's name -> its pytest id
HELD = [(test.split("::")[-1], BUGS[name]) for test, names in HELD_TO.items() for name in names]
HELD_IDS = [name for names in HELD_TO.values() for name in names]


@pytest.fixture(scope="session")
def results(
    service_dir: Callable[[str], Path],
    closed_port: Callable[[], int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Results]:
    scratch = tmp_path_factory.mktemp("task-tests")
    dead_url = f"postgresql+psycopg://workbook:workbook@127.0.0.1:{closed_port()}/workbook"
    yield pyramid.run_layers(service_dir(SERVICE), scratch, dead_url)


@pytest.fixture(scope="session")
def planted(
    service_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Mutant]]:
    """Each exercise's test alone, on a copy of the service with each of its bugs planted."""
    scratch = tmp_path_factory.mktemp("held-to")
    runs = {}
    for index, (test, names) in enumerate(HELD_TO.items()):
        bugs = {name: BUGS[name] for name in names}
        runs[test] = run_mutants(service_dir(SERVICE), scratch / str(index), bugs, args=("-q", test))
    return runs


def collected(folder: Path, *args: str) -> set[str]:
    """The test ids `pytest --collect-only ARGS tests` selects."""
    run = run_pytest(folder, "--collect-only", "-q", *args, "tests", timeout=120)
    assert run.returncode in (0, 5), f"pytest could not collect the tests:\n{run.tail()}"  # 5: none selected
    return {line.strip() for line in run.output.splitlines() if "::" in line and line.startswith("tests/")}


def test_db_session_fixture(service_dir: Callable[[str], Path], tmp_path: Path) -> None:
    """db_session rolls back even what a test committed, keeps committed objects readable, and closes"""
    folder = copy_service(service_dir(SERVICE), tmp_path / "db-session")
    (folder / PROBE_PATH).write_text(PROBE, encoding="utf-8")
    run = run_pytest(folder, "-q", "-p", "no:randomly", PROBE_PATH, timeout=120)
    assert run.outcomes, f"the probe of db_session did not run:\n{run.tail()}"
    bad = sorted(test for test, outcome in run.outcomes.items() if outcome != "passed")
    assert not bad, f"{run.summary()}: {bad}\n{run.tail()}"


def test_every_layer_has_tests(service_dir: Callable[[str], Path], results: Results) -> None:
    """tests/ has conftest.py and test files in unit/, integration/ and e2e/"""
    problem = pyramid.missing_tests(service_dir(SERVICE), results, REQUIRED_FILES)
    assert not problem, problem


def test_pytest_configured(service_dir: Callable[[str], Path], tmp_path: Path) -> None:
    """the markers unit, integration and e2e are declared in the pytest configuration"""
    problem = pyramid.undeclared_markers(service_dir(SERVICE), tmp_path / "config")
    assert not problem, problem


def test_layer_markers_follow_the_folders(service_dir: Callable[[str], Path], tmp_path: Path) -> None:
    """`pytest -m unit` selects exactly the tests under tests/unit/ (and so for integration and e2e)"""
    folder = copy_service(service_dir(SERVICE), tmp_path / "markers")
    every = collected(folder)
    assert every, "pytest collected no tests"
    for layer in LAYERS:
        expected = {test for test in every if test.startswith(f"tests/{layer}/")}
        selected = collected(folder, "-m", layer)
        left_out, extra = sorted(expected - selected), sorted(selected - expected)
        assert (
            not left_out
        ), f"`pytest -m {layer}` leaves out {len(left_out)} of tests/{layer}: {left_out[:5]}"
        assert not extra, f"`pytest -m {layer}` also selects tests outside tests/{layer}: {extra[:5]}"


def test_unit_tests_pass(results: Results) -> None:
    """the unit tests pass"""
    problem = pyramid.layer_problem(results, "unit")
    assert not problem, problem


def test_integration_tests_pass_on_postgresql(results: Results) -> None:
    """the integration tests run against PostgreSQL, none skipped, and pass"""
    problem = pyramid.layer_problem(results, "integration")
    assert not problem, problem


def test_integration_tests_need_postgresql(results: Results) -> None:
    """against a PostgreSQL that does not answer, the integration tests fail (not skip, not pass)"""
    problem = pyramid.runs_without_database(results)
    assert not problem, problem


def test_e2e_tests_pass(results: Results) -> None:
    """the e2e tests pass"""
    problem = pyramid.layer_problem(results, "e2e")
    assert not problem, problem


@pytest.mark.parametrize(("test", "mutation"), HELD, ids=HELD_IDS)
def test_exercise_test_catches(
    results: Results, planted: dict[str, dict[str, Mutant]], test: str, mutation: Mutation
) -> None:
    """{test} fails on a planted bug: {mutation.bug}"""
    node = NODES[test]
    outcomes = {
        case: outcome
        for case, outcome in results.baseline.outcomes.items()
        if case == node or case.startswith(f"{node}[")
    }
    assert outcomes, f"{node} did not run: write it in the notebook's cell"
    failing = sorted(case for case, outcome in outcomes.items() if outcome != "passed")
    assert not failing, f"{test} fails on your own code: fix that first ({failing})"
    mutant = next(m for m in planted[node].values() if m.mutation is mutation)
    assert mutant.planted, mutant.problem
    assert (
        mutant.caught
    ), f"planted bug: {mutation.bug} ({mutation.path}); {test} still passed:\n{mutant.diff}"
