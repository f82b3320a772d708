"""Planting known bugs into a copy of a service, and asking whether its own tests notice.

Coverage says which lines ran, not whether a test would notice them being wrong. A mutation is
data: the file it edits, the bug in one line of English, and a pure function from the file's source
to the source with the bug planted (raising CannotPlant when the code is shaped differently from
what it looks for). Running a mutant is separate: copy the service, plant one mutation, run the
service's own suite with `workbook.suites.run_pytest`. Each service's bugs live in their own module
(`planting_task`, `planting_user`); the planted-bugs checkpoints share `plant_all` and the two
problems they report: a suite that fails on the learner's own code, and a bug no test caught."""

from __future__ import annotations

import ast
import difflib
import shutil
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .suites import SuiteRun, run_pytest

# What a copy of a service leaves out: caches, virtual environments, databases, reports.
IGNORED = shutil.ignore_patterns(
    "__pycache__", ".pytest_cache", ".mypy_cache", ".venv", "htmlcov", ".coverage*", "*.db", "*.db-*"
)
# A mutant is judged by the fast layers: the integration layer needs PostgreSQL and adds nothing
# that the unit and e2e layers would not show about these bugs.
FAST_LAYERS = ("-m", "not integration", "tests")


class CannotPlant(UserError):
    """The service's code is shaped differently from what a mutation looks for."""


@dataclass(frozen=True)
class Mutation:
    path: str  # the file it edits, relative to the service folder
    bug: str  # what is wrong with the mutant, as a learner would describe it
    plant: Callable[[str], str]  # the file's source -> the source with the bug


# --- finding the code to change ------------------------------------------------------------------


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
    """The first statement of the body after the docstring (the docstring when it is all there is)."""
    body = function.body
    docstring = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
    if docstring and len(body) > 1:
        return body[1]
    return body[0]


def insert_before(source: str, statement: ast.stmt, line: str) -> str:
    """`line` inserted above `statement`, at its indentation."""
    lines = source.splitlines(keepends=True)
    target = lines[statement.lineno - 1]
    indent = target[: len(target) - len(target.lstrip())]
    lines.insert(statement.lineno - 1, f"{indent}{line}\n")
    return "".join(lines)


def argument(function: ast.FunctionDef, wanted: Callable[[ast.arg, str], bool], what: str) -> str:
    """The name of the first parameter for which `wanted(arg, "annotation = default")` holds."""
    positional = function.args.args
    defaults: dict[str, ast.expr] = {}
    if function.args.defaults:
        defaults.update(
            zip([a.arg for a in positional][-len(function.args.defaults) :], function.args.defaults)
        )
    for arg, default in zip(function.args.kwonlyargs, function.args.kw_defaults):
        if default is not None:
            defaults[arg.arg] = default
    for arg in positional + function.args.kwonlyargs:
        described = ast.unparse(arg.annotation) if arg.annotation else ""
        if arg.arg in defaults:
            described += " = " + ast.unparse(defaults[arg.arg])
        if wanted(arg, described):
            return arg.arg
    raise CannotPlant(f"a parameter of {function.name}() that is {what}")


# --- running mutants ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One mutation planted into one copy of a service, and what its suite said."""

    name: str
    mutation: Mutation
    diff: str = ""  # the planted change, as a unified diff
    problem: str = ""  # why the mutation could not be planted ("" when it was)
    run: SuiteRun | None = None

    @property
    def planted(self) -> bool:
        return self.run is not None

    @property
    def caught(self) -> bool:
        """Some test failed on the mutant (a run that could not even start catches nothing)."""
        return self.run is not None and self.run.returncode == 1 and bool(self.caught_by)

    @property
    def caught_by(self) -> list[str]:
        if self.run is None:
            return []
        return sorted(test for test, outcome in self.run.outcomes.items() if outcome in ("failed", "error"))


def copy_service(source: Path, target: Path) -> Path:
    """A copy of the service folder without its caches, databases and reports."""
    if not source.is_dir():
        raise FileNotFoundError(f"{source} does not exist: run the notebooks' %%service cells first")
    shutil.copytree(source, target, ignore=IGNORED)
    return target


