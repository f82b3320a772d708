"""Checkpoint task-shipped: everything passes, the smoke test works, the image builds and runs (step 2.14)."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workbook import process
from workbook.engine import detect_engine, no_engine_message
from workbook.docker import Tools, export_service
from workbook.suites import run_pytest

LINTERS = {
    "black": ["black", "--check", "src", "tests"],
    "flake8": ["flake8", "src", "tests"],
    "mypy": ["mypy"],
}
# What the tools write into the folder they run in, unless told otherwise.
CACHES = (".mypy_cache", ".pytest_cache", ".coverage", "htmlcov", "__pycache__")


@pytest.fixture(scope="module")
def service(service_dir):
    return service_dir("task-service")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """Where the tools' caches go: a check leaves nothing behind in the learner's folder."""
    return tmp_path_factory.mktemp("caches")


def caches_in(service):
    return {
        str(path.relative_to(service))
        for path in service.rglob("*")
        if path.name in CACHES or path.name.startswith(".coverage.")
    }


@pytest.fixture(scope="module", autouse=True)
def leaves_no_caches(service):
    """After the checks, the learner's folder holds no cache it did not hold before."""
    before = caches_in(service)
    yield
    left = sorted(caches_in(service) - before)
    assert not left, f"the checks left {left} in {service}: a fault of the checkpoint, not of your code"


def run_in(service, scratch, *command, timeout=600):
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    env.update(PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1", MYPY_CACHE_DIR=str(scratch / "mypy"))
    return process.run(command, cwd=service, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def live_service(service, tmp_path_factory, closed_port):
    """The service served by uvicorn on a free port, with its own SQLite database."""
    port = closed_port()
    database = tmp_path_factory.mktemp("shipped") / "tasks.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "uvicorn", "src.main:app", "--port", str(port), "--no-access-log"]
    server = subprocess.Popen(
        command, cwd=service, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/health/live", timeout=1):
                break
        except OSError:
            if server.poll() is not None:
                pytest.fail("uvicorn src.main:app exited: " + server.stderr.read().decode()[-1500:])
            time.sleep(0.3)
    yield base
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def smoke(service):
    """scripts/smoke_test.py, imported from its file (scripts/ is a folder, not a package)."""
    path = service / "scripts" / "smoke_test.py"
    assert path.is_file(), "no task-service/scripts/smoke_test.py"
    spec = importlib.util.spec_from_file_location("task_service_smoke_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tests_pass_with_coverage(service):
    """`pytest --cov=src tests/` passes, coverage above the 85% pyproject.toml demands"""
    done = run_pytest(service, "-q", "tests/", coverage="src", timeout=600)
    assert done.returncode == 0, done.tail(60)
    coverage = f"{done.coverage:.1f}" if done.coverage is not None else "?"
    assert done.coverage is not None and done.coverage > 85, f"coverage {coverage}%"


def test_linters_pass(service, scratch):
    """black --check, flake8 and mypy pass on src/ and tests/"""
    failures = []
    for tool, command in LINTERS.items():
        if tool == "mypy":
            command = [*command, "--cache-dir", str(scratch / "mypy")]
        done = run_in(service, scratch, sys.executable, "-m", *command)
        if done.returncode != 0:
            failures.append(f"{tool}: " + (done.stdout + done.stderr).strip()[-1500:])
    assert not failures, "\n".join(failures)


def test_smoke_checks_health(smoke, live_service):
    """smoke_test.check_health reports liveness and readiness, and fails on a bad answer"""
    lines = smoke.check_health(live_service)
    assert len(lines) == 2 and all("200" in line for line in lines), lines
    assert any("/health/ready" in line for line in lines), lines
    with pytest.raises((smoke.SmokeTestFailure, OSError)):
        smoke.check_health(live_service + "/no-such-prefix")


def test_smoke_creates_reads_deletes(smoke, live_service, service, scratch):
    """smoke_test.create_read_delete creates a task, reads it back, deletes it and leaves nothing"""
    task, lines = smoke.create_read_delete(live_service, title="checkpoint smoke")
    assert task["title"] == "checkpoint smoke" and len(lines) >= 3, lines
    with urllib.request.urlopen(live_service + "/api/v1/tasks") as response:
        assert b'"total":0' in response.read().replace(b" ", b""), "the smoke test left its task behind"
    done = run_in(service, scratch, sys.executable, "scripts/smoke_test.py", live_service)
    assert done.returncode == 0 and "smoke test passed" in done.stdout, done.stdout + done.stderr


# Each fault is one way a deployed service can be wrong that the notebook's smoke test asks about.
FAULTS = {
    "no-location": "POST answers 201 without a Location header",
    "location-elsewhere": "POST's Location names another task (/api/v1/tasks/7)",
    "read-differs": "GET on the Location answers a different task",
    "delete-200": "DELETE answers 200 instead of 204",
    "not-deleted": "DELETE answers 204 but the task is still there",
}


class FaultyTasks(ThreadingHTTPServer):
    """A stand-in for task-service on 127.0.0.1 that is wrong in one way (`fault`)."""

    def __init__(self, fault):
        self.fault = fault
        self.task = None
        super().__init__(("127.0.0.1", 0), FaultyTasksHandler)


class FaultyTasksHandler(BaseHTTPRequestHandler):
    def answer(self, status, body=None, headers=()):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.task = {"id": 1, "title": body.get("title"), "status": "todo"}
        location = {"no-location": None, "location-elsewhere": "/api/v1/tasks/7"}.get(
            self.server.fault, "/api/v1/tasks/1"
        )
        self.answer(201, self.server.task, [("Location", location)] if location else [])

    def do_GET(self):  # noqa: N802
        if self.server.task is None:
            self.answer(404, {"error": {"code": "not_found", "message": "Not Found", "details": []}})
        elif self.server.fault == "read-differs":
            self.answer(200, {**self.server.task, "title": "another task"})
        else:
            self.answer(200, self.server.task)

    def do_DELETE(self):  # noqa: N802
        if self.server.fault != "not-deleted":
            self.server.task = None
        if self.server.fault == "delete-200":
            self.answer(200, {})
        else:
            self.answer(204)

    def log_message(self, format, *args):
        pass


def test_smoke_catches_a_wrong_service(smoke):
    """create_read_delete fails on each wrong answer the notebook names: Location, read-back, 204, 404"""
    missed = []
    for fault, wrong in FAULTS.items():
        server = FaultyTasks(fault)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            smoke.create_read_delete(f"http://127.0.0.1:{server.server_address[1]}", title="checkpoint")
        except smoke.SmokeTestFailure:
            continue
        except Exception as error:  # noqa: BLE001 (any other exception is a crash, not a report)
            missed.append(f"{wrong}: it raised {type(error).__name__}: {error}, not SmokeTestFailure")
            continue
        finally:
            server.shutdown()
            server.server_close()
        missed.append(f"{wrong}: it passed")
    assert not missed, "the smoke test does not notice when " + "; ".join(missed)


def test_image_builds_and_passes_the_smoke_test(service):
    """the image builds, answers its health check and runs as a non-root user (needs Docker or podman)"""
    engine = detect_engine(process.run, shutil.which)
    if engine is None:
        pytest.skip(no_engine_message(shutil.which))
    result = export_service(engine, Tools(), service, "task-service:checkpoint", "[1/1]")
    assert result.built, "the image did not build: " + "; ".join(result.problems)
    assert result.passed, "; ".join(result.problems)
