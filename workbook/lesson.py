"""What the notebooks' demonstration cells share: plumbing that lives here, not pasted into cells.

A notebook shows a result; how to reach a database, run a command in a service folder or run its
tests is the same in every notebook, so it is written, tested and fixed once, here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Mapping

from .paths import services_root
from .process import Completed, run
from .suites import ANSI, RUN_TIMEOUT_SECONDS, SuiteRun, run_pytest

POSTGRES_VARIABLE = "TEST_DATABASE_URL"
# What a terminal in the service folder would not have: stale bytecode, colours in the output.
QUIET = {"PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}


def service_folder(service: str) -> Path:
    return services_root() / service


def reachable_postgres(variable: str = POSTGRES_VARIABLE, timeout: int = 3) -> str | None:
    """The URL in `$variable` when it is set and a PostgreSQL answers there, else None."""
    url = os.environ.get(variable)
    if not url:
        return None
    from sqlalchemy import create_engine, text  # only the notebooks that ask pay for the import

    engine = create_engine(url, connect_args={"connect_timeout": timeout})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return url
    except Exception:  # a refused, misnamed or unauthorised server is equally unreachable
        return None
    finally:
        engine.dispose()


def postgres_line(url: str | None, variable: str = POSTGRES_VARIABLE) -> str:
    """The sentence a notebook prints after probing, so its PostgreSQL cells can be read either way."""
    if url:
        return f"PostgreSQL reachable through {variable}"
    return (
        f"No PostgreSQL is reachable ({variable} is unset or refuses connections): "
        "the PostgreSQL cells below say so and skip their half."
    )


def run_in_service(
    service: str,
    *argv: str,
    extra_env: Mapping[str, str] | None = None,
    without: tuple[str, ...] = (),
    timeout: float = RUN_TIMEOUT_SECONDS,
) -> Completed:
    """Run `argv` in the service's folder, as in a terminal there: no bytecode, no colours.

    `without` drops every variable whose name starts with one of these prefixes first (a demonstration
    of settings read from the environment must not inherit the kernel's)."""
    env = (
        {key: value for key, value in os.environ.items() if not key.startswith(without)} if without else None
    )
    done = run(
        argv, cwd=service_folder(service), env=env, extra_env={**QUIET, **(extra_env or {})}, timeout=timeout
    )
    return Completed(done.returncode, ANSI.sub("", done.stdout), ANSI.sub("", done.stderr))


def python_in_service(service: str, *args: str, **options: Any) -> Completed:
    """`python ARGS` in the service's folder, with the kernel's own interpreter."""
    return run_in_service(service, sys.executable, *args, **options)


def pytest_in_service(
    service: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    coverage: str | None = None,
    timeout: float = RUN_TIMEOUT_SECONDS,
) -> SuiteRun:
    """The service's own pytest suite (or part of it), run the workbook's one way: `suites.run_pytest`."""
    return run_pytest(service_folder(service), *args, env=env, coverage=coverage, timeout=timeout)


def env_names(settings_class: Any) -> dict[str, str]:
    """The environment variable each field of a pydantic-settings class is read from.

    A field with an alias is read from the alias (the first of several choices), any other from the
    class's prefix plus its name; pydantic-settings matches either case, so both are shown upper-case."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        choices = [choice for choice in getattr(alias, "choices", []) if isinstance(choice, str)]
        if choices:
            names[name] = choices[0].upper()
        elif isinstance(alias, str):
            names[name] = alias.upper()
        else:
            names[name] = (prefix + name).upper()
    return names
