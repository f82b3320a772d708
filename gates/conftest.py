"""Fixtures of the gates: the reference services laid out in a scratch root, each started as a
real server on 127.0.0.1 on a fresh SQLite or PostgreSQL database.

GATES_SERVICES_DIR points the gates at an existing services root instead (a learner's own
`services/`); TEST_DATABASE_URL is the PostgreSQL server for the PostgreSQL runs (skipped without
it, failed without it when WORKBOOK_REQUIRE_POSTGRES is set, as `make gates` sets it)."""

from __future__ import annotations

import os
import shutil

import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pytest
from harness import databases
from harness.databases import Database
from harness.resources import Resource, resource_for

from workbook import process
from workbook.serving import Server
from workbook.services import Profile, profile_for

REPO = Path(__file__).resolve().parent.parent
SERVABLE = ("fastapi", "flask")
_scratch: list[Path] = []


@lru_cache(maxsize=1)
def services_root() -> Path:
    """GATES_SERVICES_DIR, else the reference services as the last checkpoint leaves them."""
    if os.environ.get("GATES_SERVICES_DIR"):
        return Path(os.environ["GATES_SERVICES_DIR"]).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="gates-services-"))
    _scratch.append(scratch)
    env = {
        **os.environ,
        "WORKBOOK_SERVICES_DIR": str(scratch / "services"),
        "WORKBOOK_STATE_DIR": str(scratch / "state"),
    }
    (scratch / "services").mkdir()
    listing = process.run([sys.executable, "-m", "workbook", "checkpoints"], cwd=REPO, env=env)
    if not listing.ok:
        raise RuntimeError(f"could not list the checkpoints: {listing.output}")
    last = listing.stdout.strip().splitlines()[-1].split()[0]
    reset = process.run([sys.executable, "-m", "workbook", "reset", last], cwd=REPO, env=env)
    if not reset.ok:
        raise RuntimeError(f"could not lay out the reference services: {reset.stdout}{reset.stderr}")
    return scratch / "services"


def has_app(folder: Path, profile: Profile) -> bool:
    """Whether the service has its application yet: the gates hold every service from the first
    notebook that writes its app module (auth-service's structure comes a notebook before it)."""
    return (folder / (profile.app_module.replace(".", "/") + ".py")).is_file()


def _service_folders() -> list[tuple[Profile, Path]]:
    root = services_root()
    return [(profile_for(f), f) for f in sorted(root.iterdir()) if (f / "src").is_dir()]


def http_services() -> list[Profile]:
    return [
        profile
        for profile, folder in _service_folders()
        if profile.is_http and profile.framework in SERVABLE and has_app(folder, profile)
    ]


def pytest_report_header(config: pytest.Config) -> list[str]:
    waiting = [folder.name for profile, folder in _service_folders() if not has_app(folder, profile)]
    return [f"not served yet (no application module): {', '.join(waiting)}"] if waiting else []


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _scratch:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "service" in metafunc.fixturenames:
        services = http_services()
        metafunc.parametrize("service", services, ids=[p.name for p in services], scope="module")
    if "db_kind" in metafunc.fixturenames:
        metafunc.parametrize("db_kind", ["sqlite", "postgresql"], scope="module")


def postgres_server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("WORKBOOK_REQUIRE_POSTGRES"):
            pytest.fail("TEST_DATABASE_URL is not set: start one with scripts/postgres.sh")
        pytest.skip("TEST_DATABASE_URL is not set (scripts/postgres.sh prints one)")
    return url


def fresh_database(kind: str, folder: Path) -> Database:
    if kind == "sqlite":
        return databases.sqlite(folder)
    return databases.postgresql(postgres_server_url())


@dataclass
class Target:
    """The service under test: its profile, where it is served, and the database behind it."""

    profile: Profile
    server: Server
    database: Database
    resource: Resource | None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def need_resource(self) -> Resource:
        if self.resource is None:
            pytest.fail(f"{self.profile.name}: gates/harness/resources.py does not describe its API yet")
        return self.resource


def serve(profile: Profile, folder: Path, database: Database, scratch: Path) -> Server:
    env = {"DATABASE_URL": database.url}
    return Server(profile, folder, env=env, log_path=scratch / f"{profile.name}.log").start()


@pytest.fixture(scope="module")
def target(service: Profile, db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    scratch = tmp_path_factory.mktemp(f"{service.name}-{db_kind}")
    database = fresh_database(db_kind, scratch)
    server = None
    try:
        server = serve(service, services_root() / service.name, database, scratch)
        yield Target(service, server, database, resource_for(service.name))
    finally:
        if server is not None:
            server.stop()
        database.drop()
