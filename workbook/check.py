"""`make check` and `%checkpoint`: one checkpoint run against a services root, in a fresh interpreter.

The checks import the learner's code from outside the notebook's kernel, so a stale module
in the kernel can neither hide a bug nor invent one."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from . import formatting, process, result_cache
from .cells import Write, writes_until
from .paths import checkpoints_dir, services_root, solutions_dir
from .registry import Checkpoint
from .suites import ANSI
from .text import plural

TIMEOUT_SECONDS = 900
MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP", "not run": "----"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: str
    doc: str
    detail: str
    hint: str
    cause: str = ""  # the upstream failure behind this one (a service file that does not import)
    message: str = ""  # the first line of the failure

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint
    checks: tuple[CheckResult, ...]
    timed_out: bool = False  # the checks ran past their time and were stopped
    causes: tuple[str, ...] = ()  # what to fix first, one line each, before any check's hint
    seconds: float = 0.0  # how long the checks took to run

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def failed_names(self) -> set[str]:
        return {self.checkpoint.registered_name(check.name) for check in self.checks if not check.passed}

    def outcomes(self) -> dict[str, str]:
        return {check.name: check.outcome for check in self.checks}


def run_checkpoint(
    checkpoint: Checkpoint, root: Path | None = None, timeout: float = TIMEOUT_SECONDS, style: bool = True
) -> CheckpointResult:
    """The checkpoint's checks, and (with `style`) black and flake8 on its notebook's Python files."""
    root = (root or services_root()).resolve()
    cache_key = result_cache.key(checkpoint, root) if result_cache.folder() else ""
    cached = result_cache.load(cache_key) if cache_key else None
    if cached is not None:
        raw, seconds = cached
        timed_out = False
    else:
        started = time.monotonic()
        raw, timed_out = _run_checks(checkpoint, root, timeout)
        seconds = time.monotonic() - started
        if cache_key and not timed_out:
            result_cache.store(cache_key, raw, seconds)
    writes = _writes(checkpoint)
    checks = tuple(_result(checkpoint, name, entry, writes) for name, entry in raw.items())
    if style:
        checks += formatting_checks(checkpoint, writes, root)
    return CheckpointResult(checkpoint, checks, timed_out, upstream_causes(checkpoint, checks, root), seconds)


def _run_checks(checkpoint: Checkpoint, root: Path, timeout: float) -> tuple[dict[str, Any], bool]:
    """The checks' raw results, in a fresh interpreter, and whether they ran out of time."""
    with tempfile.TemporaryDirectory(prefix="workbook-check-") as scratch:
        results_file = Path(scratch) / "results.json"
        env = {
            "WORKBOOK_SERVICES_DIR": str(root),
            "WORKBOOK_RESULTS_FILE": str(results_file),
            "PYTHONDONTWRITEBYTECODE": "1",
            # Third-party plugins (nbval pulls in Jupyter) cost seconds; a checkpoint that needs
            # one names it in `pytest_plugins`.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        command = [
            sys.executable, "-m", "pytest", str(checkpoint.module_path),
            "-c", str(checkpoints_dir() / "pytest.ini"), "--rootdir", str(checkpoints_dir()),
            "-p", "workbook.checkpoint_plugin", "-p", "no:cacheprovider",
            "-q", "--tb=short", "--no-header",
        ]  # fmt: skip
        completed = process.run(command, extra_env=env, cwd=scratch, timeout=timeout)
        if not results_file.exists():  # pytest never got as far as its report: say why
            doc = f"the checks finish within {timeout:g} s" if completed.timed_out else "the checks could run"
            raw = {"collection": {"outcome": "error", "doc": doc,
                                  "detail": completed.stdout[-4000:] + completed.stderr[-4000:]}}  # fmt: skip
        else:
            raw = json.loads(results_file.read_text(encoding="utf-8"))
    return raw, completed.timed_out


def formatting_checks(checkpoint: Checkpoint, writes: list[Write], root: Path) -> tuple[CheckResult, ...]:
    """One check per service the checkpoint's own notebook writes Python files into: black and flake8."""
    own = [w for w in writes if w.notebook == checkpoint.notebook and w.path.endswith(".py")]
    own = [w for w in own if (root / w.service / w.path).is_file()]  # a missing one is a cause, named first
    checks = []
    for service in dict.fromkeys(w.service for w in own):
        outcome = formatting.check_service(root, service, [w.path for w in own if w.service == service])
        doc = f"the Python files {checkpoint.notebook} writes into {service} pass black and flake8"
        name = f"{formatting.NAME}[{service}]"
        if outcome.missing_tool:
            detail = f"{outcome.missing_tool} is not installed here: pip install black flake8"
            checks.append(CheckResult(name, "skipped", doc, detail, ""))
        else:
            detail = "\n".join(str(finding) for finding in outcome.findings)
            result = "failed" if outcome.findings else "passed"
            checks.append(CheckResult(name, result, doc, detail, outcome.hint(service)))
    return tuple(checks)


def _result(checkpoint: Checkpoint, name: str, entry: dict[str, str], writes: list[Write]) -> CheckResult:
    detail = ANSI.sub("", entry.get("detail", ""))
    return CheckResult(
        name, entry["outcome"], entry.get("doc", ""), detail, checkpoint.hint(name), _cause(entry, writes),
        entry.get("message", ""),
    )  # fmt: skip


def _writes(checkpoint: Checkpoint) -> list[Write]:
    """The %%service cells of the solutions up to this checkpoint: what the learner's notebooks have run."""
    try:
        return writes_until(solutions_dir(), checkpoint.id)
    except KeyError:  # a checkpoint no solution notebook reaches (the tooling's own tests)
        return []


