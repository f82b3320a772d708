"""Checkpoint task-app: the FastAPI application, CORS, health checks, errors, offline docs (step 2.2)."""

import inspect
import re

import pytest

FRONTEND = "https://tasks.example.com"


@pytest.fixture
def task_app(make_app):
    return lambda **fields: make_app("task-service", cors_origins=[FRONTEND], **fields)


def test_app_factory(load_service, task_app):
    """src.main has create_app(settings) and a module-level app"""
    from fastapi import FastAPI

    main = load_service("task-service", "src.main")
    assert isinstance(main.app, FastAPI)
    app = task_app(app_name="tasks-under-test")
    assert isinstance(app, FastAPI) and app is not main.app
    assert app.title == "tasks-under-test"


def test_liveness(task_app, client):
    """GET /health/live answers 200 {"status": "ok"}"""
    with client(task_app()) as http:
        response = http.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_cors_preflight_allowed_origin(task_app, client):
    """a CORS preflight from a configured origin is allowed, with credentials"""
    with client(task_app()) as http:
        response = http.options(
            "/health/live",
            headers={"Origin": FRONTEND, "Access-Control-Request-Method": "GET"},
        )
    assert response.status_code == 200
    assert response.headers.get("access-control-allow-origin") == FRONTEND
    assert response.headers.get("access-control-allow-credentials") == "true"
    assert "GET" in response.headers.get("access-control-allow-methods", "")


def test_cors_rejects_other_origins(task_app, client):
    """a preflight from any other origin gets no Access-Control-Allow-Origin"""
    with client(task_app()) as http:
        response = http.options(
            "/health/live",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_docs_offline(task_app, client):
    """/docs loads Swagger UI's JavaScript and CSS from the service itself"""
    with client(task_app()) as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
        assert assets, "no script or stylesheet in /docs"
        for asset in assets:
            assert asset.startswith("/"), f"{asset} is not served by the service"
            assert http.get(asset).status_code == 200, asset
        assert http.get("/openapi.json").status_code == 200


def test_tracing_hook(load_service):
    """observability/tracing.py has setup_tracing(app, settings), called by create_app"""
    tracing = load_service("task-service", "src.observability.tracing")
    assert list(inspect.signature(tracing.setup_tracing).parameters) == ["app", "settings"]
    main = load_service("task-service", "src.main")
    assert "setup_tracing(" in inspect.getsource(main.create_app)


def test_readiness_ok(task_app, client):
    """GET /health/ready answers 200 when the database answers"""
    with client(task_app()) as http:
        response = http.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readiness_503_when_database_down(task_app, tmp_path, client):
    """GET /health/ready answers 503 with the error body when the database is unreachable"""
    app = task_app(database_url=f"sqlite:///{tmp_path / 'missing-folder' / 'tasks.db'}")
    with client(app) as http:
        response = http.get("/health/ready")
        live = http.get("/health/live")
    assert response.status_code == 503
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "details"}
    assert live.status_code == 200, "liveness must not depend on the database"


def test_unknown_route_error_body(task_app, client):
    """404 and 405 answer the one JSON error body"""
    with client(task_app()) as http:
        missing = http.get("/no-such-route")
        wrong_method = http.delete("/health/live")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "Not Found", "details": []}}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
