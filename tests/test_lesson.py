import os
import sys

import pytest
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workbook import lesson


def test_no_url_means_no_postgres(monkeypatch):
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    assert lesson.reachable_postgres() is None
    assert lesson.postgres_line(None).startswith("No PostgreSQL is reachable (TEST_DATABASE_URL is unset")


def test_a_postgres_that_does_not_answer_is_not_reachable(monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:9/nothing")
    assert lesson.reachable_postgres() is None


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set")
def test_a_running_postgres_is_reachable():
    assert lesson.reachable_postgres() == os.environ["TEST_DATABASE_URL"]
    assert (
        lesson.postgres_line(os.environ["TEST_DATABASE_URL"])
        == "PostgreSQL reachable through TEST_DATABASE_URL"
    )


def test_run_in_service_runs_in_its_folder_without_colours(isolated_workspace, monkeypatch):
    (isolated_workspace / "svc").mkdir()
    monkeypatch.setenv("TASK_SERVICE_APP_NAME", "from the kernel")
    script = (
        "import os; print(os.getcwd()); print(os.environ.get('TASK_SERVICE_APP_NAME'));"
        "print(os.environ['NO_COLOR'], os.environ['PYTHONDONTWRITEBYTECODE']); print('\\x1b[31mred\\x1b[0m')"
    )
    done = lesson.python_in_service("svc", "-c", script)
    assert done.ok
    assert done.stdout.splitlines() == [str(isolated_workspace / "svc"), "from the kernel", "1 1", "red"]
    cleared = lesson.python_in_service("svc", "-c", script, without=("TASK_SERVICE_",), extra_env={"X": "1"})
    assert cleared.stdout.splitlines()[1] == "None"


def test_run_in_service_reports_a_missing_command(isolated_workspace):
    (isolated_workspace / "svc").mkdir()
    done = lesson.run_in_service("svc", "no-such-command-here")
    assert done.missing and "no-such-command-here: command not found" in done.stderr


def test_pytest_in_service_runs_the_services_suite(isolated_workspace):
    tests = isolated_workspace / "svc" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_one.py").write_text("def test_good():\n    pass\n\n\ndef test_bad():\n    assert False\n")
    suite = lesson.pytest_in_service("svc", "-q", "tests")
    assert not suite.passed
    assert suite.summary() == "1 failed, 1 passed"
    assert suite.outcomes == {
        "tests/test_one.py::test_good": "passed",
        "tests/test_one.py::test_bad": "failed",
    }
    assert not list((isolated_workspace / "svc").rglob("__pycache__"))


class ExampleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    plain: int = 1
    database_url: str = Field(
        default="sqlite://", validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    named: str = Field(default="x", validation_alias="otel_service_name")


def test_env_names_follow_prefix_and_aliases():
    assert lesson.env_names(ExampleSettings) == {
        "plain": "EXAMPLE_PLAIN",
        "database_url": "DATABASE_URL",
        "named": "OTEL_SERVICE_NAME",
    }


def test_the_interpreter_is_the_kernels(isolated_workspace):
    (isolated_workspace / "svc").mkdir()
    assert (
        lesson.python_in_service("svc", "-c", "import sys; print(sys.executable)").stdout.strip()
        == sys.executable
    )
