"""Writing one service file atomically under the services root."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterable

from .errors import UserError
from .paths import services_root
from .regions import drop_markers
from .text import plural

if TYPE_CHECKING:
    from .cells import Write

SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ServicePathError(UserError, ValueError):
    """A service name or file path that would escape the services root."""


def target_path(service: str, path: str, root: Path | None = None) -> Path:
    if not SERVICE_NAME.match(service):
        raise ServicePathError(f"service name {service!r} must be lower-case letters, digits and dashes")
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or ".." in relative.parts:
        raise ServicePathError(f"path {path!r} must be relative to the service, without '..'")
    return (root or services_root()) / service / Path(*relative.parts)


def file_text(cell_source: str) -> str:
    """What lands on disk for a `%%service` cell body: markers dropped, one final newline."""
    text = drop_markers(cell_source)
    return text.rstrip("\n") + "\n" if text.strip() else ""


def write_service_file(service: str, path: str, cell_source: str, root: Path | None = None) -> Path:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    target = target_path(service, path, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = file_text(cell_source)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def describe(service: str, path: str, cell_source: str) -> str:
    """The one stable line the magic prints."""
    lines = file_text(cell_source).count("\n")
    return f"wrote {service}/{PurePosixPath(path)} ({plural(lines, 'line')})"


def write_all(writes: Iterable["Write"], root: Path) -> list[Path]:
    """Replay `%%service` cells in order, as a kernel running them would, with no kernel."""
    return [write_service_file(w.service, w.path, w.body, root) for w in writes]
