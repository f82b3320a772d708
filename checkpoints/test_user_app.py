"""Checkpoint user-app: the Flask application factory, its settings, a session per request, one
JSON error body, health checks, the HTTP edge, JSON logs and the OpenAPI document (step 2.16)."""

import importlib
import logging
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

SERVICE = "user-service"


@pytest.fixture
def app(make_app):
    return make_app(SERVICE)


@pytest.fixture
def module(load_service):
    def load(name):
        load_service(SERVICE, "src.main")  # the app's modules, imported once, as main imports them
        return importlib.import_module(name)

    return load


def add_views(app, module, **views):
    """Register demonstration views on a fresh app (before its first request)."""
    for name, view in views.items():
        app.add_url_rule(
            f"/checks/{name}", endpoint=f"checks_{name}", view_func=view, methods=["GET", "POST"]
        )
    return module("src.database.session"), module("src.models.database").User


def stored_emails(app):
    engine = app.extensions["user_service.engine"]
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT email FROM users ORDER BY id"))]


def test_settings_read_the_environment(module, monkeypatch):
    """USER_SERVICE_* variables and DATABASE_URL (as it is) configure the service"""
    monkeypatch.setenv("USER_SERVICE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DATABASE_URL", "postgres://app:secret@db:5432/users")
    monkeypatch.setenv("USER_SERVICE_ALLOWED_HOSTS", "API.example.com, *.example.com")
    settings = module("src.config.settings").Settings(_env_file=None)
    assert settings.log_level == "WARNING"
    url = settings.database_url.get_secret_value()
    assert url == "postgresql+psycopg://app:secret@db:5432/users", url
    assert "secret" not in str(settings.database_url), "the database URL must be a SecretStr"
    assert settings.allowed_hosts == ["api.example.com", "*.example.com"]
    assert settings.trusted_hosts() == ["api.example.com", ".example.com"]


def test_env_example_lists_every_setting(env_example_mismatch):
    """.env.example names every setting's variable, and no other"""
    missing, unknown = env_example_mismatch(SERVICE)
    assert not missing, f"not in .env.example: {missing}"
    assert not unknown, f"in .env.example but not a setting: {unknown}"


def test_create_app_is_a_factory(make_app, module):
    """create_app(settings) builds a new Flask app per call; importing main builds none"""
    from flask import Flask

    first, second = make_app(SERVICE), make_app(SERVICE, app_name="second")
    assert isinstance(first, Flask) and isinstance(second, Flask)
    assert first is not second
    assert first.extensions["user_service.engine"] is not second.extensions["user_service.engine"]
    assert not isinstance(getattr(module("src.main"), "app", None), Flask), "src.main must not build an app"


def test_emails_are_unique_in_the_database(module, tmp_path):
    """the users table refuses a second email that differs only in case"""
    models = module("src.models.database")
    engine = create_engine(f"sqlite:///{tmp_path / 'unique.db'}")
    models.create_tables(engine)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        session.add(models.User(email="ada@example.com", name="Ada"))
        session.commit()
        session.add(models.User(email="ADA@EXAMPLE.COM", name="Ada"))
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()


def test_health_checks(app, client):
    """/health/live, /health and /health/ready answer 200 with their bodies"""
    with client(app) as http:
        for path in ["/health/live", "/health"]:
            response = http.get(path)
            assert response.status_code == 200 and response.json() == {"status": "ok"}, (path, response.text)
        ready = http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readiness_is_503_and_liveness_200_when_the_database_is_down(
    make_app, client, closed_port, assert_error_body
):
    """database unreachable: readiness 503 database_unavailable with Retry-After, liveness 200"""
    app = make_app(
        SERVICE, database_url=f"postgresql://nobody@127.0.0.1:{closed_port()}/users", db_create_tables=False
    )
    with client(app) as http:
        assert http.get("/health/live").status_code == 200
        ready = http.get("/health/ready")
        assert_error_body(ready, 503, "database_unavailable")
        assert ready.headers.get("Retry-After", "").isdigit(), "a 503 says when to retry (Retry-After)"


