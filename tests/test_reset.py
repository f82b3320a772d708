"""Reset to a checkpoint: the solutions' files and nothing else, always after a backup."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_notebook
from test_backups import PROPERTY, SAMPLE, TREES, File, Folder, Node, build, fresh_workspace, snapshot

from workbook import cells, cli, paths, registry
from workbook.backups import list_backups, restore
from workbook.regions import RegionError
from workbook.reset import ResetError, reset_to
from workbook.writer import LEDGER, ServicePathError, file_text, target_path

REAL_CHECKPOINTS = cells.checkpoint_order(paths.solutions_dir())


def expected_files(root: Path, checkpoint: str) -> dict[Path, bytes]:
    """What replaying the solutions' `%%service` cells must leave, derived from the notebooks
    themselves so that new checkpoints need no edit here (the last write of a file wins)."""
    writes = [] if checkpoint == "start" else cells.writes_until(paths.solutions_dir(), checkpoint)
    return {target_path(w.service, w.path, root): file_text(w.body).encode() for w in writes}


def files_on_disk(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file() and path.name != LEDGER}


@pytest.fixture
def root(isolated_workspace: Path) -> Path:
    """The scratch services root every tooling test gets (tests/conftest.py)."""
    return isolated_workspace


def test_there_is_a_real_checkpoint_to_reset_to() -> None:
    assert REAL_CHECKPOINTS, "the solutions define no checkpoint"
    assert set(REAL_CHECKPOINTS) <= {cp.id for cp in registry.load()}


@pytest.mark.parametrize("checkpoint", REAL_CHECKPOINTS)
def test_reset_writes_exactly_the_solution_files(root: Path, checkpoint: str) -> None:
    build(root, SAMPLE)
    build(
        root,
        {"playground": Folder({"greeting.py": File(b"def greet(name):\n    raise NotImplementedError\n")})},
    )
    readme = (root / "README.md").read_bytes()
    before = snapshot(root)

    outcome = reset_to(checkpoint)

    expected = expected_files(root, checkpoint)
    assert expected, f"checkpoint {checkpoint} writes no file"
    assert files_on_disk(root) == {root / "README.md": readme, **expected}
    assert set(outcome.written) == set(expected) and len(outcome.written) == len(expected)
    assert outcome.backup.reason == f"before reset to {checkpoint}"
    assert [b.id for b in list_backups()] == [outcome.backup.id]
    line = outcome.summary()
    assert "\n" not in line and checkpoint in line and outcome.backup.id in line
    assert f"{len(expected)} file" in line
    # Nothing was lost: the backup brings the learner's own state back.
    restore(outcome.backup.id)
    assert snapshot(root) == before


def test_reset_to_start_leaves_only_the_readme(root: Path) -> None:
    build(root, SAMPLE)
    readme = (root / "README.md").read_bytes()
    outcome = reset_to("start")
    assert files_on_disk(root) == {root / "README.md": readme}
    assert list(root.iterdir()) == [root / "README.md"]
    assert outcome.written == () and "0 files" in outcome.summary()


def test_reset_without_a_readme_or_a_root(root: Path) -> None:
    root.rmdir()
    outcome = reset_to(REAL_CHECKPOINTS[0])
    assert files_on_disk(root) == expected_files(root, REAL_CHECKPOINTS[0])
    assert outcome.backup.file_count == 0


def test_the_reset_says_what_its_backup_left_out(root: Path) -> None:
    build(root, {"svc": Folder({"app.py": File(b"1"), ".mypy_cache": Folder({"x.json": File(b"m" * 2048)})})})
    line = reset_to("start").summary()
    assert line.endswith("(left out 2.0 KB of tool caches and virtual environments (svc/.mypy_cache))")
    assert "\n" not in line and not (root / "svc").exists()
    assert reset_to("start").summary().endswith(f"saved as backup {list_backups()[-1].id}")


def test_a_reset_keeps_virtual_environments_in_place(root: Path) -> None:
    build(root, {"task-service": Folder({".venv": Folder({"pyvenv.cfg": File(b"home = /usr\n")})})})
    line = reset_to("start").summary()
    assert line.endswith("; virtual environments kept in place: task-service/.venv")
    assert (root / "task-service" / ".venv" / "pyvenv.cfg").read_bytes() == b"home = /usr\n"


@pytest.mark.parametrize("wanted", ["no-such-checkpoint", "Environment", ""])
def test_unknown_checkpoint_changes_nothing_and_makes_no_backup(root: Path, wanted: str) -> None:
    build(root, SAMPLE)
    before = snapshot(root)
    with pytest.raises(registry.UnknownCheckpoint) as raised:
        reset_to(wanted)
    assert all(cp in str(raised.value) for cp in REAL_CHECKPOINTS)
    assert snapshot(root) == before
    assert not paths.backups_dir().exists()


def test_a_corrupt_progress_file_does_not_matter(root: Path) -> None:
    progress = paths.progress_file()
    progress.parent.mkdir(parents=True)
    progress.write_bytes(b"{ not json \xff")
    reset_to(REAL_CHECKPOINTS[0])
    assert files_on_disk(root) == expected_files(root, REAL_CHECKPOINTS[0])
    assert progress.read_bytes() == b"{ not json \xff"


def test_the_reset_command_refuses_a_corrupt_progress_file(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(root, SAMPLE)
    before = snapshot(root)
    progress = paths.progress_file()
    progress.parent.mkdir(parents=True, exist_ok=True)
    progress.write_bytes(b"{ not json")
    assert cli.main(["reset", REAL_CHECKPOINTS[0]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err
    assert snapshot(root) == before and not paths.backups_dir().exists()


def test_cli_reset(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(root, SAMPLE)
    before = snapshot(root)
    assert cli.main(["reset", "no-such-checkpoint"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "unknown checkpoint 'no-such-checkpoint'" in captured.err
    assert snapshot(root) == before
    assert cli.main(["reset", REAL_CHECKPOINTS[0]]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"reset to {REAL_CHECKPOINTS[0]}: ") and out.count("\n") == 1
    assert list_backups()[0].id in out


# ---------------------------------------------------------------- with solutions written for the test


def _notebook(path: Path, *sources: str) -> None:
    nb = new_notebook()
    nb.cells = [new_code_cell(source) for source in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _checkpoint(folder: Path, number: int, checkpoint: str, notebook: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{number:02d}-{checkpoint}.toml").write_text(
        f'id = "{checkpoint}"\ntitle = "t"\nnotebook = "{notebook}"\nmodule = "test_{checkpoint}.py"\n'
    )


@pytest.fixture
def made_up_solutions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two notebooks; the second rewrites a file of the first. The registry also names a checkpoint
    that no notebook reaches."""
    solutions, checkpoints = tmp_path / "solutions", tmp_path / "checkpoints"
    _notebook(
        solutions / "00-first.ipynb",
        "%load_ext workbook\n%begin 00-first",
        "%%service svc src/main.py\nVERSION = 1\n",
        "%%service svc README.md\n# svc\n",
        "print('not a service cell')",
        "%checkpoint one",
    )
    _notebook(
        solutions / "01-second.ipynb",
        "%%service svc src/main.py\nVERSION = 2\n### BEGIN SOLUTION\nANSWER = 42\n### END SOLUTION\n",
        "%%service other run.sh\necho hi",
        "%checkpoint two",
    )
    _checkpoint(checkpoints / "registry", 0, "one", "00-first.ipynb")
    _checkpoint(checkpoints / "registry", 1, "two", "01-second.ipynb")
    _checkpoint(checkpoints / "registry", 2, "three", "02-third.ipynb")
    monkeypatch.setattr(paths, "solutions_dir", lambda: solutions)
    monkeypatch.setattr(registry, "checkpoints_dir", lambda: checkpoints)
    return solutions


