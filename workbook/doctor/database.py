"""The database behind DATABASE_URL, from the environment or each service's `.env` (what
pydantic-settings reads): a URL SQLAlchemy accepts, a SQLite folder that is writable, a PostgreSQL that
answers, and when it does not, what runs locally (the checklist's "database connection errors").
TEST_DATABASE_URL, which the integration tests read (and the hints tell learners to set), is checked
the same way. A service's URL is read as its settings read it: an HTTP service of the workbook reads
`postgres://` and `postgresql://` (what hosting platforms hand out) as `postgresql+psycopg://`, so
neither is a missing psycopg2 driver there. TEST_DATABASE_URL gets `postgres://` read so alone."""

from __future__ import annotations

import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Sequence

from dotenv import dotenv_values

from ..services import profile_for
from .base import Context, Finding, Job, first_line, shown, tcp_problem, within

DB_CONNECT_SECONDS = 3
URL_EXAMPLE = "write it as postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME or sqlite:///./NAME.db"
CHECK_URL = "then check host, port and credentials in DATABASE_URL"
PG_START = "start PostgreSQL: `pg_ctlcluster {0} {1} start` on Debian, or Docker Desktop / testcontainers"


TEST_URL, TEST_NAME = "TEST_DATABASE_URL", "test database"
POSTGRES_ALIAS, POSTGRES_DRIVER = "postgres://", "postgresql+psycopg://"
SERVICE_ALIASES = (POSTGRES_ALIAS, "postgresql://")  # both services' settings rewrite these


def jobs(ctx: Context) -> list[Job]:
    return [
        ("database", lambda: check_database(ctx, ctx.services())),
        (TEST_NAME, lambda: check_test_url(ctx)),
    ]


def check_test_url(ctx: Context) -> list[Finding]:
    url = ctx.env.get(TEST_URL, "").strip()
    if not url:
        detail = (
            f"{TEST_URL} not set: the integration tests start PostgreSQL with testcontainers (a container "
            f"engine), or cannot run; with PostgreSQL here: export {TEST_URL}=$(scripts/postgres.sh)"
        )
        return [Finding(TEST_NAME, "skip", detail)]
    return [check_database_url(ctx, TEST_NAME, url, Path.cwd(), variable=TEST_URL)]


def check_database(ctx: Context, services: Sequence[Path]) -> list[Finding]:
    """DATABASE_URL from the environment, else from each service's .env."""
    url = ctx.env.get("DATABASE_URL", "").strip()
    if url:
        return [check_database_url(ctx, "database", url, Path.cwd(), aliases=SERVICE_ALIASES)]
    findings = []
    for service in services:
        dotenv = service / ".env"
        value = (dotenv_values(dotenv).get("DATABASE_URL") or "") if dotenv.is_file() else ""
        if value:
            name = f"database: {service.name}/.env"
            aliases = read_as(service)
            findings.append(check_database_url(ctx, name, value, service, aliases=aliases))
    return findings or [
        Finding("database", "ok", "DATABASE_URL not set: the services use their SQLite default")
    ]


def read_as(service: Path) -> tuple[str, ...]:
    """The schemes a service's settings read as psycopg 3: its profile's framework says."""
    return SERVICE_ALIASES if profile_for(service).framework in ("fastapi", "flask") else (POSTGRES_ALIAS,)


def check_database_url(
    ctx: Context,
    name: str,
    raw: str,
    base: Path,
    variable: str = "DATABASE_URL",
    aliases: tuple[str, ...] = (POSTGRES_ALIAS,),
) -> Finding:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    alias = next((scheme for scheme in aliases if raw.startswith(scheme)), "")
    if alias:  # the services' settings rewrite it so; SQLAlchemy alone would refuse postgres://
        raw = POSTGRES_DRIVER + raw.removeprefix(alias)
    try:
        url = make_url(raw)
    except ArgumentError:
        return Finding(name, "fail", f"{variable} is not a database URL", URL_EXAMPLE)
    label = url.render_as_string(hide_password=True)
    if alias:
        label = f"{alias}{label.removeprefix(POSTGRES_DRIVER)} (read as {POSTGRES_DRIVER})"
    backend = url.get_backend_name()
    if backend == "sqlite":
        return check_sqlite(name, label, url.database, base)
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
