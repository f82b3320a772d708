"""Where things live. Every location can be moved by an environment variable so CI can
replay into scratch folders without touching the learner's workspace."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    return REPO_ROOT


def services_root() -> Path:
    """The learner's workspace: `$WORKBOOK_SERVICES_DIR`, else the repository's `services/`."""
    override = os.environ.get("WORKBOOK_SERVICES_DIR")
    return Path(override).resolve() if override else REPO_ROOT / "services"


def state_dir() -> Path:
    """Learner-local state (progress, backups): `$WORKBOOK_STATE_DIR`, else `.workbook/`."""
    override = os.environ.get("WORKBOOK_STATE_DIR")
    return Path(override).resolve() if override else REPO_ROOT / ".workbook"


def progress_file() -> Path:
    return state_dir() / "progress.json"


def backups_dir() -> Path:
    return state_dir() / "backups"


def solutions_dir() -> Path:
    return REPO_ROOT / "solutions"


def notebooks_dir() -> Path:
    return REPO_ROOT / "notebooks"


def checkpoints_dir() -> Path:
    return REPO_ROOT / "checkpoints"


def checklist_file() -> Path:
    return REPO_ROOT / "docs" / "phase-2-session-checklist.md"
