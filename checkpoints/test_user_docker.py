"""Checkpoint user-docker: user-service's image, its gunicorn numbers against its pool, and its pinned
requirements (step 2.18). The Dockerfile checks task-docker makes too are the shared ones."""

import os
import runpy
from unittest import mock

import pytest
from packaging.requirements import Requirement

from workbook import pins
from workbook.dockerfile import read

SERVICE = "user-service"
APP = "src.main:create_app()"
CONNECTIONS_PER_CONTAINER = 10  # the container's share of PostgreSQL's max_connections (notebook 22)
RUNTIME_ONLY = {"gunicorn": "the server CMD runs", "psycopg": "the driver DATABASE_URL names"}
EXTRAS = {"psycopg": {"binary"}, "sqlalchemy": {"asyncio"}, "spectree": {"flask", "offline"}}


@pytest.fixture(scope="module")
def service(service_dir):
    return service_dir(SERVICE)


@pytest.fixture(scope="module")
def dockerfile(service):
    path = service / "Dockerfile"
    assert path.is_file(), f"no {SERVICE}/Dockerfile"
    return path


@pytest.fixture(scope="module")
def parsed(dockerfile):
    return read(dockerfile)


@pytest.fixture(scope="module")
def final_stage(parsed):
    assert parsed.stages, "the Dockerfile has no FROM"
    return parsed.final


@pytest.fixture(scope="module")
def image_env(final_stage):
    """The environment the image's process starts with (PATH left to the base image)."""
    return {name: value for name, value in final_stage.env.items() if name != "PATH"}


@pytest.fixture
def served(service, image_env, load_service):
    """(gunicorn.conf.py's settings, the service's Settings) as the container's process reads them."""
    config = service / "gunicorn.conf.py"
    assert config.is_file(), f"no {SERVICE}/gunicorn.conf.py: notebook 18 writes it"
    settings = load_service(SERVICE, "src.config.settings")
    with mock.patch.dict(os.environ, image_env):
        gunicorn = runpy.run_path(str(config))
        return gunicorn, settings.Settings(_env_file=None)


@pytest.fixture(scope="module")
def pinned(service):
    path = service / "requirements.txt"
    assert path.is_file(), f"no {SERVICE}/requirements.txt"
    return pins.pins(path)


def test_dockerignore_sends_only_what_the_image_uses(service, image_checks):
    """.dockerignore keeps secrets, databases, venvs, tests and bytecode out, and sends gunicorn.conf.py"""
    never = [".env", "user_service.db", ".venv/bin/python", "tests/unit/test_users.py",
             "src/__pycache__/main.cpython-311.pyc", "src/api/users.pyc", ".git/config",
             # The cache folder itself: *.py[cod] leaves out its bytecode, not what else lands in it.
             "src/api/__pycache__"]  # fmt: skip
    needed = ["requirements.txt", "gunicorn.conf.py", "src/main.py", "src/api/users.py"]
    image_checks.dockerignore(service, never, needed)


def test_builder_makes_a_venv(parsed, image_checks):
    """a named builder stage makes a virtual environment and installs requirements.txt into it"""
    image_checks.builder_makes_a_venv(parsed)


def test_runtime_copies_the_venv_config_and_code(parsed, final_stage, image_checks):
    """the runtime stage copies the venv from the builder (on PATH), gunicorn.conf.py and src/"""
    image_checks.runtime_copies_the_venv(parsed, final_stage)
    copied = image_checks.context_copies(final_stage)
    assert "gunicorn.conf.py" in copied, "gunicorn.conf.py is not copied: gunicorn would run on its defaults"


def test_numeric_non_root_user(final_stage, image_checks):
    """the runtime stage switches to a numeric non-root USER before CMD"""
    image_checks.numeric_non_root_user(final_stage)


def test_healthcheck_calls_liveness_with_python(final_stage, image_checks, image_env):
    """the HEALTHCHECK calls /health/live with Python (the image has no curl or wget), exec form"""
    argv = image_checks.healthcheck_needs_only_python(final_stage, "/health/live")
    port = image_env.get("USER_SERVICE_BIND", "").rpartition(":")[2]
    assert port and f":{port}/health/live" in " ".join(argv), f"the check does not call the bound port {port}"


