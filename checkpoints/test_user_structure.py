"""Checkpoint user-structure: the user-service's folders, packages and gunicorn entry point (2.15)."""

import re
import sys

import pytest

from workbook import process


@pytest.fixture
def service(service_dir):
    return service_dir("user-service")


@pytest.fixture
def entry(load_service):
    return load_service("user-service", "src.__main__")


def option(argv, name):
    """The value after `name` in a command line (None when `name` is not there)."""
    return argv[argv.index(name) + 1] if name in argv else None


def test_packages_have_init(missing_inits):
    """every folder under src/ is a package with an __init__.py"""
    missing = missing_inits("user-service")
    assert not missing, f"no __init__.py in: {', '.join(missing)}"


def test_packages_are_regular_and_documented(package_problems):
    """each package imports as a regular package and says what it is for"""
    problems = package_problems("user-service")
    assert not problems, "; ".join(problems)


def test_gitignore_keeps_secrets_and_database_out(service, git_ignores):
    """.gitignore keeps .env, the SQLite database (and its -wal, -shm), bytecode and tool caches out of git"""
    ignored = git_ignores(service / ".gitignore")
    for path in [
        ".env",
        "user_service.db",
        "user_service.db-wal",
        "user_service.db-shm",
        "src/__pycache__/main.cpython-311.pyc",
        "src/api/__pycache__/users.pyc",
        # A __pycache__ folder whatever it holds, bytecode beside its source (compileall -b), the venv,
        # and what pytest, mypy and coverage write.
        "src/api/__pycache__/",
        "src/api/users.pyc",
        ".venv/bin/python",
        ".pytest_cache/README.md",
        ".mypy_cache/3.11/src/main.meta.json",
        ".coverage",
    ]:
        assert ignored(path), f"{path} is not ignored"
    for path in [".env.example", "src/main.py", "src/api/users.py", "README.md"]:
        assert not ignored(path), f"{path} must not be ignored"


def test_python_m_src_help(service):
    """`python -m src --help` explains --host, --port, --workers, --threads and --reload"""
    result = process.run(
        [sys.executable, "-m", "src", "--help"], cwd=service, timeout=60, extra_env={"COLUMNS": "100"}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    assert text.startswith("usage: python -m src "), f"usage must read `python -m src`: {text[:80]!r}"
    assert "gunicorn" in text.split("options:")[0], "the description must say the service runs on gunicorn"
    for name in ["--host", "--port", "--workers", "--threads", "--reload"]:
        assert re.search(
            rf"^\s+{name}(?: [A-Z]+)? {{2,}}\S", text, re.M
        ), f"--help has no help line for {name}"


def test_command_serves_the_factory_with_gunicorn(entry):
    """command([...]) is gunicorn, from this Python, bound to HOST:PORT, serving src.main:create_app()"""
    argv = entry.command(["--host", "0.0.0.0", "--port", "9000", "--workers", "3", "--threads", "5"])
    assert argv[:3] == [sys.executable, "-m", "gunicorn"], f"not `{sys.executable} -m gunicorn`: {argv}"
    assert option(argv, "--bind") == "0.0.0.0:9000", f"--bind is {option(argv, '--bind')!r}: {argv}"
    assert option(argv, "--workers") == "3", f"--workers is {option(argv, '--workers')!r}: {argv}"
    assert option(argv, "--threads") == "5", f"--threads is {option(argv, '--threads')!r}: {argv}"
    assert argv[-1] == "src.main:create_app()", f"the last argument must be the factory: {argv}"
    assert entry.APPLICATION == "src.main:create_app()"
    assert "--reload" not in argv, f"--reload was not asked for: {argv}"


def test_command_defaults(entry):
    """without options: 127.0.0.1:8000, 2 workers, 4 threads, no --reload"""
    argv = entry.command([])
    assert option(argv, "--bind") == "127.0.0.1:8000", f"--bind is {option(argv, '--bind')!r}"
    assert option(argv, "--workers") == "2", f"--workers is {option(argv, '--workers')!r}"
    assert option(argv, "--threads") == "4", f"--threads is {option(argv, '--threads')!r}"
    assert "--reload" not in argv and argv[-1] == "src.main:create_app()", argv


def test_command_reload(entry):
    """--reload is passed to gunicorn, before the application"""
    argv = entry.command(["--reload"])
    assert argv[-2:] == ["--reload", "src.main:create_app()"], argv


def test_counts_below_one_are_refused(service):
    """--workers 0, --threads 0 and --port -1 exit with status 2 and say why"""
    for name, value in [("--workers", "0"), ("--threads", "0"), ("--port", "-1"), ("--workers", "x")]:
        result = process.run([sys.executable, "-m", "src", name, value], cwd=service, timeout=60)
        assert result.returncode == 2, f"`python -m src {name} {value}` exited {result.returncode}"
        assert "invalid" in result.stderr or "at least 1" in result.stderr, result.stderr[-500:]
