"""A PostgreSQL the gates own: its own data folder, port and postmaster, so a test can stop it
and freeze it without touching the shared cluster other tests and people use.

PostgreSQL refuses to run as root: as root the binaries run as the `postgres` user (runuser);
otherwise as the current user. Every start is matched by `close()`, which thaws, stops and
removes whatever is left, also when the test that used it failed."""

from __future__ import annotations

import os
import pwd
import shutil
import signal

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from workbook import process
from workbook.loopback import free_port

RUN_AS = "postgres"


def binaries() -> Path:
    """The newest Debian PostgreSQL's bin folder (PG_BIN overrides it)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if not versions:
        raise RuntimeError(
            "PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)"
        )
    return versions[-1].parent


@dataclass
class OwnedPostgres:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gates-pg-")))
    port: int = 0
    frozen: list[int] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, *argv: str, timeout: float = 60) -> process.Completed:
        command = [str(binaries() / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        return process.run(command, timeout=timeout)

    def _check(self, done: process.Completed, what: str) -> None:
        if done.returncode != 0:
            log = self.root / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(f"PostgreSQL {what} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    def start(self) -> OwnedPostgres:
        """initdb (first time only) and start on a free port on 127.0.0.1; waits until it accepts.

        `root` must be reachable by the postgres user: a pytest tmp_path (mode 700, root's) is not."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(RUN_AS)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        if not self.data.exists():
            # trust on loopback only: a throwaway cluster no one else can reach.
            self._check(
                self._as_owner(
                    "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
                ),
                "initdb",
            )
        self.port = self.port or free_port()
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        done = self._as_owner(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        self._check(done, "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (the outage): `fast` disconnects clients, `immediate` is a crash."""
        self._check(self._as_owner("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"), "stop")

    def running(self) -> bool:
        return self._as_owner("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def processes(self) -> list[psutil.Process]:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.is_file():
            return []
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        return [postmaster, *postmaster.children(recursive=True)]

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections stay open, nothing answers."""
        for member in self.processes():
            os.kill(member.pid, signal.SIGSTOP)
            self.frozen.append(member.pid)

    def thaw(self) -> None:
        for pid in self.frozen:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen.clear()

    def close(self) -> None:
        """Thaw, stop and remove everything; never raises, whatever state the server is in."""
        self.thaw()
        if self.data.exists() and self.running():
            self._as_owner("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        for member in self.processes():  # a postmaster pg_ctl could not stop
            try:
                member.kill()
            except psutil.Error:
                pass
        time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OwnedPostgres:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