def test_cmd_runs_gunicorn_on_the_factory_at_the_exposed_port(final_stage, image_env):
    """CMD runs gunicorn with its config on src.main:create_app(), bound to 0.0.0.0 at the EXPOSEd port"""
    command = final_stage.all("CMD")
    assert command, "the runtime stage has no CMD"
    argv = command[-1].exec_form
    assert argv is not None, f"CMD {command[-1].arguments[:60]}: write it in exec form, a JSON list"
    assert argv[0] == "gunicorn" and argv[-1] == APP, f"CMD {argv}: gunicorn, the application {APP} last"
    assert "--config" in argv or "-c" in argv, f"CMD {argv} does not name gunicorn.conf.py"
    bind = image_env.get("USER_SERVICE_BIND", "")
    host, _, port = bind.rpartition(":")
    assert host == "0.0.0.0", f"USER_SERVICE_BIND={bind!r}: bind 0.0.0.0, else nothing outside reaches it"
    exposed = [value.split()[0].split("/")[0] for value in final_stage.values("EXPOSE") if value.split()]
    assert exposed == [port], f"EXPOSE {exposed} does not match the port gunicorn binds ({port})"


def test_threads_have_a_connection_each(served):
    """gunicorn runs gthread workers, and each worker's pool holds a connection for every thread, no more"""
    gunicorn, settings = served
    assert gunicorn.get("worker_class") == "gthread", f"worker_class {gunicorn.get('worker_class')!r}"
    threads = int(gunicorn["threads"])
    per_worker = settings.db_pool_size + settings.db_max_overflow
    assert threads >= 2, f"{threads} thread(s) per worker: a thread waiting on the database blocks the worker"
    assert per_worker >= threads, (
        f"{threads} threads share {settings.db_pool_size} + {settings.db_max_overflow} connections:"
        " the rest wait for the pool, then answer 503"
    )
    assert settings.db_pool_size == threads and settings.db_max_overflow == 0, (
        f"pool {settings.db_pool_size} + overflow {settings.db_max_overflow} for {threads} threads: keep a"
        " connection per thread (pool_size = threads: one more is held open and never used) and no"
        " overflow to open and close per burst"
    )


def test_connections_fit_the_budget(served):
    """two workers or more, and workers x (pool + overflow) stays within the container's 10 connections"""
    gunicorn, settings = served
    workers = int(gunicorn["workers"])
    # One worker runs one thread's Python at a time (the GIL): the image is sized for two cores.
    assert workers >= 2, f"{workers} worker(s): one process uses one core at a time; run two for two cores"
    total = workers * (settings.db_pool_size + settings.db_max_overflow)
    assert total <= CONNECTIONS_PER_CONTAINER, (
        f"{workers} workers x ({settings.db_pool_size} + {settings.db_max_overflow}) = {total} connections"
        f" per container, over the budget of {CONNECTIONS_PER_CONTAINER}"
    )


def test_requirements_pinned_at_the_lock(service, pinned):
    """every line of requirements.txt pins one exact version, the workbook's locked one"""
    lines = pins.requirement_lines(service / "requirements.txt")
    assert lines, "requirements.txt lists nothing"
    loose = [line for line in lines if pins.normalize(Requirement(line).name) not in pinned]
    assert not loose, f"not pinned with ==: {loose}"
    off = pins.off_the_lock(pinned)
    assert not off, f"not at the workbook's locked versions: {off}"


def test_requirements_are_the_runtime_tree(service, pinned):
    """requirements.txt is exactly the tree under what src/ imports, gunicorn and psycopg"""
    imported = pins.imported_distributions(service / "src")
    missing = sorted(imported - set(pinned))
    assert not missing, f"src/ imports these, requirements.txt lacks them: {missing}"
    runtime = [name for name in RUNTIME_ONLY if name not in pinned]
    assert not runtime, f"not pinned: {[f'{name} ({RUNTIME_ONLY[name]})' for name in runtime]}"
    needed = pins.tree([Requirement(name) for name in sorted(imported | set(RUNTIME_ONLY))], EXTRAS)
    unused = sorted(set(pinned) - set(needed))
    assert not unused, f"pinned but needed by nothing the service imports or runs: {unused}"
    problems = pins.incomplete(pinned, EXTRAS)
    assert not problems, f"the tree is incomplete: {problems}"


def test_hadolint_passes(dockerfile, image_checks):
    """hadolint finds nothing in the Dockerfile"""
    image_checks.hadolint(dockerfile)
