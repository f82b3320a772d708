"""Snapshots of a tree: walking it, hashing and copying what counts, and writing a copy back.

What counts is the learner's work. Tool caches and virtual environments are rebuilt by the tools
themselves, so they are left out and only measured: a `make check` leaves tens of MB of `.mypy_cache`
that every later backup would otherwise copy. Since a virtual environment is in no backup, clearing
the tree leaves each one in place (with the folders holding it): it costs minutes to rebuild, and
nothing is deleted without a backup. Caches are cleared. Symlinks are stored as symlinks, never
followed; sockets, pipes and devices cannot be copied and are left out."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Iterator

from .manifest import DirEntry, FileEntry, LinkEntry, Manifest, SkippedEntry

CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "htmlcov"})
ENVIRONMENT_DIRS = frozenset({".venv", "venv"})
SKIPPED_DIRS = CACHE_DIRS | ENVIRONMENT_DIRS
SKIPPED_FILES = (".pyc",)  # suffixes
COVERAGE_DATA = ".coverage"  # and coverage's parallel files, .coverage.<host>.<pid>.<random>
VENV_MARKER = "pyvenv.cfg"  # any folder holding one is a virtual environment, whatever its name
CHUNK = 1 << 20


@dataclass
class Tree:
    """What a copy of a tree holds, and what it left out (each skipped folder or file, with its size)."""

    files: list[FileEntry] = field(default_factory=list)
    dirs: list[DirEntry] = field(default_factory=list)
    links: list[LinkEntry] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)


def environment(entry: os.DirEntry[str]) -> bool:
    """A virtual environment: a folder named .venv or venv, or any folder holding a pyvenv.cfg."""
    if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
        return False
    return entry.name in ENVIRONMENT_DIRS or os.path.isfile(os.path.join(entry.path, VENV_MARKER))


def skipped(entry: os.DirEntry[str]) -> bool:
    """A tool cache, coverage data or a virtual environment: rebuilt by its tool, not the learner's work."""
    if entry.is_symlink():
        return False
    if entry.is_dir(follow_symlinks=False):
        return entry.name in CACHE_DIRS or environment(entry)
    name = entry.name
    return name.endswith(SKIPPED_FILES) or name == COVERAGE_DATA or name.startswith(COVERAGE_DATA + ".")


