"""Throughput: every HTTP service against a bare FastAPI + SQLAlchemy app (the task table and its
endpoints, nothing else), side by side in one run, at 16, 64 and 256 connections.

The load generator is wrk (Debian's `wrk`), not Python: on two cores a Python client would be
the bottleneck and measure itself. Each cell runs for about ten seconds on a fresh database and a
fresh server, served as the service's image serves it (`TARGETS`); the baseline and the services
take turns at each connection count, so whatever else the machine is doing weighs on all of them.
The figure to read is the ratio at 64 connections (the goal is at least 0.7 of the baseline) and
the errors at 256 (the goal is none). user-service does the same kind of work on its own table
(a create validates and normalizes an email), so its ratio also holds the cost of that work."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Callable, Mapping, Sequence

from . import process
from .databases import fresh_database
from .errors import UserError
from .paths import repo_root
from .serving import Server
from .services import Profile, profile
from .text import table

CONNECTIONS = (16, 64, 256)
SECONDS = 10
SEEDED = 100  # rows created before each run, read back by the load

# 4 of 5 requests read one row, 1 of 5 creates one. `setup` numbers wrk's threads so that a create
# can be unique where the schema wants it (an email). The summary is one JSON line wrk prints from
# `done()`; latencies are in microseconds.
SCRIPT = Template("""
local first = tonumber(os.getenv("BENCH_FIRST_ID"))
local count = tonumber(os.getenv("BENCH_IDS"))
local threads = 0
local n = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time())
end
function request()
  n = n + 1
  if n % 5 == 0 then
    local body = $create_body
    return wrk.format("POST", "$collection", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "$collection/" .. math.random(first, first + count - 1))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
