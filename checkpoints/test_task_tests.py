"""Checkpoint task-tests (notebook 10, step 2.10): the learner's own test suite.

It runs the learner's tests in a copy of task-service: every layer exists and passes, coverage is
above 85% and the configuration enforces it, the integration tests really need PostgreSQL. Then it
plants known bugs into copies of the service, one per copy, and requires the learner's tests to
fail on each: tests that pass whatever the code does protect nothing."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVICE = "task-service"
LAYERS = ("unit", "integration", "e2e")
REQUIRED_FILES = (
    "tests/conftest.py",
    "tests/unit/test_models.py",
    "tests/unit/test_routes.py",
    "tests/integration/test_database.py",
    "tests/e2e/test_api_e2e.py",
)
COVERAGE_TARGET = 85.0
RUN_TIMEOUT_SECONDS = 300
IGNORED = shutil.ignore_patterns(
    "__pycache__", ".pytest_cache", ".mypy_cache", ".venv", "htmlcov", ".coverage*", "*.db", "*.db-*"
)


# --- running the learner's tests ------------------------------------------------------------------


@dataclass
class Run:
    """One pytest run of the learner's tests: exit code, output, and each test's outcome."""

    returncode: int
    output: str
    outcomes: dict[str, str] = field(default_factory=dict)  # "tests.unit.test_models::test_x" -> outcome
    coverage: float | None = None

    def layer(self, name: str) -> dict[str, str]:
        return {test: outcome for test, outcome in self.outcomes.items() if f".{name}." in f".{test}"}

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def copy_service(services: Path, target: Path) -> Path:
    source = services / SERVICE
    assert source.is_dir(), f"{source} does not exist: run the notebooks' %%service cells first"
    shutil.copytree(source, target, ignore=IGNORED)
    return target


def run_pytest(folder: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    scratch = folder / ".checkpoint"
    scratch.mkdir(exist_ok=True)
    junit = scratch / f"junit-{len(list(scratch.iterdir()))}.xml"
    command = [
        sys.executable, "-m", "pytest", "-q", "--no-header", "-rfEs", "-p", "no:cacheprovider",
        f"--junitxml={junit}", f"--basetemp={scratch / 'tmp'}", *args,
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    environment.update(env or {})
    try:
        done = subprocess.run(
            command,
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        return Run(-1, f"{output}\nthe tests ran longer than {RUN_TIMEOUT_SECONDS} s")
    run = Run(done.returncode, done.stdout + done.stderr, read_junit(junit))
    report = scratch / "coverage.json"
    if report.exists():
        run.coverage = float(json.loads(report.read_text())["totals"]["percent_covered"])
    return run


def read_junit(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    outcomes: dict[str, str] = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        outcomes[f"{case.get('classname', '')}::{case.get('name', '')}"] = outcome
    return outcomes


def summary(outcomes: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "no tests"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- planting bugs ----------------------------------------------------------------------------------


class CannotPlant(Exception):
    """The learner's code is shaped differently from what a mutation looks for."""


@dataclass(frozen=True)
class Mutation:
    path: str
    bug: str
    plant: Callable[[str], str]


