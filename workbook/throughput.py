"""Throughput: a service against a bare FastAPI + SQLAlchemy app with the same table and
endpoints, side by side in one run, at 16, 64 and 256 connections.

The load generator is wrk (Debian's `wrk`), not Python: on two cores a Python client would be
the bottleneck and measure itself. Each cell runs for about ten seconds on a fresh database and a
fresh server; the service and the baseline take turns at each connection count, so whatever else
the machine is doing weighs on both. The figure to read is the ratio at 64 connections (the goal
is at least 0.7 of the baseline) and the errors at 256 (the goal is none)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


from . import process
from .databases import fresh_database
from .errors import UserError
from .paths import repo_root
from .serving import Server
from .services import Profile, profile
from .text import table

CONNECTIONS = (16, 64, 256)
SECONDS = 10
SEEDED = 100  # tasks created before each run, read back by the load
BASELINE = Profile("baseline", "http", "fastapi", part=0, app_module="app")

# 4 of 5 requests read one task, 1 of 5 creates one. The summary is one JSON line wrk prints
# from `done()`; latencies are in microseconds.
SCRIPT = """
local first = tonumber(os.getenv("BENCH_FIRST_ID"))
local count = tonumber(os.getenv("BENCH_IDS"))
local n = 0
local body = '{"title": "bench", "tags": ["load"]}'
function init(args)
  math.randomseed(os.time())
end
function request()
  n = n + 1
  if n % 5 == 0 then
    return wrk.format("POST", "/api/v1/tasks", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/api/v1/tasks/" .. math.random(first, first + count - 1))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class BenchError(UserError):
    """The bench cannot run here (no wrk, a service that does not start)."""


@dataclass(frozen=True)
class Cell:
    """One app at one connection count."""

    app: str
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus connect, read, write and timeout errors

    @property
    def hung(self) -> bool:
        """No request finished: wrk counts no error for a request that never answers."""
        return self.requests_per_second == 0


def parse(output: str, app: str, connections: int) -> Cell:
    """The cell from wrk's output, read from the JSON line the script prints."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line.removeprefix("BENCH "))
            seconds = max(data["duration_us"], 1) / 1e6
            errors = sum(data[key] for key in ("status", "connect", "read", "write", "timeout"))
            return Cell(
                app,
                connections,
                data["requests"] / seconds,
                data["p50_us"] / 1000,
                data["p99_us"] / 1000,
                errors,
            )
    raise BenchError(f"wrk printed no summary for {app} at {connections} connections:\n{output[-2000:]}")


def wrk(base_url: str, connections: int, seconds: int, script: Path, first_id: int) -> str:
    argv = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base_url,
    ]
    extra = {"BENCH_FIRST_ID": str(first_id), "BENCH_IDS": str(SEEDED)}
    done = process.run(argv, extra_env=extra, timeout=seconds + 30)
    if done.missing:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk; make system installs it)")
    if not done.ok:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.output[-2000:]}")
    return done.stdout


def seed(base_url: str, count: int) -> int:
    """Create `count` tasks; the first one's id (the ids that follow are consecutive)."""
    first = 0
    for n in range(count):
        request = urllib.request.Request(
            f"{base_url}/api/v1/tasks",
            data=json.dumps({"title": f"seed {n}"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
            ident = int(json.load(answer)["id"])
        first = first or ident
    return first


def measure_one(
    app: Profile, folder: Path, connections: int, seconds: int, server_url: str | None, scratch: Path
) -> Cell:
    script = scratch / "bench.lua"
    script.write_text(SCRIPT)
    with fresh_database(server_url, scratch, "bench") as database_url:
        log = scratch / f"{app.name}-{connections}.log"
        with Server(app, folder, env={"DATABASE_URL": database_url}, log_path=log) as server:
            first = seed(server.base_url, SEEDED)
            return parse(wrk(server.base_url, connections, seconds, script, first), app.name, connections)


def reference_service(name: str, scratch: Path) -> Path:
    """The reference service as the last checkpoint leaves it, laid out in `scratch`."""
    env = {"WORKBOOK_SERVICES_DIR": str(scratch / "services"), "WORKBOOK_STATE_DIR": str(scratch / "state")}
    (scratch / "services").mkdir(parents=True, exist_ok=True)
    listing = process.run([sys.executable, "-m", "workbook", "checkpoints"], cwd=repo_root(), extra_env=env)
    if not listing.ok or not listing.stdout.strip():
        raise BenchError(f"could not list the checkpoints:\n{listing.output}")
    last = listing.stdout.strip().splitlines()[-1].split()[0]
    reset = process.run([sys.executable, "-m", "workbook", "reset", last], cwd=repo_root(), extra_env=env)
    if not reset.ok:
        raise BenchError(f"could not lay out the reference services:\n{reset.output}")
    return scratch / "services" / name


def measure(
    service: str = "task-service",
    folder: Path | None = None,
    connections: Sequence[int] = CONNECTIONS,
    seconds: int = SECONDS,
    database_url: str | None = None,
) -> list[tuple[Cell, Cell]]:
    """(service, baseline) cells at each connection count; `folder` default: the reference."""
    scratch = Path(tempfile.mkdtemp(prefix="workbook-throughput-"))
    try:
        folder = folder or reference_service(service, scratch)
        baseline = repo_root() / "gates" / "baseline"
        pairs = []
        for count in connections:
            ours = measure_one(profile(service), folder, count, seconds, database_url, scratch)
            theirs = measure_one(BASELINE, baseline, count, seconds, database_url, scratch)
            pairs.append((ours, theirs))
        return pairs
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def render(pairs: Sequence[tuple[Cell, Cell]], style: str = "text") -> str:
    header = [
        "connections",
        "service req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "baseline req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "ratio",
    ]

    def latency(cell: Cell, value: float) -> str:
        return "-" if cell.hung else f"{value:.1f}"

    def errors(cell: Cell) -> str:
        return "all hung" if cell.hung else str(cell.errors)

    rows = []
    for ours, theirs in pairs:
        ratio = ours.requests_per_second / theirs.requests_per_second if theirs.requests_per_second else 0.0
        rows.append(
            [
                ours.connections,
                f"{ours.requests_per_second:.0f}",
                latency(ours, ours.p50_ms),
                latency(ours, ours.p99_ms),
                errors(ours),
                f"{theirs.requests_per_second:.0f}",
                latency(theirs, theirs.p50_ms),
                latency(theirs, theirs.p99_ms),
                errors(theirs),
                f"{ratio:.2f}",
            ]
        )
    return table(header, rows, style="markdown" if style == "markdown" else "text")


def report(service: str = "task-service", seconds: int = SECONDS, style: str = "text") -> str:
    """What `make bench` and `make throughput` print: the table, on PostgreSQL when
    TEST_DATABASE_URL names one, else on SQLite, with a line saying which."""
    database_url = os.environ.get("TEST_DATABASE_URL") or None
    pairs = measure(service, seconds=seconds, database_url=database_url)
    where = "PostgreSQL" if database_url else "SQLite"
    title = (
        f"{service} against a bare FastAPI + SQLAlchemy app on {where}, wrk {seconds} s per cell, "
        "4 reads to 1 create (goal: ratio >= 0.7 at 64 connections, 0 errors at 256)"
    )
    return title + "\n" + render(pairs, style)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    seconds = int(args[0]) if args else SECONDS
    try:
        print(report(seconds=seconds), flush=True)
    except UserError as error:
        print(f"throughput: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
