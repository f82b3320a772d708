"""Serving an HTTP service as a real server process on 127.0.0.1, the way its image runs it.

The production gates (`gates/`) and the throughput bench both need a service listening on a real
socket, not a test client: connection pools, thread pools and keep-alive only misbehave there.
A service's profile says its framework; the server is the one its image runs (uvicorn for
FastAPI, gunicorn for Flask), with its access log off as in the image."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Mapping

from .errors import UserError
from .loopback import free_port, http_status
from .services import Profile

STARTUP_SECONDS = 30.0


class ServeError(UserError):
    """A service that cannot be started, or that did not answer its liveness check in time."""


def server_argv(profile: Profile, port: int) -> list[str]:
    """The command that serves `profile`'s application factory on 127.0.0.1:`port`."""
    factory = f"{profile.app_module}:create_app"
    if profile.framework == "fastapi":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]
    if profile.framework == "flask":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--threads",
            "8",
            f"{factory}()",
        ]
    raise ServeError(
        f"{profile.name}: cannot serve a {profile.framework!r} service "
        "(the workbook serves FastAPI with uvicorn and Flask with gunicorn)"
    )


@dataclass
class Server:
    """One server process: `start()` returns once its liveness path answers 200."""

    profile: Profile
    folder: Path
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    port: int = 0
    argv: list[str] | None = None  # default: `server_argv(profile, port)`
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServeError(f"{self.profile.name} is not running")
        return self.process.pid

    def start(self, timeout: float = STARTUP_SECONDS) -> Server:
        self.port = self.port or free_port()
        argv = self.argv or server_argv(self.profile, self.port)
        # Never into the service's folder: it is the learner's.
        log_path = self.log_path or Path(tempfile.mkdtemp(prefix="workbook-serve-")) / "server.log"
        self.log_path = log_path
        self._log = log_path.open("wb")
        environment = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [part.replace("{port}", str(self.port)) for part in argv],
            cwd=self.folder,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_live(timeout)
        return self

    def _wait_live(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = self.base_url + self.profile.live_path
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServeError(
                    f"{self.profile.name} exited with status {self.process.returncode} before "
                    f"answering {self.profile.live_path}:\n{self.log_tail()}"
                )
            if http_status(url, timeout=1) == 200:
                return
            time.sleep(0.1)
        self.stop()
        raise ServeError(f"{self.profile.name} did not answer {url} within {timeout:g} s:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
