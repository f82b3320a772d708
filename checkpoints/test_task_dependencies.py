"""Checkpoint task-dependencies: get_db's unit of work, and Depends() overridden (step 2.7)."""

import importlib
import inspect

import pytest
from fastapi import HTTPException
from sqlalchemy import func, select

TASKS = "/api/v1/tasks"


@pytest.fixture
def service(make_app):
    app = make_app("task-service")
    # the very modules main imported (load_service would import fresh copies)
    deps = importlib.import_module("src.api.dependencies")
    models = importlib.import_module("src.models.database")
    return app, deps, models


def count_tasks(app, models):
    with app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(models.Task))


def test_get_db_is_a_yield_dependency(service):
    """get_db is a generator function and SessionDep wraps it in Depends()"""
    app, deps, models = service
    assert inspect.isgeneratorfunction(deps.get_db)
    metadata = deps.SessionDep.__metadata__[0]
    assert metadata.dependency is deps.get_db


def test_override_get_db(service, client):
    """app.dependency_overrides[get_db] swaps the session every route receives"""
    app, deps, models = service
    handed_out = []

    def session_for_test():
        with app.state.session_factory() as session:
            handed_out.append(session)
            yield session
            session.commit()

    app.dependency_overrides[deps.get_db] = session_for_test
    with client(app) as http:
        assert http.post(TASKS, json={"title": "through the override"}).status_code == 201
        assert http.get(TASKS).json()["total"] == 1
    assert len(handed_out) == 2


def test_successful_request_commits(service, client):
    """a route that returns has its work committed"""
    app, deps, models = service
    with client(app) as http:
        created = http.post(TASKS, json={"title": "kept"})
        assert created.status_code == 201, created.text
    assert count_tasks(app, models) == 1


def test_failing_request_rolls_back(service, client):
    """a route that raises after writing leaves nothing behind, and its error still answers"""
    app, deps, models = service

    @app.post("/test-only/fail-after-write")
    def fail_after_write(db: deps.SessionDep) -> None:
        db.add(models.Task(title="never stored"))
        db.flush()
        raise HTTPException(status_code=409, detail="Conflict after a write.")

    with client(app) as http:
        response = http.post("/test-only/fail-after-write")
    assert response.status_code == 409, response.text
    assert response.json()["error"]["message"] == "Conflict after a write."
    assert count_tasks(app, models) == 0
