"""Checkpoint task-app: the FastAPI application, CORS, health checks, errors, offline docs (step 2.2)."""

import inspect
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

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


def test_liveness_needs_no_thread(load_service):
    """liveness is async def with no dependency: it answers when every worker thread is busy"""
    health = load_service("task-service", "src.api.health")
    liveness = getattr(health, "liveness", None)
    assert liveness is not None, "src/api/health.py has no liveness()"
    assert inspect.iscoroutinefunction(
        liveness
    ), "liveness() is a plain def: FastAPI runs it on a worker thread"
    assert not inspect.signature(liveness).parameters, "liveness() takes parameters (dependencies)"


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
    body = response.json()
    assert body == {"status": "ready", "checks": {"database": "ok"}}, f"GET /health/ready answered {body}"


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


# A PostgreSQL URL nothing listens at: connecting is refused at once, as when the database is down.
DATABASE_DOWN = "postgresql+psycopg://workbook:secret@127.0.0.1:1/nothing"


def add_probe_routes(app):
    """Routes the checks need on any app: one that uses the database, one with a bug, one path
    with two routes (GET and POST), one that reads a JSON body, and two HTTPExceptions."""
    from fastapi import HTTPException, Request

    def uses_database(request: Request):
        with request.app.state.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"database": "answered"}

    def has_a_bug():
        raise RuntimeError("checkpoint: a bug in a route")

    def echo(body: dict):
        return {"received": len(body)}

    app.add_api_route("/checkpoint/database", uses_database, methods=["GET"])
    app.add_api_route("/checkpoint/bug", has_a_bug, methods=["GET"])
    app.add_api_route("/checkpoint/methods", lambda: {"listed": True}, methods=["GET"])
    app.add_api_route("/checkpoint/methods", echo, methods=["POST"])
    app.add_api_route("/checkpoint/echo", echo, methods=["POST"])

    def conflict():
        raise HTTPException(409, detail="checkpoint: a message of our own")

    def conflict_with_data():
        raise HTTPException(409, detail={"checkpoint": "not a string"})

    app.add_api_route("/checkpoint/conflict", conflict, methods=["GET"])
    app.add_api_route("/checkpoint/conflict-data", conflict_with_data, methods=["GET"])
    return app


@contextmanager
def service_log() -> Iterator[list[logging.LogRecord]]:
    """The records the service's loggers (`src.*`) write while the block runs."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("src")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def database_get_paths(app):
    """Every GET operation of the OpenAPI document without path parameters, except liveness and
    the probes that use no database."""
    skipped = {"/health", "/health/live", "/checkpoint/bug", "/checkpoint/methods"}
    skipped |= {"/checkpoint/conflict", "/checkpoint/conflict-data"}
    return sorted(
        path
        for path, operations in app.openapi()["paths"].items()
        if "get" in operations and "{" not in path and path not in skipped
    )


def test_database_down_503_everywhere(task_app, client):
    """with the database down, every route answers 503 database_unavailable with Retry-After"""
    app = add_probe_routes(task_app(database_url=DATABASE_DOWN))
    with client(app) as http:
        answers = {path: http.get(path) for path in database_get_paths(app)}
        live = http.get("/health/live")
        with service_log() as records:
            http.get("/checkpoint/database")
    assert "/checkpoint/database" in answers and "/health/ready" in answers
    for path, response in answers.items():
        assert (
            response.status_code == 503
        ), f"GET {path} answered {response.status_code}: {response.text[:200]}"
        assert (
            response.json()["error"]["code"] == "database_unavailable"
        ), f"GET {path}: {response.text[:200]}"
        retry_after = response.headers.get("retry-after", "")
        assert retry_after.isdigit(), f"GET {path}: Retry-After is {retry_after!r}, not a number of seconds"
    assert live.status_code == 200, "liveness must not depend on the database"
    warnings = [record for record in records if record.levelno == logging.WARNING]
    assert warnings, "a route that finds the database down logs no warning (answer_for)"
    assert not any(
        record.exc_info for record in warnings
    ), "the warning carries a traceback: an outage is no bug"
    messages = [record.getMessage() for record in warnings]
    assert any(
        "OperationalError" in message for message in messages
    ), f"the warning does not name the exception's type (OperationalError): {messages}"


def test_readiness_logs_the_database_down(task_app, tmp_path, client):
    """readiness logs a warning when the database is down, saying so and naming the error's type"""
    app = task_app(database_url=f"sqlite:///{tmp_path / 'missing-folder' / 'tasks.db'}")
    with client(app) as http, service_log() as records:
        response = http.get("/health/ready")
    assert response.status_code == 503
    warnings = [record.getMessage() for record in records if record.levelno == logging.WARNING]
    assert warnings, "readiness answered 503 and logged no warning"
    assert any(
        "database" in message.lower() and "OperationalError" in message for message in warnings
    ), f"the warning must say the database is unreachable and name the error's type: {warnings}"


def test_http_exception_message(task_app, client):
    """an HTTPException's string detail is the message; any other detail gives the status's phrase"""
    with client(add_probe_routes(task_app())) as http:
        own = http.get("/checkpoint/conflict")
        data = http.get("/checkpoint/conflict-data")
    assert own.status_code == 409 and data.status_code == 409, (own.status_code, data.status_code)
    assert own.json()["error"]["message"] == "checkpoint: a message of our own", own.text[:200]
    assert data.json()["error"]["message"] == "Conflict", f"a detail that is no string: {data.text[:200]}"


