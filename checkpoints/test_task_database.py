"""Checkpoint task-database: the SQLAlchemy models, indexes and timestamps (step 2.4)."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

COLUMNS = {
    "id", "title", "description", "status", "priority", "due_date", "tags", "created_at", "updated_at",
    "version",
}  # fmt: skip


TOKYO = timezone(timedelta(hours=9))


@pytest.fixture
def far_from_utc(monkeypatch):
    """The machine's local time set to Tokyo's: `astimezone()` without `timezone.utc`, or a naive
    value read as local time, then gives another instant than UTC, as on a learner's laptop."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def utc_type(load_service, far_from_utc):
    from sqlalchemy.dialects import sqlite

    models = load_service("task-service", "src.models.database")
    return models.UTCDateTime(), sqlite.dialect()


@pytest.fixture
def db(load_service, tmp_path):
    models = load_service("task-service", "src.models.database")
    engine = create_engine(f"sqlite:///{tmp_path / 'tasks.db'}")
    models.create_tables(engine)
    yield models, engine
    engine.dispose()


def test_task_table(db):
    """Base.metadata has a tasks table with every column, title required"""
    models, engine = db
    columns = {c["name"]: c for c in inspect(engine).get_columns("tasks")}
    assert set(columns) == COLUMNS
    assert not columns["title"]["nullable"] and columns["description"]["nullable"]
    assert not columns["created_at"]["nullable"] and not columns["updated_at"]["nullable"]
    assert inspect(engine).get_pk_constraint("tasks")["constrained_columns"] == ["id"]


def test_database_defaults_and_constraints(db):
    """plain SQL gets the database's own defaults; CHECK constraints refuse unknown enum values"""
    models, engine = db
    with engine.begin() as connection:  # no ORM: only server_default applies
        connection.execute(text("INSERT INTO tasks (title) VALUES ('inserted by a script')"))
        row = connection.execute(
            text("SELECT status, priority, tags, version, created_at, updated_at FROM tasks")
        ).one()
    assert (row.status, row.priority, row.tags, row.version) == ("todo", "medium", "[]", 1), row
    assert row.created_at is not None and row.updated_at is not None, row
    for column, value in [("status", "someday"), ("priority", "whenever")]:
        with engine.connect() as connection, pytest.raises(IntegrityError):
            connection.execute(text(f"INSERT INTO tasks (title, {column}) VALUES ('raw', '{value}')"))


@pytest.mark.parametrize("column", ["status", "priority"])
def test_list_queries_use_indexes(db, column):
    """filtering by status or priority, newest first, is served by an index (no scan, no sort)"""
    models, engine = db
    with engine.connect() as connection:
        plan = connection.execute(
            text(
                f"EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE {column} = :value "
                "ORDER BY created_at DESC, id DESC LIMIT 20"
            ),
            {"value": "x"},
        ).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "USING INDEX" in details and "TEMP B-TREE" not in details, details


def test_timestamps_set_on_insert(db):
    """created_at and updated_at are set on insert, timezone-aware UTC"""
    models, engine = db
    before = datetime.now(timezone.utc)
    with Session(engine) as session:
        task = models.Task(title="t")
        session.add(task)
        session.commit()
        task_id = task.id
    with Session(engine) as session:
        task = session.get(models.Task, task_id)
        for value in (task.created_at, task.updated_at):
            assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
            assert before - timedelta(seconds=5) <= value <= datetime.now(timezone.utc)
        assert task.status == "todo" and task.priority == "medium" and task.tags == []


def test_updated_at_moves_on_update(db):
    """an update moves updated_at and leaves created_at alone"""
    models, engine = db
    with Session(engine) as session:
        task = models.Task(title="t")
        session.add(task)
        session.commit()
        created, updated = task.created_at, task.updated_at
        time.sleep(0.01)
        task.title = "changed"
        session.commit()
        session.refresh(task)
        assert task.created_at == created
        assert task.updated_at > updated


def test_timestamps_stored_as_utc(db):
    """aware datetimes are stored as UTC; naive ones are refused"""
    models, engine = db
    paris_noon = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as session:
        task = models.Task(title="t", created_at=paris_noon, updated_at=paris_noon)
        session.add(task)
        session.commit()
        session.expire_all()
        stored = session.scalar(select(models.Task.created_at).where(models.Task.id == task.id))
        assert stored == paris_noon and stored.utcoffset() == timedelta(0) and stored.hour == 10
    with Session(engine) as session:
        session.add(models.Task(title="t", created_at=datetime(2025, 6, 1, 12, 0)))
        with pytest.raises(Exception):
            session.commit()


def test_version_column_guards_writes(db):
    """every UPDATE checks and bumps the version column (version_id_col): a stale write fails"""
    from sqlalchemy.orm.exc import StaleDataError

    models, engine = db
    assert models.Task.__mapper__.version_id_col is models.Task.__table__.c.version
    with Session(engine, expire_on_commit=False) as first, Session(engine) as second:
        task = models.Task(title="versioned")
        first.add(task)
        first.commit()
        assert task.version == 1
        second.get(models.Task, task.id).title = "changed meanwhile"
        second.commit()
        task.title = "based on an old read"
        with pytest.raises(StaleDataError):
            first.commit()


def test_sqlite_never_reuses_an_id(db):
    """on SQLite, a deleted task's id is never given again (sqlite_autoincrement)"""
    models, engine = db
    with Session(engine) as session:
        tasks = [models.Task(title="one"), models.Task(title="two")]
        session.add_all(tasks)
        session.commit()
        last = tasks[1].id
        session.delete(tasks[1])
        session.commit()
        newer = models.Task(title="three")
        session.add(newer)
        session.commit()
        assert newer.id == last + 1, f"the deleted task's id {last} was given again"


def test_bind_param_stores_utc(utc_type):
    """binding: None stays None, an aware time is stored as UTC, a naive one refused (in Tokyo time)"""
    column, dialect = utc_type
    assert column.process_bind_param(None, dialect) is None
    tokyo_nine = datetime(2025, 6, 1, 9, 0, tzinfo=TOKYO)
    stored = column.process_bind_param(tokyo_nine, dialect)
    assert stored == tokyo_nine and stored.tzinfo is timezone.utc, f"stored {stored!r}"
    assert stored.hour == 0, f"09:00 in Tokyo is 00:00 UTC, stored {stored!r}"
    with pytest.raises(ValueError) as raised:
        column.process_bind_param(datetime(2025, 6, 1, 9, 0), dialect)
    assert "naive" in str(raised.value), f"the message {str(raised.value)!r} does not say naive"


def test_result_value_reads_utc(utc_type):
    """reading: None stays None, naive values are UTC, aware ones converted to UTC (in Tokyo time)"""
    column, dialect = utc_type
    assert column.process_result_value(None, dialect) is None
    naive = column.process_result_value(datetime(2025, 6, 1, 12, 0), dialect)
    assert naive == datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc), f"read {naive!r}"
    assert naive.tzinfo is timezone.utc, f"read {naive!r}"
    aware = column.process_result_value(datetime(2025, 6, 1, 9, 0, tzinfo=TOKYO), dialect)
    assert (
        aware == datetime(2025, 6, 1, 0, 0, tzinfo=timezone.utc) and aware.tzinfo is timezone.utc
    ), f"read {aware!r}"
