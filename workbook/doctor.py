"""`python -m workbook doctor`: the checklist's "Common Issues & Solutions", turned into checks.

Each check answers with Findings: what it found (one line) and what to do about it. Everything a check
touches outside this process (environment, PATH lookups, subprocesses) comes through a Context, so tests
can stand in for it, and every probe has a timeout. This module holds the harness and the Python side
(interpreter, packages, imports, tests); `doctor_infra` what runs beside Python (database, container
engine and Dockerfiles, the OpenTelemetry collector). A check with nothing to look at says "skip"."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Mapping, Sequence

from .paths import services_root

Status = Literal["ok", "warn", "fail", "skip"]
MARKS: dict[Status, str] = {"fail": "FAIL", "warn": "WARN", "ok": "ok", "skip": "skip"}
KEY_PACKAGES = (
    "fastapi", "sqlalchemy", "pydantic", "pydantic_settings", "flask",
    "jwt", "bcrypt", "opentelemetry.sdk", "pytest", "nbval",
)  # fmt: skip
INSTALL_FIX = "run `make lab`, or `.venv/bin/python -m pip install -r requirements/workbook.txt`"
PROBE_SECONDS = 60
PACKAGES_PROBE = """
import importlib, json, sys
errors = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as error:
        errors[name] = (type(error).__name__ + ": " + str(error)).splitlines()[0]
print(json.dumps(errors))
"""
MARK = "@@workbook-doctor@@"
IMPORT_PROBE = """
import importlib, json, os, sys, traceback
here = os.getcwd()
sys.path.insert(0, here)

def where(error):
    if isinstance(error, SyntaxError) and (error.filename or "").startswith(here + os.sep):
        return "%s:%s " % (os.path.relpath(error.filename), error.lineno)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(here + os.sep)]
    return "%s:%s " % (os.path.relpath(frames[-1].filename), frames[-1].lineno) if frames else ""

for name in sys.argv[1:]:
    print("\\nMARK " + json.dumps({"begin": name}), flush=True)
    try:
        importlib.import_module(name)
    except BaseException as error:
        text = error.msg if isinstance(error, SyntaxError) else str(error)
        lines = (type(error).__name__ + ": " + text).strip().splitlines()
        print("\\nMARK " + json.dumps({"module": name, "error": where(error) + lines[0]}), flush=True)
""".replace("MARK", MARK)  # fmt: skip
ERROR_HEADER = re.compile(
    r"^_+ ERROR (?:collecting|at setup of) (.+?) _+$|^ImportError while loading conftest '(.+)'"
)


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Outcome:
    """A subprocess's result; `returncode` None: it never finished (or never started), `problem` says why."""

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    problem: str = ""

    def first_error_line(self) -> str:
        return self.problem or first_line(self.stderr) or first_line(self.stdout) or f"exit {self.returncode}"


Runner = Callable[[Sequence[str], "Path | None", Mapping[str, str], float], Outcome]


