"""`make replay`: every solution notebook (or the named ones) run strictly under nbval, each into
its own scratch services root, as CI runs them."""

from __future__ import annotations

import sys
import tempfile

from . import process
from .cells import ordered_notebooks
from .paths import repo_root, solutions_dir

SANITIZE_FILE = "nbval.sanitize"


def replay(names: list[str], workers: int = 1) -> int:
    notebooks = [
        p for p in ordered_notebooks(solutions_dir()) if not names or p.name in names or p.stem in names
    ]
    if not notebooks:
        print(f"no solution notebook matches {' '.join(names)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="workbook-replay-") as scratch:
        # Unbuffered: pytest's lines reach the terminal as each cell passes, not in blocks.
        env = {"WORKBOOK_REPLAY_DIR": scratch, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(repo_root() / SANITIZE_FILE),
            "-p", "workbook.replay_plugin", "-p", "no:cacheprovider", "-o", "addopts=",
            "--nbval-cell-timeout", "600", "-v",
            *[str(p) for p in notebooks],
        ]  # fmt: skip
        if workers > 1:
            command += ["-n", str(workers), "--dist", "loadfile"]
        return process.run(command, extra_env=env, cwd=repo_root(), on_line=_show).returncode


def _show(line: str) -> None:
    print(line, flush=True)  # nbval's progress as it comes: a replay takes minutes