def test_unknown_route_is_the_json_404(app, client, assert_error_body):
    """an unknown route answers 404 with the JSON error body, not Flask's HTML page"""
    with client(app) as http:
        response = http.get("/no/such/route")
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
        error = assert_error_body(response, 404, "not_found")
        assert error["message"] and "<" not in error["message"]


def test_wrong_method_is_the_json_405_with_allow(app, client, assert_error_body):
    """a wrong method answers 405 with the error body and an Allow header naming GET"""
    with client(app) as http:
        response = http.delete("/health/live")
        assert_error_body(response, 405, "method_not_allowed")
        allowed = {method.strip() for method in response.headers.get("Allow", "").split(",")}
        assert "GET" in allowed and "DELETE" not in allowed, f"Allow: {response.headers.get('Allow')!r}"


def test_abort_keeps_its_status_and_message(app, module, client, assert_error_body):
    """abort(409, message) and abort(415) answer their own status, code and message"""
    from flask import abort

    def conflict():
        abort(409, "The checks' conflict.")

    def media():
        abort(415)

    def blank():
        abort(409, "")  # no description: the status's phrase is the message

    add_views(app, module, conflict=conflict, media=media, blank=blank)
    with client(app) as http:
        error = assert_error_body(http.get("/checks/conflict"), 409, "conflict")
        assert error["message"] == "The checks' conflict.", error
        error = assert_error_body(http.get("/checks/media"), 415, "unsupported_media_type")
        assert error["message"], error
        error = assert_error_body(http.get("/checks/blank"), 409, "conflict")
        assert error["message"] == "Conflict", f"an empty description falls back to the phrase: {error}"


def test_unexpected_error_is_500_without_internals(app, module, client, assert_error_body, caplog):
    """an exception in a view: 500 internal_error, no internals in the body, the traceback logged"""

    def fails():
        raise RuntimeError("secret-internal-detail")

    add_views(app, module, fails=fails)
    with caplog.at_level(logging.INFO), client(app) as http:
        response = http.get("/checks/fails")
    error = assert_error_body(response, 500, "internal_error")
    assert "secret" not in response.text, "the body must not reveal the exception"
    assert error["message"] == "An unexpected error occurred.", error
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert errors, "the exception must be logged at ERROR with its traceback (exc_info=error)"
    assert any("/checks/fails" in r.getMessage() for r in errors), "the log line names the path"


def test_unreachable_database_is_503_with_retry_after(app, module, client, assert_error_body, caplog):
    """a database error in a view: 503 database_unavailable with Retry-After, a warning, no traceback"""

    def database_gone():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    add_views(app, module, gone=database_gone)
    with caplog.at_level(logging.INFO), client(app) as http:
        response = http.get("/checks/gone")
    assert_error_body(response, 503, "database_unavailable")
    assert response.headers.get("Retry-After", "").isdigit()
    records = [r for r in caplog.records if r.name.startswith("src.")]
    assert any(
        r.levelno == logging.WARNING and "/checks/gone" in r.getMessage() for r in records
    ), "log a warning naming the path"
    assert not any(r.exc_info for r in records), "an unavailable database is no bug: no traceback"
    assert not any(r.levelno >= logging.ERROR for r in records), "a warning, not an error"


def test_commit_happens_before_the_response(app, module, client):
    """a view that adds a user and answers 201: the row is stored when the client reads 201"""

    def create():
        session.db_session().add(User(email="grace@example.com", name="Grace"))
        return "created", 201

    session, User = add_views(app, module, create=create)
    with client(app) as http:
        response = http.post("/checks/create")
        seen = stored_emails(app)
    assert response.status_code == 201, response.text
    assert seen == ["grace@example.com"], f"stored after the 201: {seen}"


def test_failed_commit_becomes_409(app, module, client, assert_error_body):
    """a commit that breaks the unique email answers 409 (not the view's 201), and stores nothing"""

    def create(email):
        def view():
            session.db_session().add(User(email=email, name="Grace"))
            return "created", 201

        return view

    session, User = add_views(
        app, module, first=create("grace@example.com"), again=create("GRACE@example.com")
    )
    with client(app) as http:
        assert http.post("/checks/first").status_code == 201
        response = http.post("/checks/again")
        error = assert_error_body(response, 409, "conflict")
        assert error["message"] == "The change conflicts with data already stored.", error
        assert http.post("/checks/again").status_code == 409, "the session must be usable again"
        assert http.get("/health/ready").status_code == 200
    assert stored_emails(app) == ["grace@example.com"]


