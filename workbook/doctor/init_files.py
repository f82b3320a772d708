"""Folders under src/ that hold Python but no `__init__.py`: they import as namespace packages, which
mypy and pytest do not expect (the checklist's "ModuleNotFoundError" issue, first cause). An empty
folder counts too: it has no module yet, and the first one written into it would import oddly."""

from __future__ import annotations

import os
from pathlib import Path

from .base import Context, Finding, Job, holding, per_service


def jobs(ctx: Context) -> list[Job]:
    return per_service(ctx, "__init__.py", holding("src"), "with a src/ folder", check_init_files)


def package_folders(src: Path) -> list[Path]:
    """src/ and the folders under it holding .py files, directly or deeper, or nothing yet: each should
    be a package. A folder of other files only (templates, assets) is data, not a package."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(src, topdown=False):
        here = Path(folder)
        if any(part.startswith((".", "__")) for part in here.relative_to(src).parts):
            continue  # __pycache__, .ipynb_checkpoints
        own = [name for name in [*dirs, *files] if not name.startswith((".", "__"))]
        if any(f.endswith(".py") for f in files) or any(h.parent == here for h in found) or not own:
            found.append(here)
    return sorted(found)


def check_init_files(ctx: Context, service: Path) -> Finding:
    name = f"__init__.py: {service.name}"
    folders = package_folders(service / "src")
    missing = [
        str((f / "__init__.py").relative_to(service)) for f in folders if not (f / "__init__.py").exists()
    ]
    if not missing:
        return Finding(name, "ok", f"all {len(folders)} package folders under src/ have one")
    fix = (
        f"create them (empty is fine): `cd {service.name} && touch {' '.join(missing)}`\n"
        "without one a folder is a namespace package: it imports, but mypy and pytest expect regular ones"
    )
    return Finding(name, "fail", f"missing {', '.join(missing)}", fix)
