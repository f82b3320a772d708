"""The notebook side of the workbook: `%%service`, `%service_copy`, `%begin` and `%checkpoint`, and the
kernel's set-up.

`%load_ext workbook` is every notebook's first line, so what every notebook would otherwise repeat in
its first cells happens here once: the same kernel state in every notebook, replayed or run by hand.

`%begin NOTEBOOK` tells the kernel which notebook it runs, so that each `%%service` cell knows its
place in the sequence: a cell of an earlier notebook, re-run after a later one rewrote its file,
keeps the later version and says so (`%%service --replace SERVICE PATH` writes it anyway).

A `UserError` in any magic (a bad path, an unknown checkpoint, a broken registry, a corrupt progress
file) is shown as one line, as IPython shows a usage error; anything else is a bug and keeps its
traceback."""

from __future__ import annotations

import difflib
import logging
import sys
import warnings
from functools import lru_cache

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from . import record, registry
from .cells import REPLACE, Write, all_events, parse_copy_line, parse_service_line, renamed
from .check import render, run_checkpoint
from .errors import UserError
from .estimate import estimate
from .paths import services_root, solutions_dir
from .services import known
from .text import plural
from .writer import describe, later_writer, notebook_name, target_path, write_service_file


@lru_cache(maxsize=1)
def known_services() -> tuple[str, ...]:
    """The services the workbook teaches, and every other folder its notebooks write (00's playground)."""
    written = [event.service for event in all_events(solutions_dir()) if isinstance(event, Write)]
    return tuple(dict.fromkeys([*known(), *written]))


def refuse_mistyped(service: str) -> None:
    """A name one slip away from a known service is a typo, which would silently start a second service;
    a name unlike all of them is the learner's own experiment, and welcome."""
    names = known_services()
    near = difflib.get_close_matches(service, names, n=1, cutoff=0.75)
    if service not in names and near and not (services_root() / service).is_dir():
        raise UserError(
            f"unknown service {service!r}: did you mean {near[0]!r}? Known: {', '.join(names)} "
            "(a service of your own needs a name unlike these)"
        )


def read_own(service: str, path: str) -> str:
    """The learner's own file, or which notebook writes it when it is missing."""
    try:
        return target_path(service, path).read_text(encoding="utf-8")
    except FileNotFoundError:
        writers = [
            e.notebook
            for e in all_events(solutions_dir())
            if isinstance(e, Write) and (e.service, e.path) == (service, path)
        ]
        where = f"notebook {notebook_name(writers[0])} writes it" if writers else "no notebook writes it"
        raise UserError(
            f"{service}/{path} is missing, so nothing was copied: {where} "
            "(run that notebook, or `make reset CP=...` to the checkpoint before this one)"
        ) from None


def known_notebooks() -> list[str]:
    return sorted({notebook_name(cp.notebook) for cp in registry.load()})


@magics_class
class WorkbookMagics(Magics):
    notebook: str | None = None  # set by %begin: which notebook this kernel runs

    @cell_magic
    def service(self, line: str, cell: str) -> None:
        """%%service [--replace] SERVICE PATH: write this cell to <services root>/SERVICE/PATH.

        A file that a later notebook's cell rewrote is kept, unless --replace asks for this version."""
        try:
            service, path, replace = parse_service_line(line)
            refuse_mistyped(service)
            later = None if replace or not self.notebook else later_writer(service, path, self.notebook)
            if later is None:
                write_service_file(service, path, cell, notebook=self.notebook)
        except UserError as error:
            raise UsageError(str(error)) from None
        if later is not None:  # a warning, not an error: "Run All" goes on to the next cell
            print(
                f"kept {service}/{path}: {later} wrote a later version, which this cell of {self.notebook} "
                f"would replace (to write this version anyway: %%service {REPLACE} {service} {path})"
            )
            return
        print(describe(service, path, cell))

    @line_magic
    def service_copy(self, line: str) -> None:
        """%service_copy FROM TO PATH...: start TO's files from your own FROM's, with TO's name."""
        try:
            source, service, paths = parse_copy_line(line)
            refuse_mistyped(source)
            refuse_mistyped(service)
            texts = {path: read_own(source, path) for path in paths}  # all or nothing
            for path, text in texts.items():
                later = None if not self.notebook else later_writer(service, path, self.notebook)
                if later is not None:
                    print(f"kept {service}/{path}: {later} wrote a later version")
                    continue
                copied = renamed(text, source, service)
                write_service_file(service, path, copied, notebook=self.notebook)
                changed = sum(a != b for a, b in zip(text.splitlines(), copied.splitlines()))
                print(
                    f"copied {source}/{path} to {service}/{path} "
                    f"({plural(copied.count(chr(10)), 'line')}, {changed} renamed)"
                )
        except UserError as error:
            raise UsageError(str(error)) from None

    @line_magic
    def begin(self, line: str) -> None:
        """%begin NOTEBOOK: start this notebook's clock (the first start counts)."""
        notebook = line.strip()
        if not notebook:
            raise UsageError("usage: %begin NOTEBOOK   (e.g. %begin 01-project-structure)")
        try:
            names = known_notebooks()
            if notebook not in names:
                raise UserError(f"unknown notebook {notebook!r}; known: {', '.join(names)}")
            self.notebook = notebook
            record.record_start(notebook)
            ends = [cp for cp in registry.load() if cp.notebook.removesuffix(".ipynb") == notebook]
            honest = estimate(solutions_dir() / f"{notebook}.ipynb").describe()
        except UserError as error:
            raise UsageError(str(error)) from None
        minutes = sum(cp.target_minutes for cp in ends)
        steps = ", ".join(step for cp in ends for step in cp.steps)
        target = f"the checklist's target for a guided session: {minutes:g} min" + (
            f" (steps {steps})" if steps else ""
        )
        print(f"Started {notebook}: {honest}; {target}.")

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
