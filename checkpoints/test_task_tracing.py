"""Checkpoint task-tracing (notebook 09, step 2.9): OpenTelemetry in task-service.

Spans for the route and for its SQL, parented in one trace; the service's resource; health checks
left out; OTLP export only when an endpoint is configured (batched), the console on request; JSON
log lines that carry the request's trace id; a parent-based ratio sampler whose unrecorded requests
keep their trace id; and the doctor's warning about a dead collector."""

from __future__ import annotations

import inspect
import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from workbook.paths import repo_root, services_root

LoadService = Callable[[str, str], ModuleType]
TASKS = "/api/v1/tasks"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The learner's shell may export OTEL_* variables: every check states its own."""
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)


class Service:
    """task-service as it is on disk: `app(**settings)` builds an application with its settings."""

    def __init__(self, load_service: LoadService, folder: Path) -> None:
        self.main = load_service("task-service", "src.main")
        self.settings_module = sys.modules["src.config.settings"]
        self.version = str(getattr(sys.modules["src"], "__version__", ""))
        self.folder = folder

    def app(self, **overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "database_url": f"sqlite:///{self.folder / 'tasks.db'}",
            "environment": "test",
            "otel_exporter_otlp_endpoint": None,
            "otel_sample_ratio": 1.0,  # every request recorded, unless a check samples
        }
        fields.update(overrides)
        return self.main.create_app(self.settings_module.Settings(**fields))


@pytest.fixture
def service(load_service: LoadService, tmp_path: Path) -> Service:
    return Service(load_service, tmp_path)


def provider_of(app: Any) -> TracerProvider:
    provider = getattr(app.state, "tracer_provider", None)
    assert isinstance(provider, TracerProvider), (
        "setup_tracing(app, settings) must store its TracerProvider in app.state.tracer_provider, "
        f"found {provider!r}"
    )
    return provider


def record_spans(app: Any) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider_of(app).add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def attribute(span: ReadableSpan, *names: str) -> Any:
    """The first of `names` the span has (old and new semantic conventions name things differently)."""
    attributes = span.attributes or {}
    return next((attributes[name] for name in names if name in attributes), None)


def request(app: Any, method: str, path: str, **kwargs: Any) -> tuple[Any, list[ReadableSpan]]:
    from fastapi.testclient import TestClient

    exporter = record_spans(app)
    with TestClient(app) as client:
        exporter.clear()  # startup's spans (creating the tables) are not this request's
        response = client.request(method, path, **kwargs)
    return response, list(exporter.get_finished_spans())


def server_span(spans: list[ReadableSpan]) -> ReadableSpan:
    servers = [span for span in spans if span.kind == SpanKind.SERVER]
    names = [span.name for span in spans]
    assert len(servers) == 1, f"expected one SERVER span for the request, got spans {names}"
    return servers[0]


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[int]:
    by_id = {s.context.span_id: s for s in spans}
    chain: list[int] = []
    parent = span.parent
    while parent is not None:
        chain.append(parent.span_id)
        parent = by_id[parent.span_id].parent if parent.span_id in by_id else None
    return chain


def test_route_and_query_spans(service: Service) -> None:
    """POST /api/v1/tasks gives a SERVER span and an INSERT span under it, in one trace"""
    response, spans = request(service.app(), "POST", TASKS, json={"title": "trace me"})
    assert response.status_code == 201, response.text
    server = server_span(spans)
    assert server.name == f"POST {TASKS}"
    assert attribute(server, "http.route") == TASKS
    assert attribute(server, "http.request.method", "http.method") == "POST"
    assert attribute(server, "http.response.status_code", "http.status_code") == 201
    inserts = [
        span
        for span in spans
        if span.kind == SpanKind.CLIENT
        and "INSERT INTO tasks" in str(attribute(span, "db.statement", "db.query.text") or "")
    ]
    assert inserts, f"no CLIENT span carries the INSERT statement: {[s.name for s in spans]}"
    insert = inserts[0]
    assert attribute(insert, "db.system", "db.system.name") == "sqlite"
    assert insert.context.trace_id == server.context.trace_id, "the INSERT span is in another trace"
    assert server.context.span_id in ancestors(insert, spans), "the INSERT span is not under the request"


