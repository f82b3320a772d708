"""Backups of the learner's workspace (the services root), listing them, and restoring one.

A backup is a folder `<backups dir>/<id>/` with `files/` (a copy of the services root) and
`manifest.json`, which records every file's size, sha256 and mode. The manifest is written last, so a
backup cut short shows up as damaged instead of passing for a good one. Restore checks every file
against the manifest before touching anything, then backs up the current state: nothing is lost."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Collection, Iterator

from pydantic import ValidationError

from . import paths
from .manifest import DirEntry, FileEntry, LinkEntry, Manifest

MANIFEST = "manifest.json"
FILES = "files"
# Caches that Python rebuilds by itself: copying them would only make backups slower and bigger.
SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache"})
SKIPPED_SUFFIX = ".pyc"
# `20261126-051502-00`: the stamp orders backups across seconds, the counter within one second.
BACKUP_ID = re.compile(r"^(?P<stamp>\d{8}-\d{6})-(?P<counter>\d+)$")
CHUNK = 1 << 20


class BackupError(ValueError):
    """A backup that cannot be made or used. Nothing was changed."""


class BackupDamaged(BackupError):
    """A backup whose manifest is missing or corrupt, or whose files do not match it."""


class UnknownBackup(LookupError):
    def __init__(self, wanted: str, known: list[str]):
        super().__init__(f"unknown backup {wanted!r}; known: {', '.join(known) or 'none'}")


def _human_size(size: int) -> str:
    value, units = float(size), ["B", "KB", "MB", "GB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{size} B" if units[0] == "B" else f"{value:.1f} {units[0]}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
        )

    @property
    def when(self) -> str:
        return self.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") if self.created_at else "unknown time"

    def summary(self) -> str:
        if self.problem is not None:
            return f"{self.id}  damaged: {_one_line(self.problem)}"
        contents = f"{_plural(self.file_count, 'file')}, {_human_size(self.total_size)}"
        return f"{self.id}  {self.when}  {contents}  {_one_line(self.reason) or '(no reason given)'}"


@dataclass(frozen=True)
class RestoreOutcome:
    backup: Backup
    safety: Backup  # the state just before the restore

    def summary(self) -> str:
        b = self.backup
        return (
            f"restored backup {b.id} ({b.when}, {_one_line(b.reason) or 'no reason given'}, "
            f"{_plural(b.file_count, 'file')}, {_human_size(b.total_size)}); "
            f"the state before was saved as backup {self.safety.id}"
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


def _walk(root: Path, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(relative POSIX path, entry) for everything under `root`, parents before children, sorted.
    Symlinks are yielded, never followed; sockets, pipes and devices cannot be copied and are left out."""
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return  # no root yet, or a folder removed while we walk (a running service's temp files)
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.is_symlink():
            yield relative, entry
        elif entry.is_dir(follow_symlinks=False):
            if entry.name not in SKIPPED_DIRS:
                yield relative, entry
                yield from _walk(Path(entry.path), relative + "/")
        elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(SKIPPED_SUFFIX):
            yield relative, entry


def _local(base: Path, relative: str) -> Path:
    return base.joinpath(*relative.split("/"))


