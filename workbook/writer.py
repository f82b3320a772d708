"""Writing one service file atomically under the services root, and remembering which notebook wrote it.

Later notebooks rewrite files earlier ones wrote (02's first `main.py` becomes 05's). Re-running an
earlier notebook must not silently put the older version back, so every write is recorded, per file,
in a ledger at the services root; a `%%service` cell of an earlier notebook asks `later_writer`
first. The ledger lives beside the files it describes, so a backup and its restore, or a reset that
clears the root and writes it anew, keep the two consistent."""

from __future__ import annotations

import json
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
LEDGER = ".written-by.json"  # {"task-service/src/main.py": "05-routes", ...}


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


def notebook_name(notebook: str) -> str:
    """'05-routes' for '05-routes.ipynb' or '05-routes': how %begin and the ledger name a notebook."""
    return notebook.removesuffix(".ipynb")


def _key(service: str, path: str) -> str:
    return f"{service}/{PurePosixPath(path)}"


def read_ledger(root: Path | None = None) -> dict[str, str]:
    """Which notebook last wrote each file; {} when none is recorded or the ledger is unreadable
    (then nothing is refused: the ledger protects the learner's files, it never blocks a write)."""
    try:
        data = json.loads(((root or services_root()) / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _record(written: dict[str, str], root: Path | None) -> None:
    root = root or services_root()
    ledger = read_ledger(root) | written
    _atomic_write(root / LEDGER, json.dumps(ledger, indent=1, sort_keys=True) + "\n")


def later_writer(service: str, path: str, notebook: str, root: Path | None = None) -> str | None:
    """The later notebook whose cell last wrote this file, if one did (its version would be lost)."""
    recorded = read_ledger(root).get(_key(service, path))
    if recorded and notebook_name(recorded) > notebook_name(notebook):
        return recorded
    return None


def write_service_file(
    service: str, path: str, cell_source: str, root: Path | None = None, notebook: str | None = None
) -> Path:
    """Write atomically: a reader sees the old file or the new one, never half of one. With
    `notebook`, the ledger records that this notebook's cell wrote the file."""
    target = target_path(service, path, root)
    _atomic_write(target, file_text(cell_source))
    if notebook:
        _record({_key(service, path): notebook_name(notebook)}, root)
    return target


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def describe(service: str, path: str, cell_source: str) -> str:
    """The one stable line the magic prints."""
    lines = file_text(cell_source).count("\n")
    return f"wrote {service}/{PurePosixPath(path)} ({plural(lines, 'line')})"


def write_all(writes: Iterable["Write"], root: Path) -> list[Path]:
    """Replay `%%service` cells in order, as a kernel running them would, with no kernel; the
    ledger records each file's last writer, as the cells would have."""
    writes = list(writes)
    written = [write_service_file(w.service, w.path, w.body, root) for w in writes]
    if writes:
        _record({_key(w.service, w.path): notebook_name(w.notebook) for w in writes}, root)
    return written
