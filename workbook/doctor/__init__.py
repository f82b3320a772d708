"""`python -m workbook doctor`: the checklist's "Common Issues & Solutions", turned into checks.

One module per check, listed here in the order the doctor reports them; each has `jobs(ctx)`, which
returns its checks (one per service where it looks at services). Every check answers with Findings:
what it found, in one line, and what to do about it. Everything a check touches outside this process
comes through a `Context` (base), so tests can stand in for it. A check with nothing to look at says
"skip". A new service kind's check is a new module here, not lines in another check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping

from .. import process
from ..paths import services_root
from . import (
    database,
    dockerfiles,
    engine,
    fixtures,
    handler,
    imports,
    init_files,
    interpreter,
    pythonpath,
    telemetry,
)
from ..process import Runner
from .base import Context, Finding, Status, default_which, render, run_jobs

CHECKS = (
    interpreter, init_files, pythonpath, imports, handler, database, fixtures, engine, dockerfiles, telemetry
)  # fmt: skip

__all__ = ["CHECKS", "Context", "Finding", "Runner", "Status", "render", "run_checks"]


def run_checks(
    root: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] | None = None,
    run: Runner | None = None,
) -> list[Finding]:
    """Every check, concurrently, reported in the order of CHECKS."""
    ctx = Context((root or services_root()).resolve(), os.environ if env is None else env,
                  which or default_which, run or process.run)  # fmt: skip
    return run_jobs([job for check in CHECKS for job in check.jobs(ctx)])
