"""A checkpoint's results on the same inputs, computed once per `make test`.

`make prove` runs every checkpoint on the solutions' code, and `make wrong-answers` runs it there
again first, as the baseline its variants are judged against. With `WORKBOOK_RESULT_CACHE` naming a
folder (make test gives it a scratch one), the second run reads the first one's results. The key
is every byte the run reads that can differ between the two: the services tree, the checkpoint's
module and the shared fixtures. A timed-out run is never kept: the next one tries again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .registry import Checkpoint

ENV = "WORKBOOK_RESULT_CACHE"


def folder() -> Path | None:
    value = os.environ.get(ENV, "")
    return Path(value) if value else None


def key(checkpoint: Checkpoint, root: Path) -> str:
    """Taken before the run: the checks may leave files (a database, a coverage file) behind."""
    digest = hashlib.sha256(checkpoint.id.encode())
    folder_ = checkpoint.module_path.parent  # the checkpoints' folder: its shared fixtures too
    for path in [checkpoint.module_path, folder_ / "conftest.py", folder_ / "pytest.ini"]:
        digest.update(b"\0" + path.read_bytes())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load(name: str) -> tuple[dict[str, Any], float] | None:
    """(the raw results, the seconds the run took) of an earlier run under key `name`, or None."""
    where = folder()
    if where is None:
        return None
    try:
        stored = json.loads((where / f"{name}.json").read_text(encoding="utf-8"))
        return dict(stored["raw"]), float(stored["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or unreadable: run the checks


def store(name: str, raw: dict[str, Any], seconds: float) -> None:
    where = folder()
    if where is None:
        return
    where.mkdir(parents=True, exist_ok=True)
    target = where / f"{name}.json"
    partial = target.with_suffix(".partial")  # a reader never sees half a file
    partial.write_text(json.dumps({"raw": raw, "seconds": seconds}), encoding="utf-8")
    partial.replace(target)