def test_later_writes_win_and_earlier_notebooks_count(root: Path, made_up_solutions: Path) -> None:
    reset_to("one")
    assert files_on_disk(root) == {
        root / "svc/src/main.py": b"VERSION = 1\n",
        root / "svc/README.md": b"# svc\n",
    }
    outcome = reset_to("two")
    assert files_on_disk(root) == {
        root / "svc/src/main.py": b"VERSION = 2\nANSWER = 42\n",
        root / "svc/README.md": b"# svc\n",
        root / "other/run.sh": b"echo hi\n",
    }
    assert len(outcome.written) == 3 and "3 files" in outcome.summary()


def test_a_registered_checkpoint_no_notebook_reaches_changes_nothing(
    root: Path, made_up_solutions: Path
) -> None:
    build(root, SAMPLE)
    before = snapshot(root)
    with pytest.raises(ResetError, match="no solution notebook"):
        reset_to("three")
    assert snapshot(root) == before and not paths.backups_dir().exists()


@pytest.mark.parametrize(
    "bad_cell, error",
    [
        ("%%service svc ../../escape.py\nx = 1\n", ServicePathError),
        ("%%service svc ok.py\n### BEGIN SOLUTION\nx = 1\n", RegionError),
    ],
)
def test_a_bad_solution_cell_is_found_before_anything_is_touched(
    root: Path, made_up_solutions: Path, bad_cell: str, error: type[Exception]
) -> None:
    _notebook(
        made_up_solutions / "01-second.ipynb", "%%service svc a.py\nA = 1\n", bad_cell, "%checkpoint two"
    )
    build(root, SAMPLE)
    before = snapshot(root)
    with pytest.raises(error):
        reset_to("two")
    assert snapshot(root) == before and not paths.backups_dir().exists()


def test_a_reset_stopped_midway_names_its_backup(
    root: Path, made_up_solutions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbook import writer

    def disk_full(*args: object) -> list[Path]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write_all", disk_full)
    build(root, SAMPLE)
    with pytest.raises(ResetError, match="stopped midway") as raised:
        reset_to("one")
    assert list_backups()[0].id in str(raised.value)


# ---------------------------------------------------------------- property: reset, then restore


@settings(PROPERTY, max_examples=30)
@given(tree=TREES, checkpoint=st.sampled_from(["start", *REAL_CHECKPOINTS]))
def test_reset_then_restore_gives_back_the_same_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tree: dict[str, Node], checkpoint: str
) -> None:
    root = fresh_workspace(tmp_path, monkeypatch)
    build(root, tree)
    original = snapshot(root)
    outcome = reset_to(checkpoint)
    assert {p for p, e in snapshot(root).items() if e[0] == "file"} >= {
        p.relative_to(root).as_posix() for p in expected_files(root, checkpoint)
    }
    restore(outcome.backup.id)
    assert snapshot(root) == original


def test_a_reset_records_which_notebook_wrote_each_file(root):
    from workbook.writer import later_writer

    reset_to("task-routes", root)
    assert later_writer("task-service", "src/main.py", "02-the-app", root) == "05-routes"
    reset_to("task-app", root)  # back to 02's main.py: re-running 02 writes it again
    assert later_writer("task-service", "src/main.py", "02-the-app", root) is None
