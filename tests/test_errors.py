"""One base class for every error a person can cause: the CLI and the magics print it as one line, and
anything else (a bug, such as a file the workbook itself expected) keeps its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from workbook import backups, cells, checklist, cli, importing, paths, progress, record, regions, registry
from workbook import reset, services, writer
from workbook.errors import UserError

USER_ERRORS = [
    registry.UnknownCheckpoint,
    registry.RegistryError,
    record.ProgressError,
    checklist.ChecklistError,
    cells.CellSyntaxError,
    regions.RegionError,
    writer.ServicePathError,
    importing.ServiceNotFound,
    services.UnknownService,
    backups.UnknownBackup,
    backups.BackupError,
    backups.BackupDamaged,
    reset.ResetError,
]


@pytest.mark.parametrize("error", USER_ERRORS, ids=lambda error: error.__name__)
def test_every_user_facing_error_is_a_user_error(error: type[Exception]) -> None:
    assert issubclass(error, UserError)


@pytest.fixture
def broken_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "checkpoints" / "registry"
    folder.mkdir(parents=True)
    (folder / "00-environment.toml").write_text('id = "environment"\ntitle = [unclosed\n', encoding="utf-8")
    monkeypatch.setattr(registry, "checkpoints_dir", lambda: tmp_path / "checkpoints")
    return folder


def test_a_broken_registry_is_one_line_in_the_cli(
    broken_registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["check", "environment"], ["checkpoints"], ["reset", "environment"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"workbook {argv[0]}: 00-environment.toml: ") and err.count("\n") == 1


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "workbook")
    return ipython


def test_a_broken_registry_is_one_line_in_the_magics(broken_registry: Path, shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="^00-environment.toml: ") as raised:
        shell.run_line_magic("checkpoint", "environment")
    assert "\n" not in str(raised.value)
    with pytest.raises(UsageError, match="^00-environment.toml: "):
        shell.run_line_magic("begin", "00-orientation")


def test_a_user_error_while_a_checkpoint_runs_is_one_line(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbook import magics

    def missing_service(checkpoint: registry.Checkpoint) -> None:
        raise importing.ServiceNotFound("no service 'task-service' under /x: run its %%service cells first")

    monkeypatch.setattr(magics, "run_checkpoint", missing_service)
    with pytest.raises(UsageError, match="run its %%service cells first"):
        shell.run_line_magic("checkpoint", "environment")
    assert "environment" not in record.load().checkpoints, "nothing is recorded for a run that never ran"


def test_a_malformed_checklist_is_one_line_in_make_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "checklist.md"
    broken.write_text(
        "# A checklist\n\n## Implementation Checklist\n\n## Learning Checkpoints\n", encoding="utf-8"
    )
    monkeypatch.setattr(paths, "checklist_file", lambda: broken)
    assert cli.main(["progress"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err == "workbook progress: the checklist has no section Time Tracking\n"
    assert not (paths.state_dir() / "progress.md").exists()


def test_a_missing_file_inside_the_workbook_is_a_bug_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def lost(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError(2, "No such file or directory", "docs/phase-2-session-checklist.md")

    monkeypatch.setattr(progress, "write_report", lost)
    with pytest.raises(FileNotFoundError):
        cli.main(["progress"])


def test_a_notebook_the_user_names_that_does_not_exist_is_a_user_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["outputs", "99"]) == 2
    assert capsys.readouterr().err == "workbook outputs: no single solution notebook named '99'\n"
