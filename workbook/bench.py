"""`python -m workbook bench`: how long a learner waits for `check`, `reset` and `replay`.

Each command runs as the learner runs it, a fresh `python -m workbook` process, against scratch
services and state folders laid out by the solutions. Every checkpoint is timed once (some build an
image or run a whole test suite, and the table shows which), reset three times, and the replay once
as CI runs it. A benchmark informs, it never gates: the table says which operations are within their
targets, and the exit status is 0 unless an operation failed to run at all."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import process, registry
from .cells import checkpoint_order, ordered_notebooks, writes_until
from .paths import solutions_dir
from .text import plural, seconds, table
from .writer import write_all

TARGET_SECONDS = {"check": 5.0, "reset": 2.0, "replay": 180.0}
RUNS = {"check": 1, "reset": 3, "replay": 1}
TIMEOUT_SECONDS = {"check": 600.0, "reset": 20.0, "replay": 1800.0}  # then stopped and reported
REPLAY_WORKERS = 2  # as `make test` replays


@dataclass(frozen=True)
class Timing:
    seconds: float
    returncode: int
    output: str = ""


@dataclass(frozen=True)
class Row:
    operation: str
    target_seconds: float
    runs: int = 0
    median_seconds: float | None = None
    problem: str = ""  # why the timing is not a clean measurement ("" when every run succeeded)

    @property
    def ratio(self) -> float | None:
        return None if self.median_seconds is None else self.median_seconds / self.target_seconds

    @property
    def within_target(self) -> str:
        if self.problem or self.ratio is None:
            return "-"
        return "yes" if self.ratio < 1 else "no"


Runner = Callable[[list[str], dict[str, str], float], Timing]


def run_timed(command: list[str], env: dict[str, str], timeout: float) -> Timing:
    """Wall-clock seconds of one command, its exit status and the tail of its output (124: timed out)."""
    started = time.perf_counter()
    done = process.run(command, env=env, timeout=timeout)
    return Timing(time.perf_counter() - started, done.returncode, done.output[-2000:])


def summarize(operation: str, target_seconds: float, timings: list[Timing]) -> Row:
    """The median of the runs; the first failure, if any, as the row's problem."""
    if not timings:
        return Row(operation, target_seconds, problem="not run")
    failed = [t for t in timings if t.returncode != 0]
    problem = ""
    if failed:
        last_line = (failed[0].output.strip().splitlines() or [""])[-1]
        problem = f"exit {failed[0].returncode}: {last_line}"[:100]
    median = statistics.median(t.seconds for t in timings)
    return Row(operation, target_seconds, len(timings), median, problem)


def render_table(rows: list[Row]) -> str:
    header = ("operation", "runs", "median s", "target s", "ratio", "within target", "note")
    cells = [
        (
            row.operation,
            str(row.runs),
            "-" if row.median_seconds is None else f"{row.median_seconds:.2f}",
            f"{row.target_seconds:g}",
            "-" if row.ratio is None else f"{row.ratio:.2f}",
            row.within_target,
            row.problem,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    rule = ["-" * width for width in widths]  # as wide as its column, so it widens none
    return table(header, [rule, *cells], right=(1, 2, 3, 4))


def reached_checkpoints(
    folder: Path | None = None, solutions: Path | None = None
) -> list[registry.Checkpoint]:
    """The registry's checkpoints that a solution notebook reaches, in order."""
    reached = set(checkpoint_order(solutions or solutions_dir()))
    return [cp for cp in registry.load(folder) if cp.id in reached]


def _measure(operation: str, name: str, command: list[str], env: dict[str, str], runner: Runner) -> Row:
    """Run `command` RUNS[name] times, printing each run as it ends."""
    target = TARGET_SECONDS[name]
    timings = []
    for run in range(1, RUNS[name] + 1):
        timing = runner(command, env, TIMEOUT_SECONDS[name])
        print(
            f"  {operation}: run {run} of {RUNS[name]}: {seconds(timing.seconds)} (exit {timing.returncode})"
        )
        sys.stdout.flush()
        timings.append(timing)
    return summarize(operation, target, timings)


def run_bench(runner: Runner = run_timed) -> int:
    reached = reached_checkpoints()
    if not reached:
        print("bench: no solution notebook reaches a registered checkpoint; nothing to time")
        return 0
    python = [sys.executable, "-m", "workbook"]
    notebooks = len(ordered_notebooks(solutions_dir()))
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    machine = f"{os.cpu_count()} cores{load}, Python {sys.version.split()[0]}"
    checkpoint = reached[-1]
    print(f"Benchmark up to checkpoint {checkpoint.id} ({machine})")
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as scratch:
        services, state = Path(scratch) / "services", Path(scratch) / "state"
        services.mkdir()
        write_all(writes_until(solutions_dir(), checkpoint.id), services)
        env = {**os.environ, "WORKBOOK_SERVICES_DIR": str(services), "WORKBOOK_STATE_DIR": str(state)}
        rows = [_measure(f"check {cp.id}", "check", [*python, "check", cp.id], env, runner) for cp in reached]
        rows.append(
            _measure(f"reset {checkpoint.id}", "reset", [*python, "reset", checkpoint.id], env, runner)
        )
        label = f"replay ({plural(notebooks, 'notebook')}, {REPLAY_WORKERS} workers)"
        command = [*python, "replay", "--workers", str(REPLAY_WORKERS)]
        rows.append(_measure(label, "replay", command, env, runner))
    print()
    print(render_table(rows))
    print("\nA benchmark informs; it does not gate. ratio = median / target.")
    crashed = [row for row in rows if row.problem and not row.problem.startswith("skipped")]
    return 1 if crashed else 0