def failing_commit(session_module, User, error):
    def view():
        session = session_module.db_session()
        session.add(User(email="linus@example.com", name="Linus"))

        def commit():
            raise error

        session.commit = commit  # the database fails at commit time
        return "created", 201

    return view


def test_commit_with_the_database_gone_is_503(app, module, client, assert_error_body, caplog):
    """a commit that fails because the database went away answers 503 with Retry-After"""
    session, User = add_views(app, module)
    error = OperationalError("COMMIT", {}, ConnectionResetError("gone"))
    app.add_url_rule("/checks/gone", view_func=failing_commit(session, User, error), methods=["POST"])
    with caplog.at_level(logging.INFO), client(app) as http:
        response = http.post("/checks/gone")
    assert_error_body(response, 503, "database_unavailable")
    assert response.headers.get("Retry-After", "").isdigit()
    warnings = [r for r in caplog.records if r.name.startswith("src.") and r.levelno == logging.WARNING]
    assert any(
        "OperationalError" in r.getMessage() for r in warnings
    ), "log a warning naming the exception's type when the commit finds the database unavailable"
    assert stored_emails(app) == []


def test_other_commit_failure_is_500(app, module, client, assert_error_body, caplog):
    """any other database error at commit answers 500 internal_error, logged with its traceback"""
    session, User = add_views(app, module)
    error = ProgrammingError("COMMIT", {}, RuntimeError("bad"))
    app.add_url_rule("/checks/bad", view_func=failing_commit(session, User, error), methods=["POST"])
    with caplog.at_level(logging.INFO), client(app) as http:
        response = http.post("/checks/bad")
    error_body = assert_error_body(response, 500, "internal_error")
    assert error_body["message"] == "An unexpected error occurred.", error_body
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, f"one ERROR line, the commit's: {[r.getMessage() for r in errors]}"
    assert errors[0].exc_info and errors[0].exc_info[0] is ProgrammingError, "log the commit's traceback"
    assert stored_emails(app) == []


def test_error_answers_commit_nothing_and_sessions_close(app, module, client):
    """a view that adds a user and then answers 400 stores nothing; no connection stays checked out"""

    def refused():
        session.db_session().add(User(email="refused@example.com", name="No"))
        return "refused", 400

    session, User = add_views(app, module, refused=refused)
    with client(app) as http:
        for _ in range(3):
            assert http.post("/checks/refused").status_code == 400
    assert stored_emails(app) == []
    assert app.extensions["user_service.engine"].pool.checkedout() == 0, "a session was not closed"


def test_edge_headers_cors_hosts_and_body_limit(app, client, assert_error_body):
    """request id, security headers, CORS for listed origins only, 400 for a foreign Host, 413"""
    with client(app) as http:
        response = http.get(
            "/health/live", headers={"X-Request-ID": "check-1", "Origin": "http://localhost:3000"}
        )
        assert response.headers.get("X-Request-ID") == "check-1"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert response.headers.get("X-Frame-Options") == "DENY"
        assert response.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"
        fresh = http.get("/health/live", headers={"X-Request-ID": "bad id;<x>"}).headers.get("X-Request-ID")
        assert fresh and fresh != "bad id;<x>", "an unsafe request id is replaced"
        other = http.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        assert_error_body(http.get("/health/live", headers={"Host": "evil.example"}), 400, "invalid_host")
        big = http.post("/health/live", data=b"x" * (2 * 1024 * 1024), content_type="application/json")
        assert_error_body(big, 413, "payload_too_large")