def plant(mutation: Mutation, folder: Path) -> str:
    """Write the mutant of `mutation.path` in `folder`; returns the diff. Raises CannotPlant."""
    target = folder / mutation.path
    if not target.is_file():
        raise CannotPlant(f"{mutation.path} (there is no such file)")
    original = target.read_text(encoding="utf-8")
    planted = mutation.plant(original)
    try:
        ast.parse(planted)
    except SyntaxError as error:
        raise CannotPlant(f"code the mutation can rewrite and still parse ({error.msg})") from error
    if planted == original:
        raise CannotPlant("something to change: the mutation left the file as it was")
    target.write_text(planted, encoding="utf-8")
    lines = difflib.unified_diff(
        original.splitlines(), planted.splitlines(), mutation.path, mutation.path, n=0, lineterm=""
    )
    return "\n".join(lines)


def run_mutant(
    service: Path,
    scratch: Path,
    name: str,
    mutation: Mutation,
    args: Iterable[str] = FAST_LAYERS,
    deselect: Iterable[str] = (),
) -> Mutant:
    """Plant `mutation` in a fresh copy of `service` under `scratch` and run the suite on it, stopping
    at the first failure. `deselect`: tests that fail without a bug, which cannot catch one."""
    folder = copy_service(service, scratch / f"mutant-{name}")
    try:
        diff = plant(mutation, folder)
    except CannotPlant as looked_for:
        return Mutant(
            name, mutation, problem=f"could not plant the bug in {mutation.path}: looked for {looked_for}"
        )
    deselected = [f"--deselect={test}" for test in deselect]
    return Mutant(name, mutation, diff, run=run_pytest(folder, "-x", *deselected, *args))


def run_mutants(
    service: Path,
    scratch: Path,
    mutations: Mapping[str, Mutation],
    args: Iterable[str] = FAST_LAYERS,
    deselect: Iterable[str] = (),
    workers: int = 2,
) -> dict[str, Mutant]:
    """Every mutant of `mutations`, each in its own copy, `workers` at a time."""
    arguments, skipped = tuple(args), tuple(deselect)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(run_mutant, service, scratch, name, mutation, arguments, skipped)
            for name, mutation in mutations.items()
        }
        return {name: future.result() for name, future in futures.items()}


def failing_tests(run: SuiteRun) -> list[str]:
    return sorted(test for test, outcome in run.outcomes.items() if outcome in ("failed", "error"))


@dataclass(frozen=True)
class Planted:
    """A service's fast layers on an untouched copy, and on one copy per planted bug."""

    baseline: SuiteRun
    mutants: dict[str, Mutant]

    def of(self, mutation: Mutation) -> Mutant:
        return next(mutant for mutant in self.mutants.values() if mutant.mutation is mutation)


def plant_all(service: Path, scratch: Path, mutations: Mapping[str, Mutation]) -> Planted:
    """The baseline run, then every mutant with the tests that already fail left out: a test that
    fails on correct code cannot catch a bug, and would make every mutant look caught."""
    baseline = run_pytest(copy_service(service, scratch / "baseline"), "-q", *FAST_LAYERS)
    return Planted(baseline, run_mutants(service, scratch, mutations, deselect=failing_tests(baseline)))


def suite_problem(baseline: SuiteRun) -> str:
    """Why the learner's own suite cannot catch anything yet ("" when it passes)."""
    if not baseline.outcomes:
        return f"no test ran:\n{baseline.tail()}"
    failing = failing_tests(baseline)
    if failing:
        return f"{baseline.summary()}: a failing test catches no bug: {failing}\n{baseline.tail(30)}"
    return ""


def catch_problem(mutant: Mutant) -> str:
    """Why a planted bug went unnoticed ("" when some test caught it)."""
    bug = mutant.mutation
    if mutant.run is None:
        return mutant.problem
    if mutant.run.returncode not in (0, 1):
        return f"the tests did not run on the mutant ({mutant.run.summary()}):\n{mutant.run.tail()}"
    if not mutant.caught:
        return f"planted bug: {bug.bug} ({bug.path}); every test still passed:\n{mutant.diff}"
    return ""
