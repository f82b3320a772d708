"""Importing a service's freshly written code, whatever was imported before.

`importlib.reload` keeps stale submodules, and every service has a `src` package, so the
only safe way is: forget every module loaded from the services root, put this service's
folder first on `sys.path`, invalidate the finders' caches, import again."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import overload

from .errors import UserError
from .paths import services_root


class ServiceNotFound(UserError, LookupError):
    pass


def _loaded_from(module: ModuleType, root: Path) -> bool:
    locations = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    for location in locations:
        if location and Path(location).resolve().is_relative_to(root):
            return True
    return False


def purge_service_modules(root: Path | None = None) -> list[str]:
    """Remove from `sys.modules` every module loaded from under the services root."""
    root = (root or services_root()).resolve()
    stale = [name for name, mod in list(sys.modules.items()) if mod and _loaded_from(mod, root)]
    for name in stale:
        del sys.modules[name]
    return stale


def _top_level_names(folder: Path) -> set[str]:
    return {p.stem for p in folder.iterdir() if p.is_dir() or p.suffix == ".py"}


def activate_service(service: str, root: Path | None = None) -> Path:
    """Make `service` the one whose packages `import` finds; returns its folder."""
    root = (root or services_root()).resolve()
    folder = root / service
    if not folder.is_dir():
        raise ServiceNotFound(f"no service {service!r} under {root}: run its %%service cells first")
    sys.dont_write_bytecode = True
    purge_service_modules(root)
    # A `src` imported from anywhere else (another services root) would shadow this one.
    shadowing = _top_level_names(folder)
    for name in [n for n in sys.modules if n.split(".", 1)[0] in shadowing]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not _is_under(p, root)]
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    return folder


@overload
def import_service(service: str, module: str = "src.main", /, *, root: Path | None = None) -> ModuleType: ...


@overload
def import_service(
    service: str, module: str, other: str, /, *more: str, root: Path | None = None
) -> tuple[ModuleType, ...]: ...


def import_service(
    service: str, *modules: str, root: Path | None = None
) -> ModuleType | tuple[ModuleType, ...]:
    """Import `modules` from `service` as they are on disk now (default `src.main`).

    One module gives that module; several give a tuple, in order, imported after one purge: so
    `main, settings = import_service("task-service", "src.main", "src.config.settings")` gives the
    very settings module `main` imported, not a second copy of it."""
    activate_service(service, root)
    loaded = tuple(importlib.import_module(module) for module in modules or ("src.main",))
    return loaded[0] if len(loaded) == 1 else loaded


def _is_under(entry: str, root: Path) -> bool:
    try:
        return Path(entry).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False