def test_logs_are_json_with_request_and_trace_ids(app, module):
    """a log line written during a request is JSON with its request id, trace id and span id"""
    import json

    from flask import g
    from opentelemetry.sdk.trace import TracerProvider

    formatter = module("src.observability.logging").JsonFormatter()
    tracer = TracerProvider().get_tracer("checks")
    with app.test_request_context("/"), tracer.start_as_current_span("request") as span:
        g.request_id = "check-2"
        record = logging.LogRecord("src.checks", logging.INFO, __file__, 1, "hello %s", ("there",), None)
        line = json.loads(formatter.format(record))
    assert line["message"] == "hello there" and line["level"] == "INFO"
    assert line["request_id"] == "check-2"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert len(line["span_id"]) == 16


def test_openapi_document_and_offline_swagger_ui(app, client):
    """/openapi.json documents every health route; Swagger UI loads nothing from another host"""
    with client(app) as http:
        document = http.get("/openapi.json").json()
        assert str(document.get("openapi", "")).startswith("3."), document.get("openapi")
        documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
        for path in ["/health", "/health/live", "/health/ready"]:
            assert (path, "GET") in documented, f"GET {path} is not documented"
        ready = document["paths"]["/health/ready"]["get"]["responses"]
        assert "503" in ready, "readiness documents its 503"
        page = http.get("/docs/swagger/")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        assert not re.findall(r'(?:src|href)="https?://', page.text), "Swagger UI must not load from a CDN"


def test_gunicorn_writes_each_line_once_and_one_access_line(service_dir, tmp_path):
    """under gunicorn every log line is written once, and each request has one access line"""
    import json
    from collections import Counter

    import httpx

    from workbook.serving import Server
    from workbook.services import profile

    log = tmp_path / "server.log"
    # Not /health/live: the server is polled there until it answers. DEBUG: the health checks'
    # access lines are written too (the checks touch no exercise).
    paths = ["/health", "/health/ready"]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "USER_SERVICE_LOG_LEVEL": "DEBUG"}
    with Server(profile(SERVICE), service_dir(SERVICE), env=env, log_path=log) as server:
        for path in paths:
            httpx.get(f"{server.base_url}{path}", timeout=30)
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    repeated = [line for line, count in Counter(lines).items() if count > 1]
    assert not repeated, f"{len(repeated)} log lines are written more than once, e.g.:\n{repeated[0]}"
    for path in paths:
        access = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "access" in str(record.get("logger")) and f" {path} " in f" {record.get('message')} ":
                access.append(record.get("logger"))
        assert len(access) == 1, f"GET {path} has {len(access)} access lines: {access}"


def test_a_connection_lent_past_its_deadline_is_cut_and_the_next_fail_at_once(module):
    """a connection held past db_request_timeout is cut (its reader returns); checkouts then fail at once"""
    import socket
    import threading
    import time

    from sqlalchemy.exc import TimeoutError as PoolTimeout

    connection_module = module("src.database.connection")
    ours, servers = socket.socketpair()  # the server's end never answers: a frozen database

    class Frozen:
        def fileno(self):
            return ours.fileno()

        def cursor(self):
            return self

        def execute(self, statement):
            pass

        def close(self):
            pass

    deadline = connection_module.Deadline(0.3, 2)
    threading.Thread(target=deadline.keep_time, daemon=True).start()
    frozen = Frozen()
    deadline.checkout(frozen, None, None)
    started = time.monotonic()
    ours.settimeout(5)
    try:
        received = ours.recv(1)  # blocks as a query on a frozen server does, until the cut
    except OSError:
        received = b""
    waited = time.monotonic() - started
    servers.close()
    ours.close()
    assert received == b"" and waited < 1.5, f"the blocked read returned after {waited:.1f} s, not at 0.3 s"
    with pytest.raises(PoolTimeout):
        deadline.checkout(Frozen(), None, None)  # the database is stuck: no wait for the next request
    time.sleep(0.4)
    deadline.refuse_while_stuck()  # a deadline later, one request may try the database again
    refused = []

    def another_request():
        try:
            deadline.refuse_while_stuck()
        except PoolTimeout as error:
            refused.append(error)

    other = threading.Thread(target=another_request)
    other.start()
    other.join(5)
    assert refused, "while one request tries the stuck database again, another one must fail at once"
