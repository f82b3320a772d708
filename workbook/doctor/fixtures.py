"""Each service's tests collected and their fixtures planned, nothing run: a fixture that does not
exist or a conftest.py that does not import (the checklist's "test fixtures not working" issue)."""

from __future__ import annotations

import os
import re
from importlib.util import find_spec
from pathlib import Path

from .base import Context, Finding, Job, first_error_line, holding, listed, per_service

PROBE_SECONDS = 60
ERROR_HEADER = re.compile(
    r"^_+ ERROR (?:collecting|at setup of) (.+?) _+$|^ImportError while loading conftest '(.+)'"
)


def jobs(ctx: Context) -> list[Job]:
    return per_service(ctx, "tests", holding("tests/conftest.py"), "with tests/conftest.py", check_tests)


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
    """`--setup-plan` runs nothing, like `--collect-only`, but also reports a fixture that does not
    exist, which collection alone misses."""
    name = f"tests: {service.name}"
    env = {k: v for k, v in ctx.python_env().items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    command = [ctx.python, "-m", "pytest", "--setup-plan", "-q", "-p", "no:cacheprovider", "-p", "no:nbval"]
    command += ["--no-cov"] if find_spec("pytest_cov") else []  # a coverage threshold would fail a plan
    outcome = ctx.command(command, PROBE_SECONDS, service, env)
    fix = (
        "check the fixtures in tests/conftest.py (names, imports, scope), verify the test database;\n"
        f"all of it: `cd {service.name} && python -m pytest --setup-plan -q`"
    )
    if outcome.timed_out or outcome.missing:
        return Finding(name, "fail", f"pytest: {first_error_line(outcome)}", fix)
    if outcome.ok:
        steps = outcome.stdout.splitlines()
        count = sum(1 for s in steps if "::" in s and not s.strip().startswith(("SETUP", "TEARDOWN")))
        return Finding(name, "ok", f"{count} tests collected, every fixture they use exists")
    if outcome.returncode == 5:
        return Finding(
            name, "warn", "no tests collected", "add test_*.py files with test_* functions to tests/"
        )
    errors = collection_errors(outcome.stdout + "\n" + outcome.stderr, service)
    detail = listed(errors) if errors else f"pytest exit {outcome.returncode}: {first_error_line(outcome)}"
    return Finding(
        name, "fail", f"{len(errors) or 'an'} error{'s' if len(errors) > 1 else ''}: {detail}", fix
    )