def run_subprocess(args: Sequence[str], cwd: Path | None, env: Mapping[str, str], timeout: float) -> Outcome:
    try:
        done = subprocess.run(
            list(args), cwd=cwd, env=dict(env), capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired as expired:
        partial = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else ""
        return Outcome(None, partial, "", f"no answer within {timeout:g} s")
    except OSError as error:
        return Outcome(None, "", "", f"cannot run {Path(args[0]).name}: {error.strerror or error}")
    return Outcome(done.returncode, done.stdout, done.stderr)


def default_which(name: str) -> str | None:
    """A tool on PATH, else one installed next to this interpreter (the venv's bin/, e.g. hadolint)."""
    sibling = Path(sys.executable).parent / name
    return shutil.which(name) or (str(sibling) if sibling.is_file() and os.access(sibling, os.X_OK) else None)


@dataclass(frozen=True)
class Context:
    root: Path
    env: Mapping[str, str]
    which: Callable[[str], str | None]
    run: Runner
    python: str = sys.executable

    def command(
        self,
        args: Sequence[str],
        timeout: float,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Outcome:
        return self.run(args, cwd, self.env if env is None else env, timeout)

    def python_env(self, **changes: str) -> dict[str, str]:
        return {**self.env, "PYTHONDONTWRITEBYTECODE": "1", **changes}


Job = tuple[str, Callable[[], list[Finding]]]
ServiceCheck = Callable[[Context, Path], Finding]


def first_line(text: object) -> str:
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def shown(path: Path) -> str:
    """A path as the learner types it: relative to the current folder when under it."""
    absolute = Path(os.path.abspath(path))  # symlinks kept: a venv's python stays in the venv
    try:
        return str(absolute.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(absolute)


def listed(items: Sequence[str], most: int = 3) -> str:
    return "; ".join(items[:most]) + (f"; +{len(items) - most} more" if len(items) > most else "")


def service_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def per_service(
    ctx: Context, services: Sequence[Path], name: str, wanted: str, what: str, check: ServiceCheck
) -> list[Job]:
    """One job per service holding `wanted` (a path inside it), or a single "skip" saying why none is."""
    chosen = [s for s in services if (s / wanted).exists()]
    if chosen:
        return [bind(f"{name}: {s.name}", check, ctx, s) for s in chosen]
    why = (
        f"no service {what} yet"
        if ctx.root.is_dir()
        else f"the services folder {ctx.root} does not exist yet"
    )
    return [(name, lambda: [Finding(name, "skip", why)])]


def bind(name: str, check: ServiceCheck, ctx: Context, service: Path) -> Job:
    return name, lambda: [check(ctx, service)]


# --- the interpreter and its packages ---------------------------------------------------------


def check_python(ctx: Context) -> list[Finding]:
    where = f"Python {sys.version.split()[0]} ({shown(Path(sys.executable))})"
    if sys.version_info < (3, 11):
        return [Finding("python", "fail", f"{where}: the workbook needs 3.11 or newer", INSTALL_FIX)]
    return [Finding("python", "ok", where)]


def check_packages(ctx: Context) -> list[Finding]:
    outcome = ctx.command([ctx.python, "-c", PACKAGES_PROBE, *KEY_PACKAGES], PROBE_SECONDS)
    try:
        errors: dict[str, str] = json.loads(outcome.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return [Finding("packages", "fail", f"the probe failed: {outcome.first_error_line()}", INSTALL_FIX)]
    if errors:
        detail = f"{len(errors)} do not import: " + "; ".join(f"{n} ({e})" for n, e in errors.items())
        return [Finding("packages", "fail", detail, INSTALL_FIX)]
    return [Finding("packages", "ok", f"all {len(KEY_PACKAGES)} import: {', '.join(KEY_PACKAGES)}")]


# --- import errors ------------------------------------------------------------------------------


def package_folders(src: Path) -> list[Path]:
    """src/ and the folders under it holding .py files, directly or deeper: each should be a package."""
    holding: list[Path] = []
    for folder, _, files in os.walk(src, topdown=False):
        here = Path(folder)
        if any(part.startswith((".", "__")) for part in here.relative_to(src).parts):
            continue  # __pycache__, .ipynb_checkpoints
        if any(f.endswith(".py") for f in files) or any(h.parent == here for h in holding):
            holding.append(here)
    return sorted(holding)


def module_names(src: Path) -> list[str]:
    names = []
    for folder in package_folders(src):
        parts = folder.relative_to(src.parent).parts
        if all(part.isidentifier() for part in parts):
            stems = sorted(f.stem for f in folder.glob("*.py") if f.stem.isidentifier())
            names += [".".join(parts if stem == "__init__" else (*parts, stem)) for stem in stems]
    return names


def check_init_files(ctx: Context, service: Path) -> Finding:
    name = f"__init__.py: {service.name}"
    folders = package_folders(service / "src")
    missing = [
        str((f / "__init__.py").relative_to(service)) for f in folders if not (f / "__init__.py").exists()
    ]
    if not missing:
        return Finding(name, "ok", f"all {len(folders)} package folders under src/ have one")
    fix = (
        f"create them (empty is fine): `cd {service.name} && touch {' '.join(missing)}`\n"
        "without one a folder is a namespace package: it imports, but mypy and pytest expect regular ones"
    )
    return Finding(name, "fail", f"missing {', '.join(missing)}", fix)


def check_imports(ctx: Context, service: Path) -> Finding:
    """Import every module under src/ in one fresh interpreter started in the service folder."""
    name = f"imports: {service.name}"
    modules = module_names(service / "src")
    if not modules:
        return Finding(name, "skip", "no importable .py file under src/")
    outcome = ctx.command(
        [ctx.python, "-c", IMPORT_PROBE, *modules], PROBE_SECONDS, service, ctx.python_env()
    )
    events = [
        json.loads(line.split(MARK, 1)[1]) for line in outcome.stdout.splitlines() if f"{MARK} {{" in line
    ]
    started = [event["begin"] for event in events if "begin" in event]
    failures: dict[str, list[str]] = {}
    for event in events:
        if "error" in event:
            failures.setdefault(event["error"], []).append(event["module"])
    if outcome.returncode is None and started:
        fix = "does it start a server or wait for input at import time? guard that with `if __name__ == ...`"
        return Finding(name, "fail", f"importing {started[-1]}: {outcome.problem}", fix)
    if outcome.returncode != 0 or len(started) != len(modules):
        culprit = f"importing {started[-1]} ended Python" if started else "the import probe failed"
        fix = f"run it yourself: `cd {service.name} && python -c 'import {(started or modules)[-1]}'`"
        return Finding(name, "fail", f"{culprit}: {outcome.first_error_line()}", fix)
    if not failures:
        return Finding(name, "ok", f"all {len(modules)} modules under src/ import")
    count = sum(len(mods) for mods in failures.values())
    groups = [f"{error} (in {', '.join(mods)})" for error, mods in failures.items()]
    fix = (
        "check the __init__.py files and that imports start with `src.`; run from the service folder"
        f" (`cd {service.name}`) or put it on PYTHONPATH"
    )
    if any("ModuleNotFoundError" in error and "'src" not in error for error in failures):
        fix += "\na third-party package is missing: `pip install -r requirements.txt` (and list it there)"
    return Finding(name, "fail", f"{count} of {len(modules)} modules fail to import: {listed(groups)}", fix)


# --- test fixtures ------------------------------------------------------------------------------


def collection_errors(output: str, service: Path) -> list[str]:
    """`where: first E line` for each error section of pytest's report."""
    errors: list[str] = []
    where = ""
    for line in output.splitlines():
        header = ERROR_HEADER.match(line)
        if header:
            where = header.group(1) or os.path.relpath(header.group(2), service)
        elif where and "::" not in where and line.startswith("file ") and ", line " in line:
            where = f"{os.path.relpath(line[5:].rsplit(', line ', 1)[0], service)}::{where}"
        elif where and line.startswith("E "):
            errors.append(f"{where}: {line[1:].strip()}")
            where = ""
    return errors


def check_tests(ctx: Context, service: Path) -> Finding:
    """Collect the tests and plan their fixtures: `--setup-plan` runs nothing, like `--collect-only`, but
    also reports a fixture that does not exist, which collection alone misses."""
    from importlib.util import find_spec

    name = f"tests: {service.name}"
    env = {k: v for k, v in ctx.python_env().items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    command = [ctx.python, "-m", "pytest", "--setup-plan", "-q", "-p", "no:cacheprovider", "-p", "no:nbval"]
    command += ["--no-cov"] if find_spec("pytest_cov") else []  # a coverage threshold would fail a plan
    outcome = ctx.command(command, PROBE_SECONDS, service, env)
    fix = (
        "check the fixtures in tests/conftest.py (names, imports, scope), verify the test database;\n"
        f"all of it: `cd {service.name} && python -m pytest --setup-plan -q`"
    )
    if outcome.returncode is None:
        return Finding(name, "fail", f"pytest: {outcome.problem}", fix)
    if outcome.returncode == 0:
        steps = outcome.stdout.splitlines()
        count = sum(1 for s in steps if "::" in s and not s.strip().startswith(("SETUP", "TEARDOWN")))
        return Finding(name, "ok", f"{count} tests collected, every fixture they use exists")
    if outcome.returncode == 5:
        return Finding(
            name, "warn", "no tests collected", "add test_*.py files with test_* functions to tests/"
        )
    errors = collection_errors(outcome.stdout + "\n" + outcome.stderr, service)
    detail = listed(errors) if errors else f"pytest exit {outcome.returncode}: {outcome.first_error_line()}"
    return Finding(
        name, "fail", f"{len(errors) or 'an'} error{'s' if len(errors) > 1 else ''}: {detail}", fix
    )


# --- running and rendering ----------------------------------------------------------------------


def run_checks(
    root: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] | None = None,
    run: Runner | None = None,
) -> list[Finding]:
    """Every check, concurrently (they mostly wait on subprocesses and sockets), in a stable order."""
    from . import doctor_infra as infra

    ctx = Context((root or services_root()).resolve(), os.environ if env is None else env,
                  which or default_which, run or run_subprocess)  # fmt: skip
    services = service_dirs(ctx.root)
    jobs: list[Job] = [
        ("python", lambda: check_python(ctx)),
        ("packages", lambda: check_packages(ctx)),
        *per_service(ctx, services, "__init__.py", "src", "with a src/ folder", check_init_files),
        *per_service(ctx, services, "imports", "src", "with a src/ folder", check_imports),
        ("database", lambda: infra.check_database(ctx, services)),
        *per_service(ctx, services, "tests", "tests/conftest.py", "with tests/conftest.py", check_tests),
        ("container engine", lambda: infra.check_engine(ctx)),
        *per_service(ctx, services, "Dockerfile", "Dockerfile", "with a Dockerfile", infra.check_dockerfile),
        ("OpenTelemetry", lambda: infra.check_otel(ctx)),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(guarded, job) for job in jobs]
        return [finding for future in futures for finding in future.result()]


def guarded(job: Job) -> list[Finding]:
    name, check = job
    try:
        return check()
    except Exception as error:  # one broken check must not hide the others
        detail = f"the check itself crashed: {type(error).__name__}: {first_line(error)}"
        return [Finding(name, "warn", detail, "report this to the workbook's maintainers")]


def render(findings: Sequence[Finding]) -> str:
    width = max((len(finding.name) for finding in findings), default=0)
    lines = []
    for finding in findings:
        lines.append(f"{MARKS[finding.status]:4}  {finding.name:{width}}  {finding.detail}")
        if finding.status in ("fail", "warn"):
            fixes = finding.fix.splitlines()
            lines += [
                f"{'':4}  {'':{width}}  {'fix: ' if n == 0 else '     '}{fix}" for n, fix in enumerate(fixes)
            ]
    counts = Counter(finding.status for finding in findings)
    summary = ", ".join(f"{counts[status]} {status}" for status in MARKS if counts[status])
    return "\n".join([*lines, "", f"doctor: {summary or 'nothing checked'}"])
