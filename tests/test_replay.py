import os
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from notebook_factory import make_notebook
from workbook import process, registry, replay, replay_plugin
from workbook.execute import execute_in_place
from workbook.runner import CheckpointResult, CheckResult


def test_replay_runs_nbval_strictly_in_the_current_env(monkeypatch, capsys):
    seen = {}

    def fake_run(command, extra_env, cwd, on_line):
        seen.update(command=command, env=extra_env)
        on_line("01-one.ipynb::Cell 0 PASSED")
        return process.Completed(0)

    monkeypatch.setattr(process, "run", fake_run)
    assert replay.replay([], workers=2) == 0
    assert capsys.readouterr().out == "01-one.ipynb::Cell 0 PASSED\n"
    command = seen["command"]
    assert {"--nbval", "--nbval-current-env", "--nbval-sanitize-with"} <= set(command)
    assert command[command.index("-p") + 1] == "workbook.replay_plugin"
    assert command[-2:] == ["--dist", "loadfile"]
    assert "WORKBOOK_REPLAY_DIR" in seen["env"]


def test_replay_of_an_unknown_notebook_is_refused(capsys):
    assert replay.replay(["99-nothing"]) == 2
    assert "no solution notebook matches 99-nothing" in capsys.readouterr().err


def test_the_plugin_lays_out_earlier_notebooks_before_the_kernel_starts(tmp_path, monkeypatch):
    make_notebook(tmp_path / "nbs/01-one.ipynb", "%%service svc a.py\na = 1", "%checkpoint one")
    second = make_notebook(tmp_path / "nbs/02-two.ipynb", "%%service svc b.py\nb = 2")
    monkeypatch.setenv("WORKBOOK_REPLAY_DIR", str(tmp_path / "replay"))
    replay_plugin.pytest_runtest_setup(SimpleNamespace(path=second))
    services = Path(os.environ["WORKBOOK_SERVICES_DIR"])
    assert services == tmp_path / "replay/02-two/services"
    assert (services / "svc/a.py").read_text() == "a = 1\n" and not (services / "svc/b.py").exists()
    assert os.environ["WORKBOOK_STATE_DIR"] == str(tmp_path / "replay/02-two/state")


def result(checkpoint, failing):
    checks = tuple(
        CheckResult(name, "failed" if name in failing else "passed", "", "boom", "")
        for name in checkpoint.checks
    )
    return CheckpointResult(checkpoint, checks)


@pytest.mark.parametrize(
    "solved_failing, unsolved_failing, status",
    [("exercises-none", "exercises", 0), ("exercises-none", "all", 1), ("exercises", "exercises", 1)],
)
def test_a_proof_needs_a_clean_pass_and_exactly_the_exercise_failures(
    monkeypatch, capsys, solved_failing, unsolved_failing, status
):
    checkpoint = registry.load()[0]
    sets = {
        "exercises-none": set(),
        "exercises": checkpoint.exercise_checks,
        "all": set(checkpoint.checks),
    }
    runs = iter([sets[solved_failing], sets[unsolved_failing]])
    monkeypatch.setattr(replay, "run_checkpoint", lambda cp, root: result(cp, next(runs)))
    assert replay.prove([checkpoint.id], workers=1) == status
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("checkpoint proofs: ")


def test_the_first_checkpoint_is_proven_for_real(capsys):
    first = registry.load()[0]
    assert replay.prove([first.id]) == 0, capsys.readouterr().out


def test_outputs_are_stored_from_a_scratch_services_root(tmp_path, isolated_workspace):
    notebook = make_notebook(
        tmp_path / "nbs/01-one.ipynb",
        "%load_ext workbook",
        "%%service svc a.py\nvalue = 41",
        "from workbook import import_service\nprint(import_service('svc', 'a').value + 1)",
    )
    execute_in_place(notebook)
    cells = nbformat.read(notebook, as_version=4).cells
    assert cells[1].outputs[0]["text"] == "wrote svc/a.py (1 line)\n"
    assert cells[2].outputs[0]["text"] == "42\n"
    assert list(isolated_workspace.iterdir()) == []
    assert os.environ["WORKBOOK_SERVICES_DIR"] == str(isolated_workspace)
