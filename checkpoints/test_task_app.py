"""Checkpoint task-app: the FastAPI application, CORS, health checks, errors, offline docs (step 2.2)."""

import inspect
import re
import warnings

import pytest

warnings.filterwarnings("ignore", message="Using .httpx.")

from fastapi.testclient import TestClient  # noqa: E402

FRONTEND = "https://tasks.example.com"


@pytest.fixture
def make_app(make_task_app):
    return lambda **fields: make_task_app(cors_origins=[FRONTEND], **fields)


def test_app_factory(load_service, make_app):
    """src.main has create_app(settings) and a module-level app"""
    from fastapi import FastAPI

    main = load_service("task-service", "src.main")
    assert isinstance(main.app, FastAPI)
    app = make_app(app_name="tasks-under-test")
    assert isinstance(app, FastAPI) and app is not main.app
    assert app.title == "tasks-under-test"


def test_liveness(make_app):
    """GET /health/live answers 200 {"status": "ok"}"""
    with TestClient(make_app()) as client:
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_cors_preflight_allowed_origin(make_app):
    """a CORS preflight from a configured origin is allowed, with credentials"""
    with TestClient(make_app()) as client:
        response = client.options(
            "/health/live",
            headers={"Origin": FRONTEND, "Access-Control-Request-Method": "GET"},
        )
    assert response.status_code == 200
    assert response.headers.get("access-control-allow-origin") == FRONTEND
    assert response.headers.get("access-control-allow-credentials") == "true"
    assert "GET" in response.headers.get("access-control-allow-methods", "")


def test_cors_rejects_other_origins(make_app):
    """a preflight from any other origin gets no Access-Control-Allow-Origin"""
    with TestClient(make_app()) as client:
        response = client.options(
            "/health/live",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_docs_offline(make_app):
    """/docs loads Swagger UI's JavaScript and CSS from the service itself"""
    with TestClient(make_app()) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
        assert assets, "no script or stylesheet in /docs"
        for asset in assets:
            assert asset.startswith("/"), f"{asset} is not served by the service"
            assert client.get(asset).status_code == 200, asset
        assert client.get("/openapi.json").status_code == 200


def test_tracing_hook(load_service):
    """observability/tracing.py has setup_tracing(app, settings), called by create_app"""
    tracing = load_service("task-service", "src.observability.tracing")
    assert list(inspect.signature(tracing.setup_tracing).parameters) == ["app", "settings"]
    main = load_service("task-service", "src.main")
    assert "setup_tracing(" in inspect.getsource(main.create_app)


def test_readiness_ok(make_app):
    """GET /health/ready answers 200 when the database answers"""
    with TestClient(make_app()) as client:
        response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readiness_503_when_database_down(make_app, tmp_path):
    """GET /health/ready answers 503 with the error body when the database is unreachable"""
    app = make_app(database_url=f"sqlite:///{tmp_path / 'missing-folder' / 'tasks.db'}")
    with TestClient(app) as client:
        response = client.get("/health/ready")
        live = client.get("/health/live")
    assert response.status_code == 503
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "details"}
    assert live.status_code == 200, "liveness must not depend on the database"


def test_unknown_route_error_body(make_app):
    """404 and 405 answer the one JSON error body"""
    with TestClient(make_app()) as client:
        missing = client.get("/no-such-route")
        wrong_method = client.delete("/health/live")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "Not Found", "details": []}}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
