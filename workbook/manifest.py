"""The manifest of a backup: every file, folder and symlink of the services root, with sizes,
hashes and modes, and what was left out with its size; validated so that a tampered or truncated
manifest cannot write outside the root."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)


def _relative_path(value: str) -> str:
    """Manifest paths are POSIX, relative, normalised: a tampered manifest cannot write outside the root."""
    parts = value.split("/")
    if not value or "\0" in value or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{value!r} is not a plain relative path")
    return value


def _octal_mode(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o7777:
        return value  # made here, from os.stat
    if isinstance(value, str) and re.fullmatch(r"[0-7]{3,4}", value):
        return int(value, 8)  # read from a manifest
    raise ValueError("a mode is 3 or 4 octal digits, as in '0644'")


# Modes are written the way people read them ("0755"), not as the decimal 493.
Mode = Annotated[
    int, BeforeValidator(_octal_mode), PlainSerializer(lambda mode: f"{mode:04o}", return_type=str)
]


class FileEntry(BaseModel):
    path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    mode: Mode

    _check_path = field_validator("path")(_relative_path)


class DirEntry(BaseModel):
    path: str
    mode: Mode

    _check_path = field_validator("path")(_relative_path)


class LinkEntry(BaseModel):
    path: str
    target: str

    _check_path = field_validator("path")(_relative_path)

    @field_validator("target")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        # Checked here rather than with Field(min_length=...): constrained strings refuse the
        # surrogate escapes that stand for file names which are not UTF-8.
        if not value or "\0" in value:
            raise ValueError("a symlink needs a target")
        return value


class SkippedEntry(BaseModel):
    """A tool cache, coverage data or a virtual environment left out of the backup, and its size."""

    path: str
    size: int = Field(ge=0)

    _check_path = field_validator("path")(_relative_path)


class Manifest(BaseModel):
    format: Literal[1] = 1  # bump, and read both, if the layout ever changes
    id: str
    created_at: AwareDatetime
    reason: str
    root: str
    files: list[FileEntry]
    dirs: list[DirEntry] = []
    symlinks: list[LinkEntry] = []
    skipped: list[SkippedEntry] = []  # never restored; absent from backups made before it existed

    @model_validator(mode="after")
    def _consistent_tree(self) -> "Manifest":
        # Every entry's parent must be a listed folder: then no restored file can land inside a
        # restored symlink (and so outside the root), and no path is claimed twice.
        folders = {entry.path for entry in self.dirs}
        seen: set[str] = set()
        listed = [e.path for e in self.dirs] + [e.path for e in self.files] + [e.path for e in self.symlinks]
        for path in listed:
            parent = path.rpartition("/")[0]
            if path in seen or (parent and parent not in folders):
                raise ValueError(f"entry {path!r} is listed twice or lies outside a listed folder")
            seen.add(path)
        return self