def walk(
    root: Path, left_out: list[SkippedEntry] | None = None, prefix: str = ""
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(relative POSIX path, entry) for everything kept under `root`, parents before children, sorted.
    What is skipped goes into `left_out`, once per skipped folder or file, with its size on disk."""
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return  # no root yet, or a folder removed while we walk (a running service's temp files)
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if skipped(entry):
            if left_out is not None:
                left_out.append(SkippedEntry(path=relative, size=_size(entry)))
        elif entry.is_symlink():
            yield relative, entry
        elif entry.is_dir(follow_symlinks=False):
            yield relative, entry
            yield from walk(Path(entry.path), left_out, relative + "/")
        elif entry.is_file(follow_symlinks=False):
            yield relative, entry


def _size(entry: os.DirEntry[str]) -> int:
    """Bytes of a file, or of every file under a folder; symlinks not followed, vanished files ignored."""
    try:
        if not entry.is_dir(follow_symlinks=False):
            return entry.stat(follow_symlinks=False).st_size
        total = 0
        for folder, _, names in os.walk(entry.path):
            for name in names:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue
        return total
    except FileNotFoundError:
        return 0


def local(base: Path, relative: str) -> Path:
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


def file_hash(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def copy_tree(root: Path, target: Path) -> Tree:
    """Copy what counts under `root` into the new folder `target`, describing every entry."""
    target.mkdir()
    tree = Tree()
    for relative, entry in walk(root, tree.skipped):
        copy = local(target, relative)
        try:
            mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
            if entry.is_symlink():
                link_target = os.readlink(entry.path)
                os.symlink(link_target, copy)
                tree.links.append(LinkEntry(path=relative, target=link_target))
            elif entry.is_dir(follow_symlinks=False):
                copy.mkdir()
                tree.dirs.append(DirEntry(path=relative, mode=mode))
            else:
                size, sha256 = _copy_hashing(Path(entry.path), copy)
                tree.files.append(FileEntry(path=relative, size=size, sha256=sha256, mode=mode))
        except FileNotFoundError:
            continue  # deleted since the walk saw it (e.g. a SQLite journal): it is not part of the state
    return tree


def differences(copy: Path, manifest: Manifest) -> list[str]:
    """Each entry of the manifest that the stored copy does not match, in a few words."""
    problems = [problem for entry in manifest.files if (problem := _difference(copy, entry))]
    for link in manifest.symlinks:
        path = local(copy, link.path)
        if not path.is_symlink() or os.readlink(path) != link.target:
            problems.append(f"{link.path}: symlink missing or changed")
    return problems


def _difference(copy: Path, entry: FileEntry) -> str | None:
    path = local(copy, entry.path)
    if path.is_symlink() or not path.is_file():
        return f"{entry.path}: missing"
    try:
        found = file_hash(path)
    except OSError as error:
        return f"{entry.path}: {error}"
    return None if found == (entry.size, entry.sha256) else f"{entry.path}: content differs from the manifest"


def materialise(copy: Path, manifest: Manifest, root: Path) -> None:
    """Write the stored copy back under `root`, byte for byte, with the manifest's modes."""
    for folder in manifest.dirs:
        local(root, folder.path).mkdir(parents=True, exist_ok=True)
    for entry in manifest.files:
        target = local(root, entry.path)
        shutil.copyfile(local(copy, entry.path), target, follow_symlinks=False)
        os.chmod(target, entry.mode)
    for link in manifest.symlinks:
        os.symlink(link.target, local(root, link.path))
    # Folder modes last and deepest first: a read-only folder must not stop its own contents.
    for folder in sorted(manifest.dirs, key=lambda entry: entry.path.count("/"), reverse=True):
        os.chmod(local(root, folder.path), folder.mode)


def environments(root: Path, prefix: str = "") -> list[str]:
    """The relative paths of the virtual environments under `root` (none inside another)."""
    found: list[str] = []
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        if environment(entry):
            found.append(prefix + entry.name)
        elif entry.is_dir(follow_symlinks=False) and not entry.is_symlink() and entry.name not in CACHE_DIRS:
            found += environments(Path(entry.path), f"{prefix}{entry.name}/")
    return found


def clear(root: Path, keep: Collection[str] = ()) -> list[str]:
    """Empty `root` except the top-level names in `keep` and the virtual environments, which stay in
    place with the folders holding them; returns the environments kept. Symlinks are removed, never
    followed."""
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        return []
    kept: list[str] = []
    with os.scandir(root) as scan:
        children = sorted(scan, key=lambda entry: entry.name)
    for child in children:
        if child.name not in keep:
            _clear(child, child.name, kept)
    return kept


def _clear(entry: os.DirEntry[str], relative: str, kept: list[str]) -> bool:
    """Remove `entry` unless it is or holds a virtual environment; True when it is gone."""
    if environment(entry):
        kept.append(relative)
        return False
    if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
        os.unlink(entry.path)
        return True
    mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
    if mode & stat.S_IRWXU != stat.S_IRWXU:  # a read-only folder keeps its entries otherwise
        os.chmod(entry.path, mode | stat.S_IRWXU)
    with os.scandir(entry.path) as scan:
        children = sorted(scan, key=lambda child: child.name)
    gone = [_clear(child, f"{relative}/{child.name}", kept) for child in children]
    if all(gone):
        os.rmdir(entry.path)
        return True
    os.chmod(entry.path, mode)  # it stays, holding an environment: as it was
    return False
