"""The databases a gate runs a service on: a fresh SQLite file, or a fresh database on a
PostgreSQL server (the shared one from TEST_DATABASE_URL, or one the gates own). Fresh, so row
counts are exact; read directly, not through the service, so "stored" means stored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from workbook.databases import create_database, drop_database


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str
    admin_url: str = ""  # PostgreSQL: where the database was created, to drop it afterwards
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def count(self, table: str) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    def rows(self, table: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        found: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join(f":i{n}" for n in range(len(chunk)))
                result = connection.execute(
                    text(f"SELECT * FROM {table} WHERE id IN ({marks})"),
                    {f"i{n}": value for n, value in enumerate(chunk)},
                )
                for row in result.mappings():
                    found[int(row["id"])] = dict(row)
        return found

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def drop(self) -> None:
        self.dispose()
        if self.kind == "postgresql" and self.admin_url:
            drop_database(self.url, self.admin_url)


def sqlite(folder: Path) -> Database:
    return Database("sqlite", f"sqlite:///{folder / 'gates.db'}")


def postgresql(server_url: str) -> Database:
    """A new, empty database on the server `server_url` points at (its role needs CREATEDB)."""
    return Database("postgresql", *create_database(server_url, "gates"))