""")


@dataclass(frozen=True)
class Target:
    """How the bench serves one app and what its load reads and creates."""

    profile: Profile
    collection: str  # the path the load creates under and reads `collection/<id>` from
    create_body: str  # a Lua expression: one create's JSON body (`id`: wrk's thread, `n`: its count)
    seed_body: Callable[[int], dict[str, object]]  # the n-th row created before the load
    argv: tuple[str, ...] = ()  # how to serve it ("{port}" filled in); (): as the gates serve it
    env: Mapping[str, str] = field(default_factory=dict)  # besides DATABASE_URL

    @property
    def name(self) -> str:
        return self.profile.name

    def script(self) -> str:
        return SCRIPT.substitute(collection=self.collection, create_body=self.create_body)


def _task(n: int) -> dict[str, object]:
    return {"title": f"seed {n}"}


def _user(n: int) -> dict[str, object]:
    return {"email": f"seed-{n}@example.com", "name": f"Seed {n}"}


TASK_BODY = """'{"title": "bench", "tags": ["load"]}'"""
USER_BODY = """'{"email": "bench-' .. id .. '-' .. n .. '@example.com", "name": "Bench"}'"""
BASELINE = Profile("baseline", "http", "fastapi", part=0, app_module="app")

# Every HTTP service, served as its image serves it. user-service: gunicorn reads its own
# gunicorn.conf.py (workers, threads, JSON logs); only the address is the bench's.
TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(BASELINE, "/api/v1/tasks", TASK_BODY, _task),
        Target(profile("task-service"), "/api/v1/tasks", TASK_BODY, _task),
        Target(
            profile("user-service"),
            "/api/v1/users",
            USER_BODY,
            _user,
            argv=(
                sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                "--bind", "127.0.0.1:{port}", "src.main:create_app()",
            ),  # fmt: skip
        ),
    )
}
SERVICES = tuple(name for name in TARGETS if name != BASELINE.name)


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


def wrk(
    base_url: str, connections: int, seconds: float, script: Path, first_id: int, ids: int = SEEDED
) -> str:
    argv = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base_url,
    ]
    extra = {"BENCH_FIRST_ID": str(first_id), "BENCH_IDS": str(ids)}
    done = process.run(argv, extra_env=extra, timeout=seconds + 30)
    if done.missing:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk; make system installs it)")
    if not done.ok:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.output[-2000:]}")
    return done.stdout


def seed(base_url: str, target: Target, count: int) -> int:
    """Create `count` rows; the first one's id (the ids that follow are consecutive)."""
    first = 0
    for n in range(count):
        request = urllib.request.Request(
            f"{base_url}{target.collection}",
            data=json.dumps(target.seed_body(n)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
            ident = int(json.load(answer)["id"])
        first = first or ident
    return first


def measure_one(
    target: Target,
    folder: Path,
    connections: int,
    seconds: float,
    server_url: str | None,
    scratch: Path,
    seeded: int = SEEDED,
) -> Cell:
    """One app at one connection count, on a fresh database and a fresh server."""
    script = scratch / f"{target.name}.lua"
    script.write_text(target.script())
    with fresh_database(server_url, scratch, "bench") as database_url:
        log = scratch / f"{target.name}-{connections}.log"
        server = Server(
            target.profile,
            folder,
            env={**target.env, "DATABASE_URL": database_url},
            log_path=log,
            argv=list(target.argv) or None,
        )
        with server:
            first = seed(server.base_url, target, seeded)
            output = wrk(server.base_url, connections, seconds, script, first, seeded)
            return parse(output, target.name, connections)


def take_turns(
    apps: Sequence[tuple[str, Path]],
    connections: int,
    seconds: float,
    database_url: str | None = None,
    seeded: int = SEEDED,
) -> list[Cell]:
    """Each (service name, folder) in turn under the same load: whatever else the machine is
    doing weighs on all of them alike. What `make throughput` runs at each connection count,
    and what notebook 23 runs once, short, for task-service against user-service."""
    scratch = Path(tempfile.mkdtemp(prefix="workbook-throughput-"))
    try:
        return [
            measure_one(target_for(name), folder, connections, seconds, database_url, scratch, seeded)
            for name, folder in apps
        ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def target_for(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise BenchError(f"no bench for {name!r}: it measures {', '.join(TARGETS)}") from None


def reference_services(scratch: Path) -> Path:
    """The reference services as the last checkpoint leaves them, laid out in `scratch`."""
    env = {"WORKBOOK_SERVICES_DIR": str(scratch / "services"), "WORKBOOK_STATE_DIR": str(scratch / "state")}
    (scratch / "services").mkdir(parents=True, exist_ok=True)
    listing = process.run([sys.executable, "-m", "workbook", "checkpoints"], cwd=repo_root(), extra_env=env)
    if not listing.ok or not listing.stdout.strip():
        raise BenchError(f"could not list the checkpoints:\n{listing.output}")
    last = listing.stdout.strip().splitlines()[-1].split()[0]
    reset = process.run([sys.executable, "-m", "workbook", "reset", last], cwd=repo_root(), extra_env=env)
    if not reset.ok:
        raise BenchError(f"could not lay out the reference services:\n{reset.output}")
    return scratch / "services"


@dataclass(frozen=True)
class Round:
    """Every service and the baseline at one connection count."""

    connections: int
    baseline: Cell
    services: tuple[Cell, ...]


def measure(
    services: Sequence[str] = SERVICES,
    root: Path | None = None,
    connections: Sequence[int] = CONNECTIONS,
    seconds: float = SECONDS,
    database_url: str | None = None,
) -> list[Round]:
    """The baseline and each service, in turns, at each connection count; `root` (the folder that
    holds the services) default: the reference services."""
    scratch = Path(tempfile.mkdtemp(prefix="workbook-throughput-"))
    try:
        root = root or reference_services(scratch)
        apps = [(BASELINE.name, repo_root() / "gates" / "baseline")]
        apps += [(name, root / name) for name in services]
        rounds = []
        for count in connections:
            baseline, *ours = take_turns(apps, count, seconds, database_url)
            rounds.append(Round(count, baseline, tuple(ours)))
        return rounds
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ratio(cell: Cell, reference: Cell) -> float:
    """`cell`'s requests per second as a share of `reference`'s (0 when the reference hung)."""
    return cell.requests_per_second / reference.requests_per_second if reference.requests_per_second else 0.0


def _latency(cell: Cell, value: float) -> str:
    return "-" if cell.hung else f"{value:.1f}"


def _errors(cell: Cell) -> str:
    return "all hung" if cell.hung else str(cell.errors)


def cell_columns(cell: Cell) -> list[object]:
    """req/s, p50 ms, p99 ms, errors."""
    return [
        f"{cell.requests_per_second:.0f}",
        _latency(cell, cell.p50_ms),
        _latency(cell, cell.p99_ms),
        _errors(cell),
    ]


CELL_HEADER = ["req/s", "p50 ms", "p99 ms", "errors"]


def render(rounds: Sequence[Round], style: str = "text") -> str:
    header = ["connections", "service", *CELL_HEADER, "baseline req/s", "p50 ms", "p99 ms", "errors", "ratio"]
    rows = [
        [
            turn.connections,
            ours.app,
            *cell_columns(ours),
            *cell_columns(turn.baseline),
            f"{ratio(ours, turn.baseline):.2f}",
        ]
        for turn in rounds
        for ours in turn.services
    ]
    return table(header, rows, style="markdown" if style == "markdown" else "text")


def render_cells(cells: Sequence[Cell]) -> str:
    """Cells of one run (one connection count), one row each."""
    rows = [[cell.app, cell.connections, *cell_columns(cell)] for cell in cells]
    return table(["app", "connections", *CELL_HEADER], rows)


def report(seconds: float = SECONDS, style: str = "text") -> str:
    """What `make bench` and `make throughput` print: the table, on PostgreSQL when
    TEST_DATABASE_URL names one, else on SQLite, with a line saying which."""
    database_url = os.environ.get("TEST_DATABASE_URL") or None
    rounds = measure(seconds=seconds, database_url=database_url)
    where = "PostgreSQL" if database_url else "SQLite"
    title = (
        f"{', '.join(SERVICES)} against a bare FastAPI + SQLAlchemy app on {where}, wrk {seconds:g} s "
        "per cell, 4 reads to 1 create (goal: ratio >= 0.7 at 64 connections, 0 errors at 256)"
    )
    return title + "\n" + render(rounds, style)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    seconds = float(args[0]) if args else SECONDS
    try:
        print(report(seconds=seconds), flush=True)
    except UserError as error:
        print(f"throughput: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
