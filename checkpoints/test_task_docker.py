"""Checkpoint task-docker: .dockerignore and a multi-stage, non-root Dockerfile with a health check (2.11)."""

import pytest

from workbook.dockerfile import read


@pytest.fixture(scope="module")
def service(service_dir):
    return service_dir("task-service")


@pytest.fixture(scope="module")
def dockerfile(service):
    path = service / "Dockerfile"
    assert path.is_file(), "no task-service/Dockerfile"
    return path


@pytest.fixture(scope="module")
def parsed(dockerfile):
    return read(dockerfile)


@pytest.fixture(scope="module")
def final_stage(parsed):
    assert parsed.stages, "the Dockerfile has no FROM"
    return parsed.final


def test_dockerignore_sends_only_what_the_image_uses(service, image_checks):
    """.dockerignore keeps secrets, databases, venvs, tests and bytecode out of the build context"""
    never = [".env", "task_service.db", ".venv/bin/python", "tests/unit/test_models.py",
             "src/__pycache__/main.cpython-311.pyc", ".git/config"]  # fmt: skip
    image_checks.dockerignore(service, never, ["requirements.txt", "src/main.py", "src/api/routes.py"])


def test_builder_makes_a_venv(parsed, image_checks):
    """a named builder stage makes a virtual environment and installs requirements.txt into it"""
    image_checks.builder_makes_a_venv(parsed)


def test_runtime_copies_only_the_venv_from_builder(parsed, final_stage, image_checks):
    """the runtime stage copies the venv from the builder, puts it on PATH and copies src/"""
    image_checks.runtime_copies_the_venv(parsed, final_stage)


def test_numeric_non_root_user(final_stage, image_checks):
    """the runtime stage switches to a numeric non-root USER before CMD"""
    image_checks.numeric_non_root_user(final_stage)


def test_healthcheck_needs_only_python(final_stage, image_checks):
    """the HEALTHCHECK calls /health/live with Python (the image has no curl or wget), exec form"""
    image_checks.healthcheck_needs_only_python(final_stage)


def test_cmd_serves_on_all_interfaces(final_stage):
    """CMD runs uvicorn src.main:app on 0.0.0.0 at the EXPOSEd port (exec form)"""
    command = final_stage.all("CMD")
    assert command, "the runtime stage has no CMD"
    argv = command[-1].exec_form
    assert argv is not None, f"CMD {command[-1].arguments[:60]}: write it in exec form, a JSON list"
    assert "src.main:app" in argv and "0.0.0.0" in argv, f"CMD {argv}"
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    exposed = [value.split()[0].split("/")[0] for value in final_stage.values("EXPOSE") if value.split()]
    assert exposed == [port], f"EXPOSE {exposed} does not match the port uvicorn listens on ({port})"


def test_hadolint_passes(dockerfile, image_checks):
    """hadolint finds nothing in the Dockerfile"""
    image_checks.hadolint(dockerfile)