def test_unexpected_error_500(task_app, client):
    """a bug answers 500 with the error body and the CORS headers, inside the app"""
    app = add_probe_routes(task_app())
    # The client raises what escapes the app: an exception left to Starlette's outermost
    # ServerErrorMiddleware, which a real server logs again and answers by dropping the connection.
    with client(app) as http, service_log() as records:
        response = http.get("/checkpoint/bug", headers={"Origin": FRONTEND})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.json()["error"]["message"] == "An unexpected error occurred.", response.text[:200]
    errors = [record for record in records if record.levelno >= logging.ERROR]
    assert errors, "the bug was answered with 500 and logged nowhere: logger.error(..., exc_info=error)"
    assert any(
        record.exc_info and isinstance(record.exc_info[1], RuntimeError) for record in errors
    ), "the error's log record carries no traceback: pass exc_info=error"
    assert "checkpoint: a bug" not in response.text, "a 500 must not tell the client about the internals"
    assert response.headers.get("access-control-allow-origin") == FRONTEND, "the 500 lacks the CORS headers"


def test_405_allow_lists_every_method(task_app, client):
    """a 405's Allow header lists every method the path accepts"""
    with client(add_probe_routes(task_app())) as http:
        response = http.patch("/checkpoint/methods", json={})
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers.get("allow", "").split(",")}
    assert {"GET", "POST"} <= allowed, f"Allow: {response.headers.get('allow')!r} (the path has GET and POST)"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_security_headers(task_app, client):
    """answers carry nosniff, DENY, a referrer policy, a CSP, and no-store on the API"""
    with client(task_app()) as http:
        api = http.get("/health/live")
        docs = http.get("/docs")
    expected = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "cache-control": "no-store"}
    for name, value in expected.items():
        assert api.headers.get(name) == value, f"GET /health/live: {name} is {api.headers.get(name)!r}"
    assert api.headers.get("referrer-policy"), "GET /health/live has no Referrer-Policy"
    assert "default-src" in api.headers.get("content-security-policy", ""), "no Content-Security-Policy"
    policy = docs.headers.get("content-security-policy", "")
    assert "'self'" in policy, f"/docs must be allowed to load its own scripts, CSP: {policy!r}"


def test_unknown_host_400(task_app, client):
    """a Host not in allowed_hosts gets a 400 error body; an allowed one is served"""
    with client(task_app(allowed_hosts=["tasks.example.com"])) as http:
        forged = http.get("/health/live", headers={"Host": "evil.example"})
        allowed = http.get("/health/live", headers={"Host": "tasks.example.com"})
    assert forged.status_code == 400, f"Host: evil.example answered {forged.status_code}"
    assert set(forged.json()["error"]) >= {"code", "message", "details"}
    assert allowed.status_code == 200


def test_body_limit_413(task_app, client):
    """a body over max_body_bytes gets 413 with the error body, by Content-Length or streamed"""
    with client(add_probe_routes(task_app(max_body_bytes=1000))) as http:
        small = http.post("/checkpoint/echo", json={"note": "x" * 100})
        declared = http.post("/checkpoint/echo", json={"note": "x" * 2000})
        streamed = http.post(
            "/checkpoint/echo",
            content=iter([b'{"note": "', b"x" * 2000, b'"}']),  # chunked: no Content-Length
            headers={"Content-Type": "application/json"},
        )
    assert small.status_code == 200, f"a 100-byte body answered {small.status_code}"
    for label, response in [("with Content-Length", declared), ("chunked", streamed)]:
        assert response.status_code == 413, f"a 2000-byte body {label} answered {response.status_code}"
        assert response.json()["error"]["code"], response.text[:200]


def test_request_id(task_app, client, load_service):
    """X-Request-ID: a safe one is returned as sent, an unsafe or missing one is replaced"""
    longest = "a" * load_service("task-service", "src.api.middleware").REQUEST_ID_MAX_LENGTH
    with client(task_app()) as http:
        at_the_limit = http.get("/health/live", headers={"X-Request-ID": longest})
        sent = http.get("/health/live", headers={"X-Request-ID": "order-42.retry_1:a-b"})
        unsafe = http.get("/health/live", headers={"X-Request-ID": "x" * 500})
        spaces = http.get("/health/live", headers={"X-Request-ID": "two words"})
        missing = [http.get("/health/live") for _ in range(2)]
    assert sent.headers.get("x-request-id") == "order-42.retry_1:a-b"
    kept = at_the_limit.headers.get("x-request-id")
    assert kept == longest, f"an id of exactly {len(longest)} characters came back as {kept!r}"
    for label, response in [("500 characters", unsafe), ("with a space", spaces)]:
        returned = response.headers.get("x-request-id", "")
        assert (
            returned and len(returned) <= 128 and " " not in returned
        ), f"an id {label} came back as {returned!r}"
    made = [response.headers.get("x-request-id") for response in missing]
    assert all(made) and made[0] != made[1], f"requests without an id got {made}"
