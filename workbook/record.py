"""The learner's progress record (`.workbook/progress.json`): when each notebook was started, how each
checkpoint went. The magics and `make check` write it; `make progress` reports from it.

It is validated on every read; a corrupt file is reported, never overwritten."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from .errors import UserError
from .paths import progress_file


class ProgressError(UserError, ValueError):
    """The progress file is corrupt: reported, never overwritten."""


class NotebookProgress(BaseModel):
    started_at: datetime


class CheckpointProgress(BaseModel):
    passed: bool
    last_run_at: datetime
    passed_at: datetime | None = None
    attempts: int = Field(ge=1)
    checks: dict[str, str] = {}


class Progress(BaseModel):
    version: int = 1
    notebooks: dict[str, NotebookProgress] = {}
    checkpoints: dict[str, CheckpointProgress] = {}
    # The checkpoint `make reset` last rebuilt the workspace to: every one up to it counts as reached.
    reset_to: str | None = None


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def load(path: Path | None = None) -> Progress:
    path = path or progress_file()
    if not path.exists():
        return Progress()
    try:
        return Progress.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0]
        raise ProgressError(
            f"progress file {path} is corrupt ({first}); nothing was changed. "
            "Move it aside to start a fresh one."
        ) from error


def save(progress: Progress, path: Path | None = None) -> None:
    path = path or progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".progress.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(progress.model_dump(mode="json"), handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)


def record_start(notebook: str, path: Path | None = None) -> Progress:
    """The first start counts: re-running the first cell does not reset the clock."""
    progress = load(path)
    if notebook not in progress.notebooks:
        progress.notebooks[notebook] = NotebookProgress(started_at=now())
        save(progress, path)
    return progress


def record_result(
    checkpoint: str, passed: bool, checks: dict[str, str], path: Path | None = None
) -> Progress:
    progress = load(path)
    previous = progress.checkpoints.get(checkpoint)
    at = now()
    first_pass = previous.passed_at if previous and previous.passed_at else None
    progress.checkpoints[checkpoint] = CheckpointProgress(
        passed=passed,
        last_run_at=at,
        passed_at=first_pass or (at if passed else None),
        attempts=(previous.attempts + 1) if previous else 1,
        checks=checks,
    )
    save(progress, path)
    return progress


def record_reset(checkpoint: str | None, path: Path | None = None) -> Progress:
    """After `make reset CP=checkpoint` (None: to the start)."""
    progress = load(path)
    progress.reset_to = checkpoint
    save(progress, path)
    return progress
