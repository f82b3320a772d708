"""The OpenTelemetry endpoint: with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set, a collector must answer
there, or every span is dropped after a timeout (the checklist's "traces not appearing").

A TCP connection proves only that something listens: the probe POSTs an empty OTLP/HTTP export (a
valid request that carries no span) to the traces path, as the exporter does, so a web server or
another service on that port is told apart from a collector."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit, urlunsplit

from .base import Context, Finding, Job, first_line, within

POST_SECONDS = 3.0
TRACES_PATH = "/v1/traces"  # what the exporter appends to OTEL_EXPORTER_OTLP_ENDPOINT


def jobs(ctx: Context) -> list[Job]:
    return [("OpenTelemetry", lambda: check_otel(ctx))]


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
    name = "OpenTelemetry"
    names = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")  # the first wins for spans
    variable = next((v for v in names if ctx.env.get(v, "").strip()), "")
    if not variable:
        return [Finding(name, "ok", "OTEL_EXPORTER_OTLP_ENDPOINT not set: spans stay local")]
    endpoint = ctx.env[variable].strip()
    try:
        url = traces_url(variable, endpoint)
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:
        host = None
    if not host or parts.scheme not in ("http", "https"):
        return [Finding(name, "fail", f"{variable}={endpoint} is not a URL", "write it as http://HOST:4318")]
    start = f"start a collector there (OTLP/HTTP: port 4318), or unset {variable} to trace only locally"
    try:
        status, content_type = post_export(url)
    except (OSError, http.client.HTTPException) as error:
        reason = "connection refused" if isinstance(error, ConnectionRefusedError) else first_line(error)
        return [Finding(name, "fail", f"{variable}={endpoint}: no collector at {url} ({reason})", start)]
    if 200 <= status < 300 and "html" not in content_type:
        return [Finding(name, "ok", f"{variable}={endpoint}: a collector accepts spans at {url}")]
    other = f"{variable}={endpoint}: {url} answers HTTP {status}" + (
        f" ({content_type})" if content_type else ""
    )
    fix = (
        "some other server listens there, not an OTLP/HTTP collector: point the variable at the "
        f"collector's OTLP/HTTP port (4318; 4317 is gRPC), or {start.split(', or ')[1]}"
    )
    return [Finding(name, "fail", other, fix)]
