"""The benchmark's arithmetic and table, with injected timings: nothing here times anything real."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from workbook import bench
from workbook.bench import Row, Timing
from workbook.registry import Checkpoint


def write_notebook(path: Path, *sources: str) -> None:
    nb = new_notebook()
    nb.cells = [new_code_cell(source) for source in sources]
    nbformat.write(nb, path)


def write_checkpoint(folder: Path, name: str, cp_id: str, notebook: str) -> None:
    folder.mkdir(exist_ok=True)
    text = f'id = "{cp_id}"\ntitle = "t"\nnotebook = "{notebook}"\nmodule = "test_{cp_id}.py"\n'
    (folder / name).write_text(text, encoding="utf-8")


def test_the_median_of_the_runs() -> None:
    row = bench.summarize("check cp", 5.0, [Timing(3.0, 0), Timing(1.0, 0), Timing(2.0, 0)])
    assert (row.runs, row.median_seconds, row.ratio, row.within_target, row.problem) == (
        3,
        2.0,
        0.4,
        "yes",
        "",
    )
    slow = bench.summarize("reset cp", 2.0, [Timing(3.0, 0), Timing(2.4, 0), Timing(9.0, 0)])
    assert (slow.median_seconds, slow.ratio, slow.within_target) == (3.0, 1.5, "no")
    assert bench.summarize("replay", 180.0, [Timing(180.0, 0)]).within_target == "no"  # the target is strict


def test_a_failed_run_is_no_measurement() -> None:
    timings = [Timing(1.0, 0), Timing(0.5, 1, "checks ran\nE   AssertionError: boom\n"), Timing(2.0, 0)]
    row = bench.summarize("check cp", 5.0, timings)
    assert row.median_seconds == 1.0
    assert row.problem == "exit 1: E   AssertionError: boom"
    assert row.within_target == "-"
    assert bench.summarize("check cp", 5.0, []) == Row("check cp", 5.0, problem="not run")


def test_the_table() -> None:
    rows = [
        Row("check task-models", 5.0, 3, 2.0),
        Row("reset task-models", 2.0, 3, 2.5),
        Row("replay (4 notebooks)", 180.0, 1, 95.25, "exit 1: 1 failed"),
        Row("reset x", 2.0, problem="skipped: not there"),
    ]
    lines = bench.render_table(rows).splitlines()
    assert lines[0].split() == [
        "operation",
        "runs",
        "median",
        "s",
        "target",
        "s",
        "ratio",
        "within",
        "target",
        "note",
    ]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == ["check", "task-models", "3", "2.00", "5", "0.40", "yes"]
    assert lines[3].split() == ["reset", "task-models", "3", "2.50", "2", "1.25", "no"]
    assert lines[4].split() == [
        "replay",
        "(4",
        "notebooks)",
        "1",
        "95.25",
        "180",
        "0.53",
        "-",
        "exit",
        "1:",
        "1",
        "failed",
    ]
    assert lines[5].split() == ["reset", "x", "0", "-", "2", "-", "-", "skipped:", "not", "there"]
    # numbers are right-aligned: the medians end in the same column
    assert lines[2].index("2.00") + 4 == lines[4].index("95.25") + 5


def test_the_checkpoints_a_solution_reaches_in_order(tmp_path: Path) -> None:
    solutions, registry = tmp_path / "solutions", tmp_path / "registry"
    solutions.mkdir()
    write_notebook(solutions / "00-a.ipynb", "%checkpoint first")
    write_notebook(solutions / "01-b.ipynb", "%%service demo x.py\nX = 1\n", "%checkpoint second")
    write_checkpoint(registry, "00-first.toml", "first", "00-a.ipynb")
    write_checkpoint(registry, "01-second.toml", "second", "01-b.ipynb")
    write_checkpoint(registry, "02-third.toml", "third", "02-c.ipynb")  # no solution yet
    assert [cp.id for cp in bench.reached_checkpoints(registry, solutions)] == ["first", "second"]
    assert bench.reached_checkpoints(registry, tmp_path / "nowhere") == []


@pytest.fixture
def fake_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    write_notebook(solutions / "00-a.ipynb", "%%service demo x.py\nX = 1\n", "%checkpoint cp")
    write_notebook(solutions / "01-b.ipynb", "%%service demo y.py\nY = 2\n", "%checkpoint later")
    checkpoint = Checkpoint("cp", "t", "00-a.ipynb", (), "", 0, "test_cp.py", {})
    monkeypatch.setattr(bench, "solutions_dir", lambda: solutions)
    later = Checkpoint("later", "t", "01-b.ipynb", (), "", 0, "test_later.py", {})
    # timed up to the first, so the scratch root must hold x.py and not y.py (FakeRunner checks)
    monkeypatch.setattr(bench, "reached_checkpoints", lambda: [later, checkpoint])
    return solutions


class FakeRunner:
    def __init__(self, seconds: float = 1.0, returncode: int = 0):
        self.calls: list[list[str]] = []
        self.seconds, self.returncode = seconds, returncode
        self.services: list[Path] = []

    def __call__(self, command: list[str], env: dict[str, str], timeout: float) -> Timing:
        self.calls.append(command[3:])
        self.services.append(Path(env["WORKBOOK_SERVICES_DIR"]))
        assert command[:3] == [sys.executable, "-m", "workbook"]
        assert Path(env["WORKBOOK_STATE_DIR"]).parent == Path(env["WORKBOOK_SERVICES_DIR"]).parent
        assert (Path(env["WORKBOOK_SERVICES_DIR"]) / "demo" / "x.py").read_text() == "X = 1\n"
        assert not (Path(env["WORKBOOK_SERVICES_DIR"]) / "demo" / "y.py").exists()  # after the checkpoint
        return Timing(self.seconds, self.returncode, "last line\n")


def test_run_bench_times_each_operation(fake_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = FakeRunner(seconds=1.0)
    assert bench.run_bench(runner) == 0
    assert runner.calls == [["check", "later"], ["check", "cp"]] + [["reset", "cp"]] * 3 + [
        ["replay", "--workers", "2"]
    ]
    assert len(set(runner.services)) == 1 and not runner.services[0].exists()  # scratch, removed after
    out = capsys.readouterr().out
    assert "Benchmark up to checkpoint cp" in out
    table = out[out.index("operation") :].splitlines()
    assert table[2].split() == ["check", "later", "1", "1.00", "5", "0.20", "yes"]
    assert table[3].split() == ["check", "cp", "1", "1.00", "5", "0.20", "yes"]
    assert table[4].split() == ["reset", "cp", "3", "1.00", "2", "0.50", "yes"]
    assert table[5].split() == [
        "replay",
        "(2",
        "notebooks,",
        "2",
        "workers)",
        "1",
        "1.00",
        "180",
        "0.01",
        "yes",
    ]


def test_run_bench_over_target_still_exits_0(fake_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run_bench(FakeRunner(seconds=10.0)) == 0
    table = capsys.readouterr().out.split("operation", 1)[1].splitlines()
    assert table[3].split() == ["check", "cp", "1", "10.00", "5", "2.00", "no"]
    assert table[5].split()[-1] == "yes"  # 10 s of 180


def test_run_bench_reports_a_failing_operation(fake_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run_bench(FakeRunner(returncode=2)) == 1
    assert "exit 2: last line" in capsys.readouterr().out


def test_nothing_to_time(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench, "reached_checkpoints", lambda: [])
    assert bench.run_bench(FakeRunner()) == 0
    assert "nothing to time" in capsys.readouterr().out


def test_run_timed_measures_a_real_command() -> None:
    timing = bench.run_timed([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"], {}, 60)
    assert (timing.returncode, timing.output) == (3, "hi\n")
    assert timing.seconds > 0
    slow = bench.run_timed([sys.executable, "-c", "import time; time.sleep(5)"], {}, 0.2)
    assert slow.returncode == 124 and slow.output.endswith("timed out after 0.2 s")
