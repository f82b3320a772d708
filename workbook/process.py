"""Running a command: the one subprocess layer of the workbook.

One result type for every command the tooling, the checkpoints and the notebooks run, and one
convention for what goes wrong: a missing command is exit status 127 with "NAME: command not
found", a command that outlives its timeout is killed and answers 124 with the output it had
written so far. Nothing here raises for a command that failed; callers read `ok`."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence

LineSink = Callable[[str], None]
MISSING = 127  # what a shell answers for a command it cannot find
TIMED_OUT = 124  # what coreutils' `timeout` answers


class Runner(Protocol):
    """`run`'s shape: what a caller that lets tests stand in for commands accepts."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_line: LineSink | None = None,
    ) -> Completed: ...


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def missing(self) -> bool:
        return self.returncode == MISSING

    @property
    def timed_out(self) -> bool:
        return self.returncode == TIMED_OUT

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_line: LineSink | None = None,
) -> Completed:
    """Run `argv`; with `on_line`, stream its merged output line by line as it comes.

    `env` replaces the environment, `extra_env` adds to it (to `env` when both are given)."""
    environment = None
    if env is not None or extra_env:
        environment = {**(os.environ if env is None else env), **(extra_env or {})}
    try:
        if on_line is None:
            done = subprocess.run(
                list(argv),
                cwd=cwd,
                env=environment,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
            return Completed(done.returncode, done.stdout, done.stderr)
        return _stream(argv, cwd, environment, timeout, on_line)
    except FileNotFoundError:
        return Completed(MISSING, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired as error:
        return Completed(TIMED_OUT, _text(error.stdout), _text(error.stderr) + _late(argv, timeout))


def _stream(
    argv: Sequence[str],
    cwd: Path | str | None,
    env: Mapping[str, str] | None,
    timeout: float | None,
    on_line: LineSink,
) -> Completed:
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            on_line(line.rstrip("\n"))
        returncode = process.wait()
    finally:
        if timer:
            timer.cancel()
    if killed.is_set():
        return Completed(TIMED_OUT, "".join(lines), _late(argv, timeout))
    return Completed(returncode, "".join(lines))


def _late(argv: Sequence[str], timeout: float | None) -> str:
    return f"\n{' '.join(argv[:2])} timed out after {timeout or 0:g} s"


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
