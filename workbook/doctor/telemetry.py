"""The OpenTelemetry endpoint: with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set, a collector must answer
there, or every span is dropped after a timeout (the checklist's "traces not appearing"). Set in the
environment, it serves every service; else each HTTP service's `.env` is read, as its settings read
it (pydantic-settings), and checked for that service.

A TCP connection proves only that something listens: the probe POSTs an empty OTLP/HTTP export (a
valid request that carries no span) to the traces path, as the exporter does, so a web server or
another service on that port is told apart from a collector."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values

from ..services import profile_for
from .base import Context, Finding, Job, first_line, within

POST_SECONDS = 3.0
TRACES_PATH = "/v1/traces"  # what the exporter appends to OTEL_EXPORTER_OTLP_ENDPOINT
NAME = "OpenTelemetry"
VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")  # the first wins
SETTING = VARIABLES[1]  # the one a service's settings read, from the environment or its .env


def jobs(ctx: Context) -> list[Job]:
    return [(NAME, lambda: check_otel(ctx))]


def traces_url(variable: str, endpoint: str) -> str:
    """Where spans go: the traces variable as it is, the general one with /v1/traces appended."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    path = parts.path if variable.endswith("TRACES_ENDPOINT") else parts.path.rstrip("/") + TRACES_PATH
    return urlunsplit((parts.scheme, parts.netloc, path or "/", parts.query, ""))


def post_export(url: str, timeout: float = POST_SECONDS) -> tuple[int, str]:
    """(status, content type) of an empty protobuf export POSTed to `url`; OSError when nothing answers."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection

    def attempt() -> tuple[int, str]:
        connection = kind(parts.hostname or "", parts.port, timeout=timeout)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=b"", headers={"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("Content-Type", "")
        finally:
            connection.close()

    return within(timeout + 1, attempt)


def check_otel(ctx: Context) -> list[Finding]:
    """The environment's endpoint, else the one each HTTP service's .env gives its settings."""
    variable = next((v for v in VARIABLES if ctx.env.get(v, "").strip()), "")
    if variable:
        return [check_endpoint(NAME, variable, ctx.env[variable].strip())]
    findings = []
    for service in ctx.services():
        values = dotenv_file(service) if profile_for(service).is_http else {}
        endpoint = (values.get(SETTING) or "").strip()
        if endpoint:
            findings.append(check_endpoint(f"{NAME}: {service.name}/.env", SETTING, endpoint))
    return findings or [Finding(NAME, "ok", "OTEL_EXPORTER_OTLP_ENDPOINT not set: spans stay local")]


def dotenv_file(service: Path) -> dict[str, str | None]:
    dotenv = service / ".env"
    return dict(dotenv_values(dotenv)) if dotenv.is_file() else {}


def check_endpoint(name: str, variable: str, endpoint: str) -> Finding:
    try:
        url = traces_url(variable, endpoint)
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:
        host = None
    if not host or parts.scheme not in ("http", "https"):
        return Finding(name, "fail", f"{variable}={endpoint} is not a URL", "write it as http://HOST:4318")
    start = f"start a collector there (OTLP/HTTP: port 4318), or unset {variable} to trace only locally"
    try:
        status, content_type = post_export(url)
    except (OSError, http.client.HTTPException) as error:
        reason = "connection refused" if isinstance(error, ConnectionRefusedError) else first_line(error)
        return Finding(name, "fail", f"{variable}={endpoint}: no collector at {url} ({reason})", start)
    if 200 <= status < 300 and "html" not in content_type:
        return Finding(name, "ok", f"{variable}={endpoint}: a collector accepts spans at {url}")
    other = f"{variable}={endpoint}: {url} answers HTTP {status}" + (
        f" ({content_type})" if content_type else ""
    )
    fix = (
        "some other server listens there, not an OTLP/HTTP collector: point the variable at the "
        f"collector's OTLP/HTTP port (4318; 4317 is gRPC), or {start.split(', or ')[1]}"
    )
    return Finding(name, "fail", other, fix)
