"""Checkpoint task-pool: the engine, its connection pool and SQLite done right (step 2.6)."""

import importlib
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool, StaticPool

SERVER_URL = "postgresql+psycopg://app:s3cret@db.internal:5432/tasks"  # never connected to


@pytest.fixture
def connection_module(load_service):
    return load_service("task-service", "src.database.connection")


@pytest.fixture
def settings_class(connection_module):
    return importlib.import_module("src.config.settings").Settings  # the module connection uses


def test_module_has_no_global_engine(connection_module):
    """importing connection.py creates no engine: create_app builds one from its settings"""
    from sqlalchemy import Engine

    engines = [name for name, value in vars(connection_module).items() if isinstance(value, Engine)]
    assert not engines, f"module-level engine(s): {engines}"


def test_session_factory(connection_module):
    """build_session_factory binds sessions to the engine and keeps objects loaded after commit"""
    engine = create_engine("sqlite://")
    factory = connection_module.build_session_factory(engine)
    with factory() as session:
        assert session.get_bind() is engine
    assert factory.kw["expire_on_commit"] is False


def test_pool_configured_from_settings(connection_module, settings_class):
    """a server database gets a QueuePool sized, timed and checked as the settings say"""
    settings = settings_class(
        database_url=SERVER_URL, db_pool_size=7, db_max_overflow=3, db_pool_timeout=4.5,
        db_pool_recycle=600, db_pool_pre_ping=True,
    )  # fmt: skip
    engine = connection_module.build_engine(settings)
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle, pool._pre_ping) == (
        7, 3, 4.5, 600, True,
    )  # fmt: skip
    assert "s3cret" not in repr(engine)


def test_pool_times_out_when_exhausted(connection_module, settings_class, tmp_path):
    """with every connection checked out, the next checkout fails after pool_timeout"""
    settings = settings_class(
        database_url=f"sqlite:///{tmp_path / 'pool.db'}", db_pool_size=1, db_max_overflow=1,
        db_pool_timeout=0.2,
    )  # fmt: skip
    engine = connection_module.build_engine(settings)
    first, second = engine.connect(), engine.connect()  # the pool's one, plus one overflow
    assert engine.pool.checkedout() == 2
    with pytest.raises(PoolTimeout):
        engine.connect()
    first.close(), second.close()
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_sqlite_in_memory_is_shared(connection_module, settings_class):
    """in-memory SQLite: every session sees the same database, from any thread"""
    engine = connection_module.build_engine(settings_class(database_url="sqlite://"))
    assert isinstance(engine.pool, StaticPool)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    seen = []

    def read():
        with engine.connect() as connection:
            seen.append(connection.execute(text("SELECT count(*) FROM t")).scalar())

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert seen == [1]


def test_sqlite_connections_configured(connection_module, settings_class, tmp_path):
    """every SQLite connection enforces foreign keys; a file database runs in WAL mode"""
    engine = connection_module.build_engine(settings_class(database_url=f"sqlite:///{tmp_path / 'f.db'}"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
