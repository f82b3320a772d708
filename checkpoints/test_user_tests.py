"""Checkpoint user-tests (notebook 20, step 2.18): user-service's own test suite, layer by layer.

It runs the learner's tests in copies of user-service: every layer exists and passes (the
integration layer on PostgreSQL, the e2e layer against gunicorn), the rollback fixture and the
duplicate-email test do what notebook 20 says, coverage is above 85% and enforced, and mypy is
clean. Planted bugs are notebook 21's checkpoint."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workbook import pyramid
from workbook.planting import copy_service, plant
from workbook.planting_user import USER_SERVICE
from workbook.process import run
from workbook.pyramid import Results
from workbook.suites import SuiteRun, run_pytest

SERVICE = "user-service"
COVERAGE_TARGET = 85.0
REQUIRED_FILES = (
    "tests/conftest.py",
    "tests/unit/test_users.py",
    "tests/integration/test_database.py",
    "tests/e2e/test_api_e2e.py",
)

# Planted next to the learner's unit tests: asks the learner's `app` fixture what notebook 20 says.
ROLLBACK_PROBE = '''"""The user-tests checkpoint's probe of the app fixture (not part of the service)."""

from sqlalchemy import text


def test_a_request_writes_in_the_tests_transaction(client, connection):
    created = client.post("/api/v1/users", json={"email": "probe@example.com", "name": "Probe"})
    assert created.status_code == 201, f"POST answered {created.status_code}: {created.get_data()}"
    count = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
    assert count == 1, "the app's sessions do not use the test's connection"


def test_the_next_test_starts_from_empty_tables(client):
    left = client.get("/api/v1/users").get_json()["total"]
    assert left == 0, f"{left} user(s) the previous test committed are still there"
'''
# Planted next to the learner's e2e tests: the live server is a gunicorn process.
SERVER_PROBE = '''"""The user-tests checkpoint's probe of live_server (not part of the service)."""

import httpx


URLS = []


def test_the_server_is_gunicorn(live_server):
    URLS.append(live_server)
    answer = httpx.get(f"{live_server}/health/live", timeout=5)
    assert answer.status_code == 200, f"{live_server}/health/live answered {answer.status_code}"
    server = answer.headers.get("server", "")
    assert server.startswith("gunicorn"), f"the Server header is {server!r}, not gunicorn's"


def test_the_server_is_stopped_after_its_test():
    assert URLS, "the previous test got no live_server"
    try:
        httpx.get(f"{URLS[0]}/health/live", timeout=2)
    except httpx.TransportError:
        return
    raise AssertionError(f"{URLS[0]} still answers after its test: stop gunicorn in live_server's teardown")
'''


@pytest.fixture(scope="session")
def results(
    service_dir: Callable[[str], Path],
    closed_port: Callable[[], int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Results]:
    scratch = tmp_path_factory.mktemp("user-tests")
    dead_url = f"postgresql+psycopg://workbook:workbook@127.0.0.1:{closed_port()}/workbook"
    yield pyramid.run_layers(service_dir(SERVICE), scratch, dead_url, coverage="src")


def probe(service: Path, folder: Path, path: str, source: str) -> SuiteRun:
    copy = copy_service(service, folder)
    (copy / path).write_text(source, encoding="utf-8")
    return run_pytest(copy, "-q", "-p", "no:randomly", path, timeout=120)


def all_pass(run: SuiteRun, what: str) -> None:
    assert run.outcomes, f"the probe of {what} did not run:\n{run.tail()}"
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


def test_app_fixture_rolls_back(service_dir: Callable[[str], Path], tmp_path: Path) -> None:
    """the app's requests write in the test's transaction, and the next test finds empty tables"""
    run = probe(service_dir(SERVICE), tmp_path / "rollback", "tests/unit/test_probe_app.py", ROLLBACK_PROBE)
    all_pass(run, "the app fixture")


def test_duplicate_email_test_catches_a_missing_index(
    service_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    """the duplicate-email test passes, and fails when the unique index is not unique"""
    args = ("-q", "tests/unit/test_users.py", "-k", "duplicate")
    service = service_dir(SERVICE)
    correct = run_pytest(copy_service(service, tmp_path / "correct"), *args, timeout=120)
    assert (
        correct.outcomes
    ), f"no test in tests/unit/test_users.py has 'duplicate' in its name:\n{correct.tail()}"
    assert correct.passed, f"it fails on your own code ({correct.summary()}):\n{correct.tail()}"
    mutant = copy_service(service, tmp_path / "mutant")
    plant(USER_SERVICE["duplicate-email"], mutant)
    caught = run_pytest(mutant, *args, timeout=120)
    assert caught.returncode == 1, (
        f"with Index(..., unique=False) the duplicate-email test still gives {caught.summary()}: "
        "a second user with the email must be answered 409 and not be stored"
    )


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


def test_e2e_server_is_gunicorn(service_dir: Callable[[str], Path], tmp_path: Path) -> None:
    """live_server is a gunicorn process answering on a loopback port"""
    run = probe(service_dir(SERVICE), tmp_path / "server", "tests/e2e/test_probe_server.py", SERVER_PROBE)
    all_pass(run, "live_server")


def test_threshold_enforced(service_dir: Callable[[str], Path]) -> None:
    """pyproject.toml: coverage measures src/ with branches and fails a run at 85% or below"""
    path = service_dir(SERVICE) / "pyproject.toml"
    assert path.is_file(), "no user-service/pyproject.toml: run the cell that writes it"
    coverage = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("coverage", {})
    assert "src" in coverage.get("run", {}).get("source", []), '[tool.coverage.run] source = ["src"]'
    assert coverage.get("run", {}).get("branch") is True, "[tool.coverage.run] branch = true"
    fail_under = float(coverage.get("report", {}).get("fail_under", 0))
    assert fail_under > COVERAGE_TARGET, f"[tool.coverage.report] fail_under is {fail_under:g}: 85.1"


def test_coverage_above_85_percent(results: Results) -> None:
    """pytest --cov=src tests/ passes with more than 85% coverage"""
    suite = results.baseline
    assert suite.coverage is not None, f"no coverage report:\n{suite.tail()}"
    assert suite.coverage > COVERAGE_TARGET, f"coverage is {suite.coverage:.1f}%:\n{suite.tail()}"
    assert suite.returncode == 0, f"the suite fails ({suite.summary()}):\n{suite.tail()}"


def test_mypy_is_clean(service_dir: Callable[[str], Path], tmp_path: Path) -> None:
    """[tool.mypy] is strict, and `mypy src` passes with it"""
    service = service_dir(SERVICE)
    path = service / "pyproject.toml"
    assert path.is_file(), "no user-service/pyproject.toml: run the cell that writes it"
    mypy = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("mypy", {})
    assert mypy.get("strict") is True, "[tool.mypy] strict = true"
    done = run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), "src"],
        cwd=service,
        extra_env={"NO_COLOR": "1", "MYPY_FORCE_COLOR": "0"},
        timeout=600,
    )
    assert done.ok, f"`mypy src` in user-service exits {done.returncode}:\n{done.output[-3000:]}"
