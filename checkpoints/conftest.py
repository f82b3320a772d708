"""Fixtures every checkpoint shares: where the learner's services are, and a clean import of them."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

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


@pytest.fixture
def make_task_app(load_service: Callable[[str, str], ModuleType], tmp_path: Path) -> Callable[..., Any]:
    """make_task_app(**settings) builds the learner's task-service app, on a fresh SQLite file
    unless `database_url` is given."""
    main = load_service("task-service", "src.main")
    settings = importlib.import_module("src.config.settings")  # the very module main imported

    def make(**fields: Any) -> Any:
        fields.setdefault("database_url", f"sqlite:///{tmp_path / 'tasks.db'}")
        return main.create_app(settings.Settings(**fields))

    return make


def env_names(settings_class: Any) -> dict[str, str]:
    """The variable each Settings field is read from: its alias when it has one, else prefix + name."""
    prefix = settings_class.model_config.get("env_prefix", "")
    names = {}
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names[field_name] = str(choices[0]).upper()
        elif isinstance(alias, str):
            names[field_name] = alias.upper()
        else:
            names[field_name] = (prefix + field_name).upper()
    return names
