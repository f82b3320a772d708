"""PYTHONPATH, the checklist's other cause of import errors ("verify PYTHONPATH"). Every service has
a `src` package and imports it as `src.x` from its own folder, so an entry on PYTHONPATH can:
shadow it (a folder holding another `src`: `import src` finds that one first, for pytest and every
tool not run as `python -m`), break it (the `src` folder itself: modules import as `main`, not
`src.main`), or do nothing (a folder that does not exist, or holds no `src`)."""

from __future__ import annotations

import os
from pathlib import Path

from .base import Context, Finding, Job, Status, listed, shown

NAME = "PYTHONPATH"


def jobs(ctx: Context) -> list[Job]:
    return [(NAME, lambda: [check_pythonpath(ctx)])]


def _is_package(folder: Path) -> bool:
    return folder.is_dir() and (folder / "__init__.py").is_file()


def problems(entry: Path, root: Path) -> tuple[Status, str] | None:
    """(status, what is wrong) for one PYTHONPATH entry, None when it is harmless."""
    where = shown(entry)
    if not entry.is_dir():
        return "warn", f"{where} does not exist"
    if entry.name == "src" and (_is_package(entry) or any(entry.glob("*.py"))):
        return "fail", f"{where} is a src folder itself: its modules import as `main`, not `src.main`"
    if _is_package(entry / "src"):
        if entry.parent == root:
            return "warn", f"{where} puts {entry.name}'s src first for every service and tool"
        return "fail", f"{where}/src shadows the services' own src (`import src` finds it first)"
    if entry.resolve() == root.resolve():
        return "warn", f"{where} is the services folder: it holds no src, only the services"
    return None


def check_pythonpath(ctx: Context) -> Finding:
    raw = ctx.env.get(NAME, "")
    entries = [Path(entry) for entry in raw.split(os.pathsep) if entry.strip()]
    if not entries:
        return Finding(NAME, "ok", "not set: each service imports `src` from its own folder")
    found = [(entry, problem) for entry in entries if (problem := problems(entry, ctx.root)) is not None]
    if not found:
        return Finding(NAME, "ok", f"{listed([shown(e) for e in entries])}: no entry shadows a service's src")
    status: Status = "fail" if any(problem[0] == "fail" for _, problem in found) else "warn"
    fix = (
        "unset PYTHONPATH (`unset PYTHONPATH`): run each service from its own folder, as "
        "`python -m pytest`, and `python -m uvicorn src.main:app` (FastAPI) or `python -m src` (Flask,"
        " gunicorn): then `src` is that service's"
    )
    return Finding(NAME, status, listed([problem[1] for _, problem in found]), fix)