def test_resource_names_the_service(service: Service) -> None:
    """every span says which service, version and environment produced it"""
    app = service.app(otel_service_name="tasks-under-test", environment="production")
    attributes = dict(provider_of(app).resource.attributes)
    assert attributes.get("service.name") == "tasks-under-test", attributes
    assert attributes.get("service.version") == service.version, attributes
    environment = attributes.get("deployment.environment.name", attributes.get("deployment.environment"))
    assert environment == "production", attributes


def test_health_checks_are_not_traced(service: Service) -> None:
    """/health and its siblings produce no span at all, SQL included"""
    app = service.app()
    paths = sorted(path for path in app.openapi()["paths"] if path.startswith("/health"))
    assert paths, "the app has no /health route"
    for path in paths:
        response, spans = request(app, "GET", path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        assert not spans, f"GET {path} produced spans {[s.name for s in spans]}"


def logged_while(action: Callable[[], Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Run `action()` with the root logger's stream handlers writing to a buffer: its result, and
    the JSON log lines it wrote (a line that is not JSON fails the check)."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest")
    ]
    assert handlers, "configure_logging() installs no handler on the root logger"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    try:
        result = action()
    finally:
        for handler, stream in zip(handlers, previous):
            if stream is not None:
                handler.setStream(stream)
    lines = []
    for text in buffer.getvalue().splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {text[:200]}")
    return result, lines


def test_log_line_carries_the_trace_id(service: Service) -> None:
    """the request's JSON log line carries its trace id and span id"""
    app = service.app()
    (response, spans), lines = logged_while(lambda: request(app, "POST", TASKS, json={"title": "log me"}))
    assert response.status_code == 201
    trace_id = format(server_span(spans).context.trace_id, "032x")
    span_ids = {format(span.context.span_id, "016x") for span in spans}
    carrying = [line for line in lines if isinstance(line, dict) and line.get("trace_id") == trace_id]
    assert carrying, f"no log line carries the request's trace id {trace_id}; lines: {lines[:4]}"
    assert all(line.get("span_id") in span_ids for line in carrying), carrying
    assert any(TASKS in json.dumps(line) for line in carrying), "no line names the request's path"


CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def traceparent(flags: str) -> dict[str, str]:
    return {"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-{flags}"}


def test_sampler_records_the_ratio_of_new_traces(service: Service) -> None:
    """otel_sample_ratio decides which new traces are recorded: 0 none, 1 all, 0.5 some of them"""
    _, none = request(service.app(otel_sample_ratio=0.0), "GET", TASKS)
    assert not none, f"otel_sample_ratio=0 still recorded {[s.name for s in none]}"
    _, every = request(service.app(otel_sample_ratio=1.0), "GET", TASKS)
    assert server_span(every), "otel_sample_ratio=1 recorded no SERVER span"
    from fastapi.testclient import TestClient

    app = service.app(otel_sample_ratio=0.5)
    exporter = record_spans(app)
    with TestClient(app) as client:
        exporter.clear()
        for _ in range(60):
            client.get(TASKS)
    servers = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert 5 <= len(servers) <= 55, f"otel_sample_ratio=0.5 recorded {len(servers)} of 60 requests"


def test_sampler_follows_the_caller(service: Service) -> None:
    """a request with a traceparent keeps the caller's decision, and its SQL spans follow it"""
    _, kept = request(
        service.app(otel_sample_ratio=0.0),
        "POST",
        TASKS,
        json={"title": "t"},
        headers=traceparent("01"),
    )
    server = server_span(kept)
    assert format(server.context.trace_id, "032x") == CALLER_TRACE
    assert any(s.kind == SpanKind.CLIENT for s in kept), "the recorded request lost its SQL spans"
    _, dropped = request(
        service.app(otel_sample_ratio=1.0),
        "POST",
        TASKS,
        json={"title": "t"},
        headers=traceparent("00"),
    )
    assert not dropped, f"the caller did not record its trace, yet we recorded {[s.name for s in dropped]}"


def test_unrecorded_request_keeps_its_trace_id(service: Service) -> None:
    """a request that is not recorded still has a trace id: in X-Trace-Id and in its log lines"""
    app = service.app(otel_sample_ratio=0.0)
    (response, spans), lines = logged_while(lambda: request(app, "POST", TASKS, json={"title": "t"}))
    assert response.status_code == 201 and not spans
    trace_id = response.headers.get("X-Trace-Id", "")
    assert len(trace_id) == 32 and int(trace_id, 16), f"X-Trace-Id {trace_id!r} is not a trace id"
    carrying = [line for line in lines if isinstance(line, dict) and line.get("trace_id") == trace_id]
    assert carrying, f"no log line carries the unrecorded request's trace id; lines: {lines[:4]}"
    (answer, _), _ = logged_while(lambda: request(app, "GET", TASKS, headers=traceparent("00")))
    assert answer.headers.get("X-Trace-Id") == CALLER_TRACE, "X-Trace-Id is not the caller's trace id"


def test_standard_sampler_variable_wins(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_TRACES_SAMPLER, when set, chooses the sampler (the SDK builds it), whatever the ratio"""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    _, spans = request(service.app(otel_sample_ratio=1.0), "GET", TASKS)
    assert not spans, "OTEL_TRACES_SAMPLER=always_off, yet spans were recorded"
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    _, spans = request(service.app(otel_sample_ratio=0.0), "GET", TASKS)
    assert spans, "OTEL_TRACES_SAMPLER=always_on, yet no span was recorded"


def test_no_ids_outside_a_span(load_service: LoadService) -> None:
    """outside any span, current_trace_ids() is {} and a log line carries no ids"""
    from opentelemetry import trace

    module = load_service("task-service", "src.observability.logging")
    assert not trace.get_current_span().get_span_context().is_valid, "the check itself runs inside a span"
    ids = module.current_trace_ids()
    assert ids == {}, f"outside any span current_trace_ids() returned {ids!r}, not {{}}"
    record = logging.LogRecord("checkpoint", logging.WARNING, __file__, 1, "outside any span", None, None)
    line = json.loads(module.JsonFormatter().format(record))
    stray = sorted(key for key in ("trace_id", "span_id") if key in line)
    assert not stray, f"a line written outside any span carries {stray}: {line}"


def test_one_span_per_request_not_per_message(service: Service) -> None:
    """a request gives its SERVER span and its SQL spans, no span per ASGI send or receive"""
    response, spans = request(service.app(), "POST", TASKS, json={"title": "no message spans"})
    assert response.status_code == 201, response.text
    server_span(spans)
    per_message = sorted(
        {
            span.name
            for span in spans
            if attribute(span, "asgi.event.type") or span.name.endswith((" send", " receive"))
        }
    )
    assert not per_message, f"spans for single ASGI messages: {per_message}"


def test_no_exporter_without_endpoint(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """without an endpoint: no OTLP exporter, no export errors, a fast shutdown"""
    created: list[object] = []
    original = OTLPSpanExporter.__init__

    def counting_init(self: OTLPSpanExporter, *args: Any, **kwargs: Any) -> None:
        created.append(kwargs.get("endpoint", args[0] if args else None))
        original(self, *args, **kwargs)

    monkeypatch.setattr(OTLPSpanExporter, "__init__", counting_init)
    app = service.app()
    assert not created, f"an OTLP exporter was created without an endpoint ({created})"
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("opentelemetry").addHandler(handler)
    try:
        response, _ = request(app, "POST", TASKS, json={"title": "quiet"})
        started = time.monotonic()
        provider_of(app).shutdown()
        elapsed = time.monotonic() - started
    finally:
        logging.getLogger("opentelemetry").removeHandler(handler)
    assert response.status_code == 201
    assert not records, [record.getMessage() for record in records]
    assert elapsed < 2, f"shutting the tracer provider down took {elapsed:.1f} s"


class Collector(ThreadingHTTPServer):
    """A minimal OTLP/HTTP collector: it keeps every export request it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        super().__init__(("127.0.0.1", 0), CollectorHandler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def span_names(self) -> list[str]:
        names = []
        for path, body in self.received:
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            for resource_spans in message.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    names += [span.name for span in scope_spans.spans]
        return names


class CollectorHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        assert isinstance(self.server, Collector)
        self.server.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_otlp_export_when_endpoint_set(
    service: Service, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are batched and sent to <endpoint>/v1/traces"""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")  # a batch waits a minute: only the flush sends
    timeouts: list[object] = []
    original = OTLPSpanExporter.__init__

    def recording_init(self: OTLPSpanExporter, *args: Any, **kwargs: Any) -> None:
        timeouts.append(inspect.signature(original).bind(self, *args, **kwargs).arguments.get("timeout"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(OTLPSpanExporter, "__init__", recording_init)
    app = service.app(otel_exporter_otlp_endpoint=collector.endpoint)
    wanted = sys.modules["src.observability.tracing"].EXPORT_TIMEOUT_SECONDS
    assert timeouts == [wanted], (
        f"OTLP exporters created with timeout {timeouts}: pass timeout=EXPORT_TIMEOUT_SECONDS ({wanted}),"
        " or a dead collector holds the shutdown for the exporter's default 10 s"
    )
    response, _ = request(app, "POST", TASKS, json={"title": "export me"})
    assert response.status_code == 201
    assert not collector.received, "spans were sent one by one as they ended: use a BatchSpanProcessor"
    assert provider_of(app).force_flush(10_000), "force_flush() did not finish"
    paths = {path for path, _ in collector.received}
    assert paths == {"/v1/traces"}, f"the collector received requests at {paths or 'no path'}"
    assert f"POST {TASKS}" in collector.span_names(), collector.span_names()
    provider_of(app).shutdown()


def test_console_exporter_on_request(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_TRACES_EXPORTER=console prints the spans"""
    printed = io.StringIO()
    original = ConsoleSpanExporter.__init__

    def to_buffer(self: ConsoleSpanExporter, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "out": printed})

    monkeypatch.setattr(ConsoleSpanExporter, "__init__", to_buffer)
    quiet, _ = request(service.app(), "POST", TASKS, json={"title": "not printed"})
    assert quiet.status_code == 201 and not printed.getvalue(), "spans are printed without being asked"
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    response, _ = request(service.app(), "POST", TASKS, json={"title": "printed"})
    assert response.status_code == 201
    assert f'"name": "POST {TASKS}"' in printed.getvalue(), printed.getvalue()[:500] or "nothing printed"


def test_doctor_reports_unreachable_collector(tmp_path: Path, closed_port: Callable[[], int]) -> None:
    """`make doctor` fails on an OTLP endpoint that nothing listens at"""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "WORKBOOK_SERVICES_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "workbook", "doctor"],
        cwd=repo_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if "OpenTelemetry" in line]
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert lines and lines[0].startswith("FAIL") and endpoint in lines[0], done.stdout


def test_one_log_record_per_500(service: Service) -> None:
    """a 500 is one ERROR line with its traceback, the request id and the trace id the client got"""
    from fastapi.testclient import TestClient

    def has_a_bug() -> None:
        raise RuntimeError("checkpoint: a bug in a route")

    app = service.app()
    app.add_api_route("/checkpoint/bug", has_a_bug, methods=["GET"])

    def call() -> Any:
        # The client raises what escapes the app: a server would log it a second time.
        with TestClient(app) as client:
            return client.get("/checkpoint/bug", headers={"X-Request-ID": "checkpoint-500"})

    response, lines = logged_while(call)
    assert response.status_code == 500
    errors = [line for line in lines if line.get("level") in ("ERROR", "CRITICAL")]
    assert len(errors) == 1, f"{len(errors)} ERROR lines for one 500: {errors}"
    [error] = errors
    assert "checkpoint: a bug" in str(error.get("exception", "")), f"no traceback in the line: {error}"
    assert error.get("request_id") == "checkpoint-500", f"the line's request_id: {error.get('request_id')!r}"
    returned = response.headers.get("x-trace-id")
    assert (
        returned and error.get("trace_id") == returned
    ), f"the answer's X-Trace-Id {returned!r}, the line's trace_id {error.get('trace_id')!r}"


def test_server_log_is_json(service: Service, closed_port: Callable[[], int]) -> None:
    """served by uvicorn, every line of the log is JSON, uvicorn's startup and access lines included"""
    port = closed_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{service.folder / 'served.db'}"}
    env.pop("TASK_SERVICE_DATABASE_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "src.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=services_root() / "task-service",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, "the server exited at startup"
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.2)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-route", timeout=5)
        except urllib.error.HTTPError:
            pass
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = [line for line in output.splitlines() if line.strip()]
    plain = []
    for line in lines:
        try:
            json.loads(line)
        except json.JSONDecodeError:
            plain.append(line)
    assert not plain, f"{len(plain)} of {len(lines)} lines are not JSON, e.g.: " + " | ".join(plain[:3])
    loggers = {json.loads(line).get("logger") for line in lines}
    assert {
        "uvicorn.error",
        "uvicorn.access",
    } <= loggers, f"uvicorn's lines are missing: loggers {loggers}"
