"""Serving a service as a real server process: the command per framework, liveness, failures."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from workbook.paths import repo_root
from workbook.loopback import free_port
from workbook.serving import Server, ServeError, server_argv
from workbook.services import Profile

BASELINE = Profile("baseline", "http", "fastapi", part=0, app_module="app")


def test_free_port_is_free() -> None:
    port = free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # would raise if someone listened there


def test_fastapi_is_served_by_uvicorn_and_flask_by_gunicorn() -> None:
    fastapi = server_argv(Profile("a", "http", "fastapi", part=0), 8123)
    assert fastapi[1:4] == ["-m", "uvicorn", "--factory"] and "src.main:create_app" in fastapi
    assert fastapi[fastapi.index("--port") + 1] == "8123"
    flask = server_argv(Profile("b", "http", "flask", part=0), 8124)
    assert flask[1:3] == ["-m", "gunicorn"] and "src.main:create_app()" in flask
    assert "127.0.0.1:8124" in flask


def test_an_unknown_framework_is_one_clear_error() -> None:
    with pytest.raises(ServeError, match="cannot serve a 'unknown' service"):
        server_argv(Profile("c", "http", "unknown", part=0), 1)


def test_a_server_answers_until_stopped(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    server = Server(BASELINE, repo_root() / "gates" / "baseline", env=env, log_path=tmp_path / "log")
    with server:
        assert server.running() and server.pid > 0
        with urllib.request.urlopen(server.base_url + "/health/live", timeout=5) as answer:
            assert answer.status == 200
    assert not server.running()
    server.stop()  # twice is harmless
    assert "Uvicorn running" in server.log_tail()


def test_a_server_that_exits_says_so_with_its_log(tmp_path: Path) -> None:
    broken = Profile("broken", "http", "fastapi", part=0, app_module="nowhere")
    with pytest.raises(ServeError, match="exited with status") as error:
        Server(broken, tmp_path, log_path=tmp_path / "log").start(timeout=20)
    assert "nowhere" in str(error.value)


def test_a_server_that_never_answers_is_stopped(tmp_path: Path) -> None:
    silent = Server(
        Profile("silent", "http", "fastapi", part=0),
        tmp_path,
        argv=["sleep", "30"],
        log_path=tmp_path / "log",
    )
    with pytest.raises(ServeError, match="did not answer"):
        silent.start(timeout=1)
    assert not silent.running()
    with pytest.raises(ServeError, match="is not running"):
        Server(BASELINE, tmp_path).pid


def test_the_log_goes_to_a_scratch_file_not_the_service_folder(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    folder = repo_root() / "gates" / "baseline"

    def files() -> set[Path]:
        return {path for path in folder.iterdir() if path.name != "__pycache__"}

    before = files()
    with Server(BASELINE, folder, env=env) as server:
        assert server.log_path is not None and folder not in server.log_path.parents
    assert files() == before
