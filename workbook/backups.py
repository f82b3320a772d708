"""The backup store: `make backups` lists it, `make restore` restores from it, and every reset and
restore adds to it first.

A backup is a folder `<backups dir>/<id>/` with `files/` (a snapshot of the services root) and
`manifest.json`, which records every file's size, sha256 and mode, and what was left out. The manifest
is written last, so a backup cut short shows up as damaged instead of passing for a good one. Restore
checks every file against the manifest before touching anything, then backs up the current state:
nothing is lost."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from . import paths, snapshot
from .errors import UserError
from .manifest import Manifest
from .text import plural, size

MANIFEST = "manifest.json"
FILES = "files"
# `20261126-051502-00`: the stamp orders backups across seconds, the counter within one second.
BACKUP_ID = re.compile(r"^(?P<stamp>\d{8}-\d{6})-(?P<counter>\d+)$")


class BackupError(UserError, ValueError):
    """A backup that cannot be made or used. Nothing was changed."""


class BackupDamaged(BackupError):
    """A backup whose manifest is missing or corrupt, or whose files do not match it."""


class UnknownBackup(UserError, LookupError):
    def __init__(self, wanted: str, known: list[str]):
        super().__init__(f"unknown backup {wanted!r}; known: {', '.join(known) or 'none'}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Backup:
    id: str
    folder: Path
    created_at: datetime | None = None
    reason: str = ""
    root: str = ""
    file_count: int = 0
    total_size: int = 0
    skipped: tuple[str, ...] = ()  # tool caches and virtual environments left out
    skipped_size: int = 0
    problem: str | None = None  # why the backup is damaged; None for a good one

    @property
    def damaged(self) -> bool:
        return self.problem is not None

    @classmethod
    def from_manifest(cls, folder: Path, manifest: Manifest) -> "Backup":
        return cls(
            id=folder.name,
            folder=folder,
            created_at=manifest.created_at,
            reason=manifest.reason,
            root=manifest.root,
            file_count=len(manifest.files),
            total_size=sum(entry.size for entry in manifest.files),
            skipped=tuple(entry.path for entry in manifest.skipped),
            skipped_size=sum(entry.size for entry in manifest.skipped),
        )

    @property
    def when(self) -> str:
        return self.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") if self.created_at else "unknown time"

    @property
    def contents(self) -> str:
        """'12 files, 40.1 KB' and what was left out: '; left out 30.2 MB of tool caches (a/.mypy_cache)'."""
        kept = f"{plural(self.file_count, 'file')}, {size(self.total_size)}"
        return kept + (f"; {self.left_out}" if self.skipped else "")

    @property
    def left_out(self) -> str:
        if not self.skipped:
            return ""
        names = ", ".join(self.skipped[:2]) + (
            f", +{len(self.skipped) - 2} more" if len(self.skipped) > 2 else ""
        )
        return f"left out {size(self.skipped_size)} of tool caches and virtual environments ({names})"

    def summary(self) -> str:
        if self.problem is not None:
            return f"{self.id}  damaged: {_one_line(self.problem)}"
        return f"{self.id}  {self.when}  {self.contents}  {_one_line(self.reason) or '(no reason given)'}"


def kept_in_place(environments: tuple[str, ...]) -> str:
    """'; virtual environments kept in place: a/.venv' (they are in no backup), or nothing."""
    return f"; virtual environments kept in place: {', '.join(environments)}" if environments else ""


@dataclass(frozen=True)
class RestoreOutcome:
    backup: Backup
    safety: Backup  # the state just before the restore
    environments: tuple[str, ...] = ()  # virtual environments left in place

    def summary(self) -> str:
        b = self.backup
        return (
            f"restored backup {b.id} ({b.when}, {_one_line(b.reason) or 'no reason given'}, "
            f"{plural(b.file_count, 'file')}, {size(b.total_size)}); "
            f"the state before was saved as backup {self.safety.id}{kept_in_place(self.environments)}"
        )


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _order_key(backup_id: str) -> tuple[str, int, str]:
    # Counters are compared as numbers so that `-100` still sorts after `-99`.
    match = BACKUP_ID.match(backup_id)
    return (match["stamp"], int(match["counter"]), "") if match else ("", 0, backup_id)


def _backup_folders() -> list[Path]:
    folder = paths.backups_dir()
    if not folder.is_dir():
        return []
    # Dot-folders are not backups (editors, file managers and partial copies leave them).
    found = [child for child in folder.iterdir() if child.is_dir() and not child.name.startswith(".")]
    return sorted(found, key=lambda child: _order_key(child.name))


def _reserve_folder(created: datetime) -> Path:
    """A new, unique backup folder whose id sorts after every existing one, even if the clock
    went backwards or several backups are made within one second (mkdir is the atomic lock)."""
    folder = paths.backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp, counter = created.strftime("%Y%m%d-%H%M%S"), 0
    latest = [_order_key(child.name) for child in _backup_folders() if BACKUP_ID.match(child.name)]
    if latest and max(latest)[0] >= stamp:
        stamp, counter = max(latest)[0], max(latest)[1] + 1
    while True:
        candidate = folder / f"{stamp}-{counter:02d}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            counter += 1


def _check_state_outside(root: Path) -> None:
    # Backups kept inside the root would be copied into every later backup and wiped by restore.
    backups = paths.backups_dir().resolve()
    if backups.is_relative_to(root.resolve()):
        raise BackupError(
            f"the backups folder {backups} lies inside {root}; point WORKBOOK_STATE_DIR elsewhere"
        )


def create_backup(root: Path | None = None, reason: str = "") -> Backup:
    """Snapshot the services root into a new backup. A missing or empty root gives an empty backup."""
    root = root or paths.services_root()
    _check_state_outside(root)
    created = _now()
    folder = _reserve_folder(created)
    try:
        tree = snapshot.copy_tree(root, folder / FILES)
        manifest = Manifest(
            id=folder.name,
            created_at=created,
            reason=reason,
            root=str(root),
            files=tree.files,
            dirs=tree.dirs,
            symlinks=tree.links,
            skipped=tree.skipped,
        )
        partial = folder / f".{MANIFEST}.tmp"
        partial.write_text(json.dumps(manifest.model_dump(mode="json"), indent=1) + "\n", encoding="ascii")
        os.replace(partial, folder / MANIFEST)
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)  # a half-made backup is worth nothing
        if isinstance(error, OSError):
            raise BackupError(f"could not back up {root}: {error}; nothing was changed") from error
        raise
    return Backup.from_manifest(folder, manifest)


def _load_manifest(folder: Path) -> Manifest:
    """The backup's manifest, validated. BackupDamaged says what is wrong, in a few words."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupDamaged(f"{MANIFEST} is missing") from None
    except (OSError, ValueError) as error:
        raise BackupDamaged(f"{MANIFEST} is not readable JSON ({error})") from error
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise BackupDamaged(f"{MANIFEST} is invalid at {where}: {first['msg']}") from None
    if manifest.id != folder.name:
        raise BackupDamaged(f"{MANIFEST} describes backup {manifest.id}")
    return manifest