def _cell(write: Write) -> str:
    return f"the cell `%%service {write.service} {write.path}` in {write.notebook}"


def _writer(writes: list[Write], service_file: str) -> Write | None:
    """The last cell up to here that writes `service_file` (task-service/src/main.py)."""
    service, _, path = service_file.partition("/")
    found = [w for w in writes if w.service == service and PurePosixPath(w.path) == PurePosixPath(path)]
    return found[-1] if found else None


def _cause(entry: dict[str, str], writes: list[Write]) -> str:
    cause = entry.get("cause", "")
    writer = _writer(writes, entry.get("cause_file", "")) if cause else None
    return f"{cause}: {_cell(writer)} writes it" if writer else cause


def missing_files(writes: list[Write], root: Path) -> list[str]:
    """One line per service whose files, written by the cells up to here, are not on disk."""
    lines = []
    for service in dict.fromkeys(w.service for w in writes):
        own = [w for w in writes if w.service == service]
        if not (root / service).is_dir():
            first = own[0].notebook
            lines.append(
                f"{service} does not exist: run the %%service cells of {first} and the notebooks after it"
            )
            continue
        missing = list(dict.fromkeys(w.path for w in own if not (root / service / w.path).exists()))
        if len(missing) == 1:
            writer = _writer(own, f"{service}/{missing[0]}")
            lines.append(f"{service}/{missing[0]} does not exist: run {_cell(writer)}" if writer else "")
        elif missing:
            notebooks = ", ".join(dict.fromkeys(w.notebook for w in own if w.path in missing))
            names = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
            lines.append(
                f"{plural(len(missing), 'file')} of {service} do not exist ({names}): "
                f"run the %%service cells of {notebooks}"
            )
    return [line for line in lines if line]


def upstream_causes(checkpoint: Checkpoint, checks: tuple[CheckResult, ...], root: Path) -> tuple[str, ...]:
    """What to fix before reading any hint: files the notebooks write that are missing, service files
    that do not import, and checks the registry marks as the others' precondition (a suite that fails
    on the learner's own code)."""
    writes = _writes(checkpoint)
    # The services this notebook works on: a folder of an earlier one (00's playground) is not its business.
    own = {w.service for w in writes if w.notebook == checkpoint.notebook}
    causes = missing_files([w for w in writes if not own or w.service in own], root)
    causes += [check.cause for check in checks if check.failed and check.cause]
    for check in checks:
        entry = checkpoint.check(check.name)
        if check.failed and entry is not None and entry.cause:
            causes.append(f"{entry.cause} ({check.message})" if check.message else entry.cause)
    return tuple(dict.fromkeys(causes))


def counts(result: CheckpointResult) -> str:
    """'5 of 7 checks passed, 1 failed, 1 skipped': a skip is not a failure, and is counted apart."""
    tally = Counter(check.outcome for check in result.checks)
    failed = tally["failed"] + tally["error"]
    text = f"{tally['passed']} of {plural(len(result.checks), 'check')} passed"
    if failed:
        text += f", {failed} failed"
    if tally["skipped"]:
        text += f", {tally['skipped']} skipped"
    if tally["not run"]:
        text += f", {tally['not run']} not run"
    return text


def render(result: CheckpointResult, details: bool = True) -> str:
    """What a learner reads: what to fix first, each check and its hint when it failed, tracebacks last."""
    checkpoint = result.checkpoint
    lines = [f"Checkpoint {checkpoint.id}: {checkpoint.title}", ""]
    if result.causes:
        lines += [f"Fix this first: {cause}" for cause in result.causes]
        lines += ["(Until that is fixed, the failures below may all be this one.)", ""]
    for check in result.checks:
        label = check.doc or check.name
        lines.append(f"  {MARKS.get(check.outcome, check.outcome):5} {label}")
        if check.outcome == "skipped":
            lines.append(f"        skipped: {check.detail or 'the check could not run here'}")
        elif not check.passed and check.hint:
            lines.append(f"        hint: {check.hint}")
    lines.append("")
    module = checkpoint.module
    if result.passed:
        lines.append(f"All {plural(len(result.checks), 'check')} of checkpoints/{module} passed.")
        return "\n".join(lines)
    lines.append(f"{counts(result)}. Read the hints above first.")
    if any(check.outcome == "skipped" for check in result.checks):
        lines.append(
            "A skipped check is not a failed one: it could not run here (the reason above says what to "
            "install or start), and the checkpoint passes once it runs and passes."
        )
    if details:
        shown: dict[str, str] = {}  # cause -> the check whose details show it
        for check in result.checks:
            if not (check.failed and check.detail):
                continue
            if check.cause and check.cause in shown:
                continue
            same = [c.name for c in result.checks if c.cause and c.cause == check.cause and c is not check]
            also = f" (the same cause fails {', '.join(same)})" if same else ""
            shown[check.cause] = check.name
            lines += ["", f"--- details: {check.name}{also} ---", check.detail.rstrip()]
    return "\n".join(lines)


def summary(results: list[CheckpointResult]) -> str:
    """The one closing line of `make check`: a checkpoint with skipped checks and no failed one is
    incomplete (something to install or start), not failed."""
    failed = [r.checkpoint.id for r in results if any(c.failed or c.outcome == "not run" for c in r.checks)]
    failed += [r.checkpoint.id for r in results if not r.checks]
    incomplete = [r.checkpoint.id for r in results if not r.passed and r.checkpoint.id not in failed]
    line = f"{plural(len(results), 'checkpoint')}: {len(results) - len(failed) - len(incomplete)} passed"
    if failed:
        line += f", {len(failed)} failed ({', '.join(failed)})"
    if incomplete:
        line += f", {len(incomplete)} incomplete, with skipped checks ({', '.join(incomplete)})"
    return line + "."