def route(tree: ast.Module, method: str, collection: bool | None = None) -> ast.FunctionDef:
    """The function decorated with `<router>.<method>(path, ...)`; `collection`: path without `{`."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == method
            ):
                continue
            path = decorator.args[0] if decorator.args else None
            text = path.value if isinstance(path, ast.Constant) and isinstance(path.value, str) else ""
            if collection is None or collection == ("{" not in text):
                return node  # type: ignore[return-value]
    kind = {True: " on the collection path", False: " on a /{id} path", None: ""}[collection]
    raise CannotPlant(f"a function decorated with @router.{method}(...){kind}")


def first_statement(function: ast.FunctionDef) -> ast.stmt:
    body = function.body
    docstring = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
    if docstring and len(body) > 1:
        return body[1]
    return body[0]


def insert_before(source: str, statement: ast.stmt, line: str) -> str:
    lines = source.splitlines(keepends=True)
    target = lines[statement.lineno - 1]
    indent = target[: len(target) - len(target.lstrip())]
    lines.insert(statement.lineno - 1, f"{indent}{line}\n")
    return "".join(lines)


def argument(function: ast.FunctionDef, wanted: Callable[[ast.arg, str], bool], what: str) -> str:
    arguments = function.args.args + function.args.kwonlyargs
    defaults = dict(zip([a.arg for a in function.args.args][-len(function.args.defaults) :],
                        function.args.defaults)) if function.args.defaults else {}  # fmt: skip
    for arg, default in zip(function.args.kwonlyargs, function.args.kw_defaults):
        if default is not None:
            defaults[arg.arg] = default
    for arg in arguments:
        described = ast.unparse(arg.annotation) if arg.annotation else ""
        if arg.arg in defaults:
            described += " = " + ast.unparse(defaults[arg.arg])
        if wanted(arg, described):
            return arg.arg
    raise CannotPlant(f"a parameter of {function.name}() that is {what}")


def delete_deletes_nothing(source: str) -> str:
    function = route(ast.parse(source), "delete")
    start, end = first_statement(function), function.body[-1]
    if start is function.body[0] and isinstance(start, ast.Expr):
        raise CannotPlant(f"a body in {function.name}()")
    lines = source.splitlines(keepends=True)
    first = lines[start.lineno - 1]
    indent = first[: len(first) - len(first.lstrip())]
    lines[start.lineno - 1 : end.end_lineno] = [f"{indent}return None  # planted: nothing is deleted\n"]
    return "".join(lines)


def status_filter_ignored(source: str) -> str:
    function = route(ast.parse(source), "get", collection=True)
    name = argument(
        function,
        lambda arg, described: arg.arg in ("status", "status_filter")
        or re.search(r"alias\s*=\s*['\"]status['\"]", described) is not None,
        'the status filter (named status, or with alias="status")',
    )
    return insert_before(source, first_statement(function), f"{name} = None  # planted")


def patch_changes_nothing(source: str) -> str:
    function = route(ast.parse(source), "patch")
    name = argument(
        function,
        lambda arg, described: "Update" in described.split("=")[0] or arg.arg == "payload",
        "the PATCH body (annotated with TaskUpdate, or named payload)",
    )
    return insert_before(source, first_statement(function), f"{name} = {name}.model_construct()  # planted")


def title_keyword(source: str, keyword: str, change: Callable[[str], str]) -> str:
    """Rewrite `keyword=<value>` wherever the title's type or field is declared."""
    tree = ast.parse(source)
    edits: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        if not any(name.lower() == "title" for name in names):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.keyword) and inner.arg == keyword:
                edits.append(inner.value)
    if not edits:
        raise CannotPlant(f"{keyword}=... where the title is declared (Title = Annotated[...] or title: ...)")
    lines = source.splitlines(keepends=True)
    for value in sorted(edits, key=lambda v: (v.lineno, v.col_offset), reverse=True):
        assert value.end_lineno == value.lineno and value.end_col_offset is not None
        line = lines[value.lineno - 1]
        old = line[value.col_offset : value.end_col_offset]
        lines[value.lineno - 1] = line[: value.col_offset] + change(old) + line[value.end_col_offset :]
    return "".join(lines)


MUTATIONS: dict[str, Mutation] = {
    "delete": Mutation("src/api/routes.py", "DELETE answers 204 but deletes nothing", delete_deletes_nothing),
    "status": Mutation(
        "src/api/routes.py", "GET /tasks?status=... ignores the status", status_filter_ignored
    ),
    "patch": Mutation("src/api/routes.py", "PATCH answers 200 but changes nothing", patch_changes_nothing),
    "empty-title": Mutation(
        "src/models/task.py",
        "an empty title is accepted",
        lambda source: title_keyword(source, "min_length", lambda old: "0"),
    ),
    "long-title": Mutation(
        "src/models/task.py",
        "a title one character too long is accepted",
        lambda source: title_keyword(source, "max_length", lambda old: f"({old}) + 1"),
    ),
}


def run_mutant(services: Path, scratch: Path, name: str) -> tuple[str, Run | None]:
    """Plant one bug in a fresh copy, run the fast layers (unit and e2e), stop at the first failure."""
    mutation = MUTATIONS[name]
    folder = copy_service(services, scratch / f"mutant-{name}")
    target = folder / mutation.path
    try:
        planted = mutation.plant(target.read_text(encoding="utf-8"))
        ast.parse(planted)
    except CannotPlant as looked_for:
        return f"could not plant the bug in {mutation.path}: looked for {looked_for}", None
    target.write_text(planted, encoding="utf-8")
    return "", run_pytest(folder, "-x", "-m", "not integration", "tests")


# --- the runs, shared by the checks ---------------------------------------------------------------


@dataclass
class Results:
    baseline: Run
    dead_database: Run
    mutants: dict[str, tuple[str, Run | None]]


@pytest.fixture(scope="session")
def results(services: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    scratch = tmp_path_factory.mktemp("task-tests")
    dead_url = f"postgresql+psycopg://workbook:workbook@127.0.0.1:{closed_port()}/workbook"
    baseline_folder = copy_service(services, scratch / "baseline")
    dead_folder = copy_service(services, scratch / "dead-database")
    report = f"--cov-report=json:{baseline_folder / '.checkpoint' / 'coverage.json'}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        baseline_future = pool.submit(
            run_pytest, baseline_folder, "-p", "pytest_cov.plugin", "--cov=src", report, "tests"
        )
        dead_future = pool.submit(
            run_pytest, dead_folder, "tests/integration", env={"TEST_DATABASE_URL": dead_url}
        )
        baseline, dead = baseline_future.result(), dead_future.result()
        mutants: dict[str, tuple[str, Run | None]] = {}
        if baseline.returncode == 0:
            futures = {name: pool.submit(run_mutant, services, scratch, name) for name in MUTATIONS}
            mutants = {name: future.result() for name, future in futures.items()}
    yield Results(baseline, dead, mutants)


