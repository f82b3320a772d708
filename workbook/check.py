"""`make check` and `%checkpoint`: one checkpoint run against a services root, in a fresh interpreter.

The checks import the learner's code from outside the notebook's kernel, so a stale module
in the kernel can neither hide a bug nor invent one."""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import process
from .paths import checkpoints_dir, services_root
from .registry import Checkpoint

TIMEOUT_SECONDS = 900
MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP", "not run": "----"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: str
    doc: str
    detail: str
    hint: str

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint
    checks: tuple[CheckResult, ...]
    timed_out: bool = False  # the checks ran past their time and were stopped

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def failed_names(self) -> set[str]:
        return {self.checkpoint.registered_name(check.name) for check in self.checks if not check.passed}

    def outcomes(self) -> dict[str, str]:
        return {check.name: check.outcome for check in self.checks}


def run_checkpoint(
    checkpoint: Checkpoint, root: Path | None = None, timeout: float = TIMEOUT_SECONDS
) -> CheckpointResult:
    root = (root or services_root()).resolve()
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
    checks = tuple(
        CheckResult(name, entry["outcome"], entry.get("doc", ""), entry.get("detail", ""),
                    checkpoint.hint(name))  # fmt: skip
        for name, entry in raw.items()
    )
    return CheckpointResult(checkpoint, checks, completed.timed_out)


def render(result: CheckpointResult, details: bool = True) -> str:
    """The table a learner reads: each check, its hint when it failed, tracebacks last."""
    checkpoint = result.checkpoint
    lines = [f"Checkpoint {checkpoint.id}: {checkpoint.title}", ""]
    for check in result.checks:
        label = check.doc or check.name
        lines.append(f"  {MARKS.get(check.outcome, check.outcome):5} {label}")
        if not check.passed:
            if check.hint:
                lines.append(f"        hint: {check.hint}")
            elif check.outcome == "skipped" and check.detail:
                lines.append(f"        skipped: {check.detail}")
    passed = sum(check.passed for check in result.checks)
    lines.append("")
    if result.passed:
        lines.append(f"All {passed} public checks passed.")
    else:
        lines.append(f"{passed} of {len(result.checks)} public checks passed. Read the hints above first.")
        if details:
            for check in result.checks:
                if check.outcome in ("failed", "error") and check.detail:
                    lines += ["", f"--- details: {check.name} ---", check.detail.rstrip()]
    return "\n".join(lines)