def list_backups() -> list[Backup]:
    """Every backup, oldest first. A damaged one is listed with its problem, so it can be looked at."""
    backups = []
    for folder in _backup_folders():
        try:
            backups.append(Backup.from_manifest(folder, _load_manifest(folder)))
        except BackupDamaged as damage:
            backups.append(Backup(id=folder.name, folder=folder, problem=str(damage)))
    return backups


def restore(backup_id: str, root: Path | None = None) -> RestoreOutcome:
    """Replace the root's content with a backup's, byte for byte, after backing up the current state."""
    root = root or paths.services_root()
    folders = {folder.name: folder for folder in _backup_folders()}
    if backup_id not in folders:
        raise UnknownBackup(backup_id, list(folders))
    folder = folders[backup_id]
    try:
        manifest = _load_manifest(folder)
    except BackupDamaged as damage:
        raise BackupDamaged(f"backup {backup_id} is damaged: {damage}; nothing was changed") from None
    problems = snapshot.differences(folder / FILES, manifest)
    if problems:
        raise BackupDamaged(
            f"backup {backup_id} is damaged: {len(problems)} of its entries do not match its manifest "
            f"(first: {problems[0]}); nothing was changed"
        )
    _check_environments_free(backup_id, manifest, root)
    safety = create_backup(root, reason=f"before restore of {backup_id}")
    try:
        environments = snapshot.clear(root)
        snapshot.materialise(folder / FILES, manifest, root)
    except OSError as error:
        raise BackupError(
            f"restore of {backup_id} stopped midway ({error}); the state before is backup {safety.id}"
        ) from error
    return RestoreOutcome(Backup.from_manifest(folder, manifest), safety, tuple(environments))


def _check_environments_free(backup_id: str, manifest: Manifest, root: Path) -> None:
    """Virtual environments stay in place through a restore: refuse one whose backup puts a file or
    symlink where an environment, or a folder holding one, is."""
    entries = [entry.path for entry in manifest.files] + [link.path for link in manifest.symlinks]
    for environment in snapshot.environments(root):
        for path in entries:
            if environment == path or environment.startswith(path + "/"):
                raise BackupError(
                    f"backup {backup_id} has a file at {path}, where the virtual environment {environment} "
                    "is (it is in no backup): move it aside, then restore again; nothing was changed"
                )