def _copy_hashing(source: Path, target: Path) -> tuple[int, str]:
    """Copy and hash in one read, so the hash describes exactly the bytes that were stored."""
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _hash(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _copy_tree(root: Path, target: Path) -> tuple[list[FileEntry], list[DirEntry], list[LinkEntry]]:
    target.mkdir()
    files: list[FileEntry] = []
    dirs: list[DirEntry] = []
    links: list[LinkEntry] = []
    for relative, entry in _walk(root):
        copy = _local(target, relative)
        try:
            mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
            if entry.is_symlink():
                link_target = os.readlink(entry.path)
                os.symlink(link_target, copy)
                links.append(LinkEntry(path=relative, target=link_target))
            elif entry.is_dir(follow_symlinks=False):
                copy.mkdir()
                dirs.append(DirEntry(path=relative, mode=mode))
            else:
                size, sha256 = _copy_hashing(Path(entry.path), copy)
                files.append(FileEntry(path=relative, size=size, sha256=sha256, mode=mode))
        except FileNotFoundError:
            continue  # deleted since the walk saw it (e.g. a SQLite journal): it is not part of the state
    return files, dirs, links


def _check_state_outside(root: Path) -> None:
    # Backups kept inside the root would be copied into every later backup and wiped by restore.
    backups = paths.backups_dir().resolve()
    if backups.is_relative_to(root.resolve()):
        raise BackupError(
            f"the backups folder {backups} lies inside {root}; point WORKBOOK_STATE_DIR elsewhere"
        )


def create_backup(root: Path | None = None, reason: str = "") -> Backup:
    """Copy the whole services root into a new backup. A missing or empty root gives an empty backup."""
    root = root or paths.services_root()
    _check_state_outside(root)
    created = _now()
    folder = _reserve_folder(created)
    try:
        files, dirs, links = _copy_tree(root, folder / FILES)
        manifest = Manifest(
            id=folder.name,
            created_at=created,
            reason=reason,
            root=str(root),
            files=files,
            dirs=dirs,
            symlinks=links,
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


def _mismatch(files: Path, entry: FileEntry) -> str | None:
    path = _local(files, entry.path)
    if path.is_symlink() or not path.is_file():
        return f"{entry.path}: missing"
    try:
        found = _hash(path)
    except OSError as error:
        return f"{entry.path}: {error}"
    return None if found == (entry.size, entry.sha256) else f"{entry.path}: content differs from the manifest"


def _mismatches(files: Path, manifest: Manifest) -> list[str]:
    problems = [problem for entry in manifest.files if (problem := _mismatch(files, entry))]
    for link in manifest.symlinks:
        path = _local(files, link.path)
        if not path.is_symlink() or os.readlink(path) != link.target:
            problems.append(f"{link.path}: symlink missing or changed")
    return problems


def clear_workspace(root: Path, keep: Collection[str] = ()) -> None:
    """Empty `root` except the top-level names in `keep`. Symlinks are removed, never followed."""
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        return
    for child in list(root.iterdir()):
        if child.name not in keep:
            _remove(child)


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode & stat.S_IRWXU != stat.S_IRWXU:  # a read-only folder keeps its entries otherwise
        os.chmod(path, mode | stat.S_IRWXU)
    for child in list(path.iterdir()):
        _remove(child)
    path.rmdir()


def _materialise(files: Path, manifest: Manifest, root: Path) -> None:
    for folder in manifest.dirs:
        _local(root, folder.path).mkdir(parents=True, exist_ok=True)
    for entry in manifest.files:
        target = _local(root, entry.path)
        shutil.copyfile(_local(files, entry.path), target, follow_symlinks=False)
        os.chmod(target, entry.mode)
    for link in manifest.symlinks:
        os.symlink(link.target, _local(root, link.path))
    # Folder modes last and deepest first: a read-only folder must not stop its own contents.
    for folder in sorted(manifest.dirs, key=lambda entry: entry.path.count("/"), reverse=True):
        os.chmod(_local(root, folder.path), folder.mode)


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
    problems = _mismatches(folder / FILES, manifest)
    if problems:
        raise BackupDamaged(
            f"backup {backup_id} is damaged: {len(problems)} of its entries do not match its manifest "
            f"(first: {problems[0]}); nothing was changed"
        )
    safety = create_backup(root, reason=f"before restore of {backup_id}")
    try:
        clear_workspace(root)
        _materialise(folder / FILES, manifest, root)
    except OSError as error:
        raise BackupError(
            f"restore of {backup_id} stopped midway ({error}); the state before is backup {safety.id}"
        ) from error
    return RestoreOutcome(Backup.from_manifest(folder, manifest), safety)
