import pytest

from workbook import cli, registry


def run(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_checkpoints_lists_every_id(capsys):
    status, out, _ = run(capsys, "checkpoints")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == [cp.id for cp in registry.load()]


@pytest.mark.parametrize("argv", [["check", "nope"], ["reset", "nope"]])
def test_unknown_checkpoint_is_one_line_and_status_2(capsys, argv, isolated_workspace):
    (isolated_workspace / "keep.txt").write_text("mine")
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "unknown checkpoint 'nope'" in err
    assert [p.name for p in isolated_workspace.iterdir()] == ["keep.txt"]


def test_corrupt_progress_is_one_line_and_changes_nothing(capsys, tmp_path):
    corrupt = tmp_path / "state" / "progress.json"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text("[1, 2")
    for argv in (["check", "environment"], ["check"]):
        status, _, err = run(capsys, *argv)
        assert status == 2 and "corrupt" in err and err.count("\n") == 1
    assert corrupt.read_text() == "[1, 2"


def test_check_without_id_and_no_progress_says_how_to_start(capsys):
    status, out, _ = run(capsys, "check")
    assert status == 0 and "no checkpoint reached yet" in out


def test_check_after_a_reset_runs_every_checkpoint_up_to_it(capsys, isolated_workspace, monkeypatch):
    from workbook import check, record

    order = [cp.id for cp in registry.load()]
    ran: list[str] = []

    def fake_run(checkpoint):
        ran.append(checkpoint.id)
        return check.CheckpointResult(checkpoint, (check.CheckResult("test_x", "passed", "x", "", "hint"),))

    monkeypatch.setattr(check, "run_checkpoint", fake_run)
    status, out, _ = run(capsys, "reset", order[2])
    assert status == 0 and f"reset to {order[2]}" in out and record.load().reset_to == order[2]
    status, out, _ = run(capsys, "check")
    assert status == 0 and ran == order[:3]
    assert run(capsys, "reset", "start")[0] == 0 and record.load().reset_to is None


def test_check_runs_the_checkpoint_and_records_it(capsys, isolated_workspace):
    from workbook.cells import writes_until
    from workbook.paths import solutions_dir
    from workbook.writer import write_all

    first = registry.load()[0]
    status, out, _ = run(capsys, "check", first.id)
    assert status == 1 and "checks passed" in out and "checkpoint: 0 passed, 1 failed" in out
    write_all(writes_until(solutions_dir(), first.id), isolated_workspace)
    status, out, _ = run(capsys, "check")
    formatting = 1  # the check that the notebook's Python files pass black and flake8
    assert (
        status == 0
        and f"All {len(first.checks) + formatting} checks of checkpoints/{first.module} passed." in out
    )
    assert out.rstrip().endswith("1 checkpoint: 1 passed.")


def test_notebooks_check_names_the_stale_ones(capsys, monkeypatch, tmp_path):
    from workbook import notebooks

    stale = [tmp_path / "03-x.ipynb"]
    monkeypatch.setattr(notebooks, "generate", lambda check: stale)
    status, _, err = run(capsys, "notebooks", "--check")
    assert status == 1 and "stale (03-x.ipynb)" in err and "make notebooks" in err
    status, out, _ = run(capsys, "notebooks")
    assert status == 0 and "regenerated 1 learner notebook" in out
    stale.clear()
    assert run(capsys, "notebooks", "--check")[:2] == (
        0,
        "notebooks/ is fresh: every learner notebook matches its solution\n",
    )


def test_outputs_of_a_missing_notebook_is_a_clear_error(capsys):
    status, _, err = run(capsys, "outputs", "99-nothing")
    assert status == 2 and "no single solution notebook named '99-nothing'" in err


def test_outputs_refuses_where_ci_would_replay_something_else(capsys, monkeypatch):
    from workbook import outputs

    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(outputs.shutil, "which", lambda name: None if name.startswith("chromium") else name)
    monkeypatch.setattr(outputs, "execute_in_place", lambda path: pytest.fail("nothing may run"))
    status, _, err = run(capsys, "outputs", "14")
    assert status == 2 and "nothing refreshed" in err
    assert "missing: Chromium, TEST_DATABASE_URL" in err


@pytest.mark.parametrize(
    ("argv", "refreshed"),
    [
        (["14"], ["14-dependencies.ipynb"]),
        (["15-documentation.ipynb", "02-the-app"], ["15-documentation.ipynb", "02-the-app.ipynb"]),
        (["15", "--onward"], None),  # None: 15 and every later notebook
    ],
)
def test_outputs_refreshes_the_named_notebooks_or_those_onward(capsys, monkeypatch, argv, refreshed):
    from workbook import outputs
    from workbook.paths import solutions_dir

    if refreshed is None:
        refreshed = sorted(p.name for p in solutions_dir().glob("*.ipynb") if p.name >= "15")
        assert refreshed[:2] == ["15-documentation.ipynb", "16-testing-everything.ipynb"]

    ran: list[str] = []
    monkeypatch.setattr(outputs, "missing_prerequisites", lambda: [])
    monkeypatch.setattr(outputs, "execute_in_place", lambda path: ran.append(path.name))
    status, out, _ = run(capsys, "outputs", *argv)
    assert status == 0 and ran == refreshed
    assert out.splitlines() == [f"refreshed the stored outputs of {name}" for name in refreshed]


@pytest.mark.parametrize(
    ("argv", "module", "function", "expected"),
    [
        (["replay", "03", "04", "--workers", "2"], "replay", "replay", ((["03", "04"],), {"workers": 2})),
        (["prove", "task-app"], "prove", "prove", ((["task-app"],), {})),
        (["docker", "--reference"], "docker", "export_images", ((), {"reference": True})),
        (["docker"], "docker", "export_images", ((), {"reference": False})),
        (["bench"], "bench", "run_bench", ((), {})),
    ],
)
def test_each_command_runs_its_own_module(capsys, monkeypatch, argv, module, function, expected):
    import importlib

    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return 3

    monkeypatch.setattr(importlib.import_module(f"workbook.{module}"), function, record)
    assert run(capsys, *argv)[0] == 3
    assert calls == [expected]
