"""The baseline the throughput bench compares a service with: a bare FastAPI + SQLAlchemy app with
the task-service's table and endpoints and nothing else (no tracing, no error bodies, no settings).

It is bare but not naive: each route does its unit of work in one thread hop, inside one session
that it opens and closes itself, and the pool holds as many connections as the thread pool has
threads, so no request ever waits for a connection another waiting thread holds."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from typing import Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy import JSON, Date, DateTime, String, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

THREADS = 40  # AnyIO's default thread limiter: the most sync routes that run at once


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), default="todo")
    priority: Mapped[str] = mapped_column(String(20), default="medium")
    due_date: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: str = "todo"
    priority: str = "medium"
    due_date: date | None = None
    tags: list[str] = Field(default_factory=list)


def wal(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def as_dict(task: Task) -> dict[str, Any]:
    return {column.name: getattr(task, column.name) for column in Task.__table__.columns}


def create_app() -> FastAPI:
    url = os.environ.get("DATABASE_URL", "sqlite:///./baseline.db")
    # SQLite: connections move between the pool's threads, and forty writers queue for its one
    # write lock longer than the default five seconds; WAL lets readers past the writer.
    sqlite = url.startswith("sqlite")
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30} if sqlite else {}
    engine = create_engine(
        url, connect_args=connect_args, pool_size=THREADS, max_overflow=0, pool_pre_ping=True
    )
    if sqlite:
        event.listen(engine, "connect", wal)
    Base.metadata.create_all(engine)
    app = FastAPI(title="baseline")

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/tasks", status_code=201)
    def create(payload: TaskIn, response: Response) -> dict[str, Any]:
        with Session(engine) as session, session.begin():
            task = Task(**payload.model_dump())
            session.add(task)
            session.flush()
            body = as_dict(task)
        response.headers["Location"] = f"/api/v1/tasks/{body['id']}"
        return body

    @app.get("/api/v1/tasks")
    def page(limit: int = 20, offset: int = 0) -> dict[str, Any]:
        with Session(engine) as session:
            total = session.scalar(select(func.count()).select_from(Task)) or 0
            rows = session.scalars(
                select(Task).order_by(Task.created_at.desc(), Task.id.desc()).limit(limit).offset(offset)
            ).all()
            return {"items": [as_dict(t) for t in rows], "total": total, "limit": limit, "offset": offset}

    @app.get("/api/v1/tasks/{task_id}")
    def read(task_id: int) -> dict[str, Any]:
        with Session(engine) as session:
            task = session.get(Task, task_id)
            if task is None:
                raise HTTPException(404, f"Task {task_id} does not exist.")
            return as_dict(task)

    @app.put("/api/v1/tasks/{task_id}")
    def replace(task_id: int, payload: TaskIn) -> dict[str, Any]:
        with Session(engine) as session, session.begin():
            task = session.get(Task, task_id)
            if task is None:
                raise HTTPException(404, f"Task {task_id} does not exist.")
            for name, value in payload.model_dump().items():
                setattr(task, name, value)
            session.flush()
            return as_dict(task)

    @app.delete("/api/v1/tasks/{task_id}", status_code=204)
    def delete(task_id: int) -> None:
        with Session(engine) as session, session.begin():
            task = session.get(Task, task_id)
            if task is None:
                raise HTTPException(404, f"Task {task_id} does not exist.")
            session.delete(task)

    return app
