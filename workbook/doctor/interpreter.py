"""The interpreter and the packages every notebook needs: the first thing a broken install shows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .base import INSTALL_FIX, Context, Finding, Job, first_error_line, shown

KEY_PACKAGES = (
    "fastapi", "sqlalchemy", "pydantic", "pydantic_settings", "flask",
    "jwt", "bcrypt", "opentelemetry.sdk", "pytest", "nbval",
)  # fmt: skip
PROBE_SECONDS = 60
# Imported in a fresh interpreter: a package this process already imported would hide a broken one.
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


def jobs(ctx: Context) -> list[Job]:
    return [("python", lambda: check_python(ctx)), ("packages", lambda: check_packages(ctx))]


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
        return [Finding("packages", "fail", f"the probe failed: {first_error_line(outcome)}", INSTALL_FIX)]
    if errors:
        detail = f"{len(errors)} do not import: " + "; ".join(f"{n} ({e})" for n, e in errors.items())
        return [Finding("packages", "fail", detail, INSTALL_FIX)]
    return [Finding("packages", "ok", f"all {len(KEY_PACKAGES)} import: {', '.join(KEY_PACKAGES)}")]
