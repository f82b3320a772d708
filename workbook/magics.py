"""The notebook side of the workbook: `%%service`, `%begin` and `%checkpoint`, and the kernel's set-up.

`%load_ext workbook` is every notebook's first line, so what every notebook would otherwise repeat in
its first cells happens here once: the same kernel state in every notebook, replayed or run by hand.

A `UserError` in any magic (a bad path, an unknown checkpoint, a broken registry, a corrupt progress
file) is shown as one line, as IPython shows a usage error; anything else is a bug and keeps its
traceback."""

from __future__ import annotations

import logging
import sys
import warnings

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from . import record, registry
from .cells import parse_service_args
from .errors import UserError
from .check import render, run_checkpoint
from .writer import describe, write_service_file


@magics_class
class WorkbookMagics(Magics):
    @cell_magic
    def service(self, line: str, cell: str) -> None:
        """%%service SERVICE PATH: write this cell to <services root>/SERVICE/PATH."""
        try:
            service, path = parse_service_args(line)
            write_service_file(service, path, cell)
        except UserError as error:
            raise UsageError(str(error)) from None
        print(describe(service, path, cell))

    @line_magic
    def begin(self, line: str) -> None:
        """%begin NOTEBOOK: start this notebook's clock (the first start counts)."""
        notebook = line.strip()
        if not notebook:
            raise UsageError("usage: %begin NOTEBOOK   (e.g. %begin 01-project-structure)")
        try:
            record.record_start(notebook)
            ends = [cp for cp in registry.load() if cp.notebook.removesuffix(".ipynb") == notebook]
        except UserError as error:
            raise UsageError(str(error)) from None
        minutes = sum(cp.target_minutes for cp in ends)
        steps = ", ".join(step for cp in ends for step in cp.steps)
        target = f"target {minutes:g} min" + (f", checklist steps {steps}" if steps else "")
        print(f"Started {notebook} ({target}).")

    @line_magic
    def checkpoint(self, line: str) -> None:
        """%checkpoint ID: run the checkpoint's checks against your services and record the result."""
        try:
            checkpoint = registry.get(line.strip())
            record.load()  # a corrupt progress file stops us before anything runs
            result = run_checkpoint(checkpoint)
            record.record_result(checkpoint.id, result.passed, result.outcomes())
        except UserError as error:
            raise UsageError(str(error)) from None
        print(render(result))


# Starlette's TestClient warns about its HTTP library with some versions and not others: a notice about a
# library, not about the learner's code, that would make stored outputs differ between environments.
TEST_CLIENT_NOTICE = "Using `httpx` with `starlette.testclient`"
# httpx logs every request at INFO; once a service configures its JSON logging at INFO, each TestClient
# call would add a line the cell never asked for.
QUIET_LOGGERS = ("httpx",)


def prepare_kernel() -> None:
    """The kernel state every notebook needs before its first demonstration."""
    sys.dont_write_bytecode = True  # rewritten files of the same size must never import stale
    warnings.filterwarnings("ignore", message=TEST_CLIENT_NOTICE)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def load(ipython: object) -> None:
    prepare_kernel()
    ipython.register_magics(WorkbookMagics)  # type: ignore[attr-defined]
