"""A fresh, empty database for one run: a SQLite file, or a new database on a PostgreSQL server.

The gates and the throughput bench count rows and compare runs, so each run gets a database nobody
else wrote to, made on the server `TEST_DATABASE_URL` names (its role needs CREATEDB) and dropped
afterwards, connections and all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url


def psycopg_url(server_url: str) -> URL:
    """`server_url` with the driver the services use (psycopg 3) when it names none."""
    url = make_url(server_url)
    return url.set(drivername="postgresql+psycopg") if url.drivername in ("postgresql", "postgres") else url


def _execute(admin_url: URL | str, statement: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE refuses a transaction
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def create_database(server_url: str, prefix: str) -> tuple[str, str]:
    """A new database on the server: (its URL, the URL it was created from, to drop it with)."""
    admin = psycopg_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _execute(admin, f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False), admin.render_as_string(
        hide_password=False
    )


def drop_database(url: str, admin_url: str) -> None:
    """Drop the database `url` names, closing whatever connections are still open to it."""
    _execute(admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@contextmanager
def fresh_database(server_url: str | None, scratch: Path, prefix: str) -> Iterator[str]:
    """A new empty database for the `with` block: on `server_url`'s server, else a SQLite file."""
    if not server_url:
        yield f"sqlite:///{scratch / f'{prefix}-{uuid.uuid4().hex[:8]}.db'}"
        return
    url, admin_url = create_database(server_url, prefix)
    try:
        yield url
    finally:
        drop_database(url, admin_url)
