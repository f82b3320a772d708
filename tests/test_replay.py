import os
from pathlib import Path
from types import SimpleNamespace

from notebook_factory import make_notebook
from workbook import process, replay, replay_plugin


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
