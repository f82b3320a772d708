"""Checkpoint task-structure: the task-service's folders, packages and entry point (step 2.1)."""

import argparse
import sys

import pytest

from workbook import process


@pytest.fixture
def service(service_dir):
    return service_dir("task-service")


def test_packages_have_init(missing_inits):
    """every folder under src/ is a package with an __init__.py"""
    missing = missing_inits("task-service")
    assert not missing, f"no __init__.py in: {', '.join(missing)}"


def test_packages_are_regular_and_documented(package_problems):
    """each package imports as a regular package and says what it is for"""
    problems = package_problems("task-service")
    assert not problems, "; ".join(problems)


# What Python and the workbook's tools leave in the service folder: a __pycache__ folder (whatever is in
# it), bytecode written beside its source (compileall -b), the venv, pytest's, mypy's and coverage's data.
BYPRODUCTS = ["src/__pycache__/main.pyc", "src/__pycache__/", "src/main.pyc", ".venv/bin/python",
              ".pytest_cache/README.md", ".mypy_cache/3.11/src/main.meta.json", ".coverage"]  # fmt: skip


def test_gitignore_keeps_secrets_and_database_out(service, git_ignores):
    """.gitignore keeps .env, the database, bytecode and the tools' caches out of git, not .env.example"""
    ignored = git_ignores(service / ".gitignore")
    for path in [".env", "task_service.db", "task_service.db-wal", "task_service.db-shm", *BYPRODUCTS]:
        assert ignored(path), f"{path} is not ignored"
    for path in [".env.example", "src/main.py"]:
        assert not ignored(path), f"{path} must not be ignored"


def test_python_m_src_help(service):
    """`python -m src --help` explains how to start the service"""
    result = process.run([sys.executable, "-m", "src", "--help"], cwd=service, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--port" in result.stdout and "--host" in result.stdout


def serve_calls(load_service, monkeypatch, argv):
    """What `main(argv)` passes to uvicorn.run (recorded, not served), and the parser it used."""
    entry = load_service("task-service", "src.__main__")
    calls, parsers = [], []
    monkeypatch.setattr(entry.uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    real_parse = argparse.ArgumentParser.parse_args

    def recording_parse(parser, *args, **kwargs):
        parsers.append(parser)
        return real_parse(parser, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", recording_parse)
    entry.main(argv)
    assert len(calls) == 1, f"main({argv}) called uvicorn.run {len(calls)} times"
    return calls[0], parsers


def test_python_m_src_runs_uvicorn(load_service, monkeypatch):
    """`python -m src --host 0.0.0.0 --port 9000` serves src.main:app with uvicorn"""
    (app, kwargs), _ = serve_calls(load_service, monkeypatch, ["--host", "0.0.0.0", "--port", "9000"])
    assert app == "src.main:app"
    assert kwargs.get("host") == "0.0.0.0" and kwargs.get("port") == 9000
    assert kwargs.get("reload") is False, f"without --reload, uvicorn.run got reload={kwargs.get('reload')!r}"


def test_python_m_src_defaults(load_service, monkeypatch):
    """`python -m src` serves on 127.0.0.1:8000 without reload; `--reload` turns reload on"""
    (_, kwargs), _ = serve_calls(load_service, monkeypatch, [])
    served = {name: kwargs.get(name) for name in ("host", "port", "reload")}
    assert served == {"host": "127.0.0.1", "port": 8000, "reload": False}, f"main([]) served with {served}"
    (_, kwargs), _ = serve_calls(load_service, monkeypatch, ["--reload"])
    assert kwargs.get("reload") is True, f"main(['--reload']) passed reload={kwargs.get('reload')!r}"
    assert (kwargs.get("host"), kwargs.get("port")) == ("127.0.0.1", 8000), "--reload changed host or port"


def test_python_m_src_help_documents(load_service, monkeypatch):
    """`--help` says `usage: python -m src`, has a description and a help line for every option"""
    _, parsers = serve_calls(load_service, monkeypatch, [])
    assert parsers, "main() does not parse its arguments with an argparse.ArgumentParser"
    parser = parsers[-1]
    assert parser.prog == "python -m src", f"prog is {parser.prog!r}: --help would say `usage: {parser.prog}`"
    assert (parser.description or "").strip(), "the parser has no description"
    options = {"--host", "--port", "--reload"}
    undocumented = sorted(
        option
        for action in parser._actions  # argparse keeps no public list of its options
        for option in action.option_strings
        if option in options and not (action.help or "").strip()
    )
    assert not undocumented, f"no help string for {', '.join(undocumented)}"
