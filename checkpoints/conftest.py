"""Fixtures every checkpoint shares: where the learner's services are, and a clean import of them."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

from workbook.importing import import_service
from workbook.paths import services_root


@pytest.fixture(scope="session")
def services() -> Path:
    return services_root()


@pytest.fixture
def load_service() -> Callable[[str, str], ModuleType]:
    """load_service("task-service", "src.main") imports that module as it is on disk now."""

    def load(service: str, module: str) -> ModuleType:
        return import_service(service, module)

    return load