def layer_passes(results: Results, layer: str) -> None:
    outcomes = results.baseline.layer(layer)
    assert outcomes, f"no {layer} test ran:\n{results.baseline.tail()}"
    bad = {test: outcome for test, outcome in outcomes.items() if outcome != "passed"}
    assert not bad, f"{layer} tests: {summary(outcomes)}: {sorted(bad)}\n{results.baseline.tail()}"


def caught(results: Results, name: str) -> None:
    mutation = MUTATIONS[name]
    assert results.baseline.returncode == 0, (
        "your test suite must pass on your own code before it can catch planted bugs:\n"
        + results.baseline.tail(15)
    )
    problem, run = results.mutants[name]
    assert run is not None, problem
    assert run.returncode != 0, f"planted bug: {mutation.bug} ({mutation.path}); every test still passed"
    assert run.returncode == 1, f"the tests did not run on the mutant:\n{run.tail()}"


# --- the checks ---------------------------------------------------------------------------------------


def test_every_layer_has_tests(services: Path, results: Results) -> None:
    """tests/ has conftest.py and test files in unit/, integration/ and e2e/"""
    missing = [path for path in REQUIRED_FILES if not (services / SERVICE / path).is_file()]
    assert not missing, f"missing: {missing}"
    for path in REQUIRED_FILES[1:]:
        module = path.removesuffix(".py").replace("/", ".")
        count = sum(1 for test in results.baseline.outcomes if test.split("::")[0] == module)
        assert count >= 3, f"{path}: {count} tests collected, expected at least 3"


def test_pytest_and_coverage_configured(services: Path, tmp_path: Path) -> None:
    """the markers unit, integration and e2e are declared; coverage enforces more than 85%"""
    folder = copy_service(services, tmp_path / "config")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    markers = subprocess.run(
        [sys.executable, "-m", "pytest", "--markers", "-p", "no:cacheprovider"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    undeclared = [layer for layer in LAYERS if f"@pytest.mark.{layer}:" not in markers.stdout]
    assert not undeclared, f"markers not declared in the pytest configuration: {undeclared}"
    probe = "import coverage; print(coverage.Coverage().get_option('report:fail_under'))"
    threshold = subprocess.run(
        [sys.executable, "-c", probe], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert threshold.returncode == 0, threshold.stderr[-1000:]
    assert (
        float(threshold.stdout.strip() or 0) > COVERAGE_TARGET - 0.01
    ), f"coverage's fail_under is {threshold.stdout.strip()}: set it to at least {COVERAGE_TARGET}"


def test_unit_tests_pass(results: Results) -> None:
    """the unit tests pass"""
    layer_passes(results, "unit")


def test_integration_tests_pass_on_postgresql(results: Results) -> None:
    """the integration tests run against PostgreSQL, none skipped, and pass"""
    layer_passes(results, "integration")


def test_integration_tests_need_postgresql(results: Results) -> None:
    """against a PostgreSQL that does not answer, the integration tests fail (not skip, not pass)"""
    outcomes = results.dead_database.layer("integration")
    assert outcomes, f"no integration test ran:\n{results.dead_database.tail()}"
    passed = sorted(test for test, outcome in outcomes.items() if outcome == "passed")
    assert not passed, f"these integration tests pass without a database: {passed}"
    assert (
        results.dead_database.returncode == 1
    ), f"expected failures, got {summary(outcomes)}:\n{results.dead_database.tail()}"


def test_e2e_tests_pass(results: Results) -> None:
    """the e2e tests pass"""
    layer_passes(results, "e2e")


def test_coverage_above_85_percent(results: Results) -> None:
    """pytest --cov=src tests/ passes with more than 85% coverage"""
    coverage = results.baseline.coverage
    assert coverage is not None, f"no coverage report:\n{results.baseline.tail()}"
    assert coverage > COVERAGE_TARGET, f"coverage is {coverage:.1f}%"
    assert results.baseline.returncode == 0, f"the suite fails:\n{results.baseline.tail()}"


def test_catches_delete_that_deletes_nothing(results: Results) -> None:
    """your tests catch a DELETE that deletes nothing"""
    caught(results, "delete")


def test_catches_status_filter_ignored(results: Results) -> None:
    """your tests catch a list that ignores ?status="""
    caught(results, "status")


def test_catches_patch_that_changes_nothing(results: Results) -> None:
    """your tests catch a PATCH that changes nothing"""
    caught(results, "patch")


def test_catches_empty_title_accepted(results: Results) -> None:
    """your tests catch a model that accepts an empty title"""
    caught(results, "empty-title")


def test_catches_title_one_too_long(results: Results) -> None:
    """your tests catch a model that accepts a 201-character title"""
    caught(results, "long-title")
