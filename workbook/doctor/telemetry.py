"""The OpenTelemetry endpoint: with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set, a collector must listen
there, or every span is dropped after a timeout (the checklist's "traces not appearing")."""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import Context, Finding, Job, tcp_problem


def jobs(ctx: Context) -> list[Job]:
    return [("OpenTelemetry", lambda: check_otel(ctx))]


def check_otel(ctx: Context) -> list[Finding]:
    name = "OpenTelemetry"
    names = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")  # the first wins for spans
    variable = next((v for v in names if ctx.env.get(v, "").strip()), "")
    if not variable:
        return [Finding(name, "ok", "OTEL_EXPORTER_OTLP_ENDPOINT not set: spans stay local")]
    endpoint = ctx.env[variable].strip()
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        host = None
    if not host:
        return [Finding(name, "fail", f"{variable}={endpoint} is not a URL", "write it as http://HOST:4318")]
    problem = tcp_problem(host, port)
    if problem:
        fix = f"start a collector there (OTLP/HTTP: port 4318), or unset {variable} to trace only locally"
        return [
            Finding(name, "fail", f"{variable}={endpoint}: no collector at {host}:{port} ({problem})", fix)
        ]
    return [Finding(name, "ok", f"{variable}={endpoint}: a collector listens at {host}:{port}")]
