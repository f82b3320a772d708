"""The workbook's tooling: the notebook magics and the commands behind `make`."""

from __future__ import annotations

from .importing import activate_service, import_service, purge_service_modules

__all__ = ["activate_service", "import_service", "load_ipython_extension", "purge_service_modules"]


def load_ipython_extension(ipython: object) -> None:
    from .magics import load

    load(ipython)
