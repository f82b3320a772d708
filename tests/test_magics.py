import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from workbook import record

SOLVED_GREETING = 'def greet(name: str) -> str:\n    return f"Hello, {name.strip()}!"\n'


@pytest.fixture(scope="module")
def shell():
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "workbook")
    return ipython


def test_service_writes_the_cell_and_prints_one_stable_line(shell, isolated_workspace, capsys):
    shell.run_cell_magic("service", "task-service src/api/routes.py", "router = None\n")
    shell.run_cell_magic("service", "task-service src/api/routes.py", "router = None\n")
    assert capsys.readouterr().out == "wrote task-service/src/api/routes.py (1 line)\n" * 2
    assert (isolated_workspace / "task-service/src/api/routes.py").read_text() == "router = None\n"


@pytest.mark.parametrize("line", ["", "only-service", "Bad src/a.py", "svc ../escape.py"])
def test_service_misuse_is_a_usage_error(shell, line, isolated_workspace):
    with pytest.raises(UsageError):
        shell.run_cell_magic("service", line, "x = 1\n")
    assert list(isolated_workspace.iterdir()) == []


def test_an_earlier_notebook_keeps_a_later_notebooks_file(shell, isolated_workspace, capsys):
    target = isolated_workspace / "task-service/src/main.py"
    shell.run_line_magic("begin", "05-routes")
    shell.run_cell_magic("service", "task-service src/main.py", "version = 5\n")
    shell.run_line_magic("begin", "02-the-app")  # Restart Kernel and Run All Cells in notebook 02
    capsys.readouterr()
    shell.run_cell_magic("service", "task-service src/main.py", "version = 2\n")
    out = capsys.readouterr().out
    assert target.read_text() == "version = 5\n"
    assert out.startswith("kept task-service/src/main.py: 05-routes wrote a later version")
    assert "%%service --replace task-service src/main.py" in out
    shell.run_cell_magic("service", "--replace task-service src/main.py", "version = 2\n")
    assert target.read_text() == "version = 2\n"
    assert capsys.readouterr().out == "wrote task-service/src/main.py (1 line)\n"
    shell.run_cell_magic("service", "task-service src/main.py", "version = 2.1\n")  # 02's own file now
    assert target.read_text() == "version = 2.1\n"


def test_a_mistyped_service_or_notebook_is_refused_with_the_known_names(shell, isolated_workspace):
    with pytest.raises(UsageError, match="unknown service 'task-servce': did you mean 'task-service'"):
        shell.run_cell_magic("service", "task-servce src/main.py", "x = 1\n")
    with pytest.raises(UsageError, match="Known: task-service, user-service, auth-service"):
        shell.run_cell_magic("service", "auth-servic src/main.py", "x = 1\n")
    with pytest.raises(UsageError, match="unknown notebook '02-the-ap'; known: 00-orientation, "):
        shell.run_line_magic("begin", "02-the-ap")
    assert list(isolated_workspace.iterdir()) == []
    shell.run_cell_magic("service", "my-experiment app.py", "x = 1\n")  # a name of one's own is welcome
    assert (isolated_workspace / "my-experiment/app.py").exists()


def test_begin_records_the_start_once(shell, capsys):
    shell.run_line_magic("begin", "00-orientation")
    first = record.load().notebooks["00-orientation"].started_at
    shell.run_line_magic("begin", "00-orientation")
    assert record.load().notebooks["00-orientation"].started_at == first
    out = capsys.readouterr().out
    assert out.startswith("Started 00-orientation: about ") and " words at " in out
    assert "the checklist's target for a guided session: " in out
    with pytest.raises(UsageError):
        shell.run_line_magic("begin", "  ")


def test_checkpoint_runs_and_records(shell, isolated_workspace, capsys, monkeypatch):
    from workbook import magics

    class Result:
        passed = True

        def outcomes(self):
            return {"test_x": "passed"}

    seen = {}

    def fake_run(checkpoint):
        seen["id"] = checkpoint.id
        return Result()

    monkeypatch.setattr(magics, "run_checkpoint", fake_run)
    monkeypatch.setattr(magics, "render", lambda result: "TABLE")
    shell.run_line_magic("checkpoint", "environment")
    assert seen == {"id": "environment"} and capsys.readouterr().out == "TABLE\n"
    assert record.load().checkpoints["environment"].passed


def test_checkpoint_refuses_unknown_ids_and_corrupt_progress(shell, tmp_path):
    with pytest.raises(UsageError, match="unknown checkpoint 'nope'"):
        shell.run_line_magic("checkpoint", "nope")
    corrupt = tmp_path / "state" / "progress.json"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text("{oops")
    with pytest.raises(UsageError, match="corrupt"):
        shell.run_line_magic("checkpoint", "environment")
    with pytest.raises(UsageError, match="corrupt"):
        shell.run_line_magic("begin", "00-orientation")
    assert corrupt.read_text() == "{oops"


def test_loading_the_extension_prepares_the_kernel(shell):
    import logging
    import sys
    import warnings

    from workbook import magics

    logging.getLogger("httpx").setLevel(logging.NOTSET)
    magics.prepare_kernel()
    assert sys.dont_write_bytecode
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    with warnings.catch_warnings(record=True) as caught:
        magics.prepare_kernel()  # inside catch_warnings, which restores the filters afterwards
        warnings.simplefilter("always", UserWarning)
        warnings.warn("Using `httpx` with `starlette.testclient` is deprecated", DeprecationWarning)
        warnings.warn("a warning about the learner's code", UserWarning)
    assert [str(w.message) for w in caught] == ["a warning about the learner's code"]


def test_service_copy_starts_a_service_from_the_learners_own_files(shell, isolated_workspace, capsys):
    shell.run_cell_magic(
        "service", "task-service src/log.py", 'NAME = "task-service"\nLOG = "task_service.x"\n'
    )
    capsys.readouterr()
    shell.run_line_magic("service_copy", "task-service auth-service src/log.py")
    copied = (isolated_workspace / "auth-service" / "src" / "log.py").read_text()
    assert copied == 'NAME = "auth-service"\nLOG = "auth_service.x"\n'
    assert capsys.readouterr().out == (
        "copied task-service/src/log.py to auth-service/src/log.py (2 lines, 2 renamed)\n"
    )


def test_service_copy_of_a_missing_file_copies_nothing_and_names_its_notebook(shell, isolated_workspace):
    shell.run_cell_magic("service", "task-service src/log.py", "x = 1\n")
    with pytest.raises(UsageError, match="task-service/src/main.py is missing.*notebook 02-the-app"):
        shell.run_line_magic("service_copy", "task-service auth-service src/log.py src/main.py")
    assert not (isolated_workspace / "auth-service").exists()
    with pytest.raises(UsageError, match="usage: %service_copy"):
        shell.run_line_magic("service_copy", "task-service task-service src/log.py")
