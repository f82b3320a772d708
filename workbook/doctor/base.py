"""What every doctor check shares: a Finding, the Context a check reads the outside world through, the
runner of checks and the renderer. This module imports no check; the checks import it."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Mapping, Sequence, TypeVar

from .. import process, text
from ..paths import repo_root
from ..services import Kind, Profile, profile_for

Status = Literal["ok", "warn", "fail", "skip"]
MARKS: dict[Status, str] = {"fail": "FAIL", "warn": "WARN", "ok": "ok", "skip": "skip"}
T = TypeVar("T")
TCP_SECONDS = 2.0
INSTALL_FIX = "run `make lab`, or `.venv/bin/python -m pip install -r requirements/workbook.txt`"


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    detail: str
    fix: str = ""


def default_which(name: str) -> str | None:
    """A tool on PATH, else one installed next to this interpreter (the venv's bin/, e.g. hadolint)."""
    sibling = Path(sys.executable).parent / name
    return shutil.which(name) or (str(sibling) if sibling.is_file() and os.access(sibling, os.X_OK) else None)


@dataclass(frozen=True)
class Context:
    """Everything a check touches outside this process: the services root, the environment, PATH
    lookups and subprocesses. Every probe has a timeout."""

    root: Path
    env: Mapping[str, str]
    which: Callable[[str], str | None] = default_which
    run: process.Runner = process.run
    python: str = sys.executable

    def command(
        self,
        args: Sequence[str],
        timeout: float,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> process.Completed:
        """Run a probe; one that outlives `timeout` answers 124 with "no answer within N s" on stderr."""
        done = self.run(args, cwd=cwd, env=self.env if env is None else env, timeout=timeout)
        if done.timed_out:
            return process.Completed(done.returncode, done.stdout, f"no answer within {timeout:g} s")
        return done

    def python_env(self, **changes: str) -> dict[str, str]:
        return {**self.env, "PYTHONDONTWRITEBYTECODE": "1", **changes}

    def services(self) -> list[Path]:
        """The service folders under the root (dot- and underscore-folders are not services)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


Job = tuple[str, Callable[[], list[Finding]]]
ServiceCheck = Callable[[Context, Path], Finding]


def first_line(value: object) -> str:
    return next((line.strip() for line in str(value).splitlines() if line.strip()), "")


def first_error_line(done: process.Completed) -> str:
    return first_line(done.stderr) or first_line(done.stdout) or f"exit {done.returncode}"


def shown(path: Path) -> str:
    """A path as the learner types it: relative to the current folder when under it, else to the
    repository (a notebook's kernel runs in notebooks/ or in a scratch folder)."""
    absolute = Path(os.path.abspath(path))  # symlinks kept: a venv's python stays in the venv
    for base in (Path.cwd(), repo_root()):
        if absolute.is_relative_to(base):
            return str(absolute.relative_to(base)) or "."
    return str(absolute)


def listed(items: Sequence[str], most: int = 3) -> str:
    return "; ".join(items[:most]) + (f"; +{len(items) - most} more" if len(items) > most else "")


def within(seconds: float, work: Callable[[], T]) -> T:
    """Run `work` in a daemon thread; TimeoutError when it has not finished in time (it is abandoned)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if failure:
        raise failure[0]
    return result[0]


def tcp_problem(host: str, port: int, timeout: float = TCP_SECONDS) -> str | None:
    """None when something accepts a TCP connection at host:port, else why not."""

    def attempt() -> None:
        socket.create_connection((host, port), timeout=timeout).close()

    try:
        within(timeout + 1, attempt)  # name resolution ignores the socket's timeout
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror:
        return f"host {host} does not resolve"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as error:
        return error.strerror or str(error)
    return None


def per_service(
    ctx: Context,
    name: str,
    wanted: Callable[[Path, Profile], bool],
    what: str,
    check: ServiceCheck,
    kinds: Sequence[Kind] = ("http", "lambda"),
) -> list[Job]:
    """One job per service of `kinds` for which `wanted` holds, or a single "skip" saying why there is
    none. A check for one kind only says nothing while no service of that kind exists."""
    of_kind = [(s, profile_for(s)) for s in ctx.services()]
    of_kind = [(s, p) for s, p in of_kind if p.kind in kinds]
    chosen = [s for s, p in of_kind if wanted(s, p)]
    if chosen:
        return [bind(f"{name}: {s.name}", check, ctx, s) for s in chosen]
    if len(kinds) == 1 and not of_kind:
        return []
    why = (
        f"no service {what} yet"
        if ctx.root.is_dir()
        else f"the services folder {ctx.root} does not exist yet"
    )
    return [(name, lambda: [Finding(name, "skip", why)])]


def holding(relative: str) -> Callable[[Path, Profile], bool]:
    """`wanted` for per_service: the service folder holds this path."""
    return lambda folder, _profile: (folder / relative).exists()


def bind(name: str, check: ServiceCheck, ctx: Context, service: Path) -> Job:
    return name, lambda: [check(ctx, service)]


def run_jobs(jobs: Sequence[Job]) -> list[Finding]:
    """Every job, concurrently (they mostly wait on subprocesses and sockets), in a stable order."""
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
    """A table of findings, each problem's fix under it, and a count by status."""
    rows: list[tuple[str, str, str]] = []
    for finding in findings:
        rows.append((f"{MARKS[finding.status]:4}", finding.name, finding.detail))  # "ok" as wide as "FAIL"
        if finding.status in ("fail", "warn"):
            rows += [
                ("", "", ("fix: " if n == 0 else "     ") + fix)
                for n, fix in enumerate(finding.fix.splitlines())
            ]
    counts = Counter(finding.status for finding in findings)
    summary = ", ".join(f"{counts[status]} {status}" for status in MARKS if counts[status])
    return "\n".join(
        [text.table(("", "check", "finding"), rows, right=[]), "", f"doctor: {summary or 'nothing checked'}"]
    )
