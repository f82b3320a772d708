"""The progress report: the real checklist, a synthetic registry and synthetic progress."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from workbook import checklist as checklists
from workbook import cli, paths, progress, record
from workbook.record import CheckpointProgress, NotebookProgress, Progress
from workbook.registry import load as load_registry

NOW = datetime(2025, 12, 10, 10, 0, tzinfo=timezone.utc)
CHECKPOINTS = {
    # file name: (id, notebook, steps, milestone)
    "00-environment.toml": ("environment", "00-orientation.ipynb", [], ""),
    "01-structure.toml": ("project-structure", "01-project-structure.ipynb", ["2.1"], "task-service setup"),
    "02-main.toml": ("main-app", "02-main-app.ipynb", ["2.2", "2.8"], "task-service setup"),
    "03-models.toml": ("task-models", "03-task-models.ipynb", ["2.3", "2.8"], "task-service code"),
    "04-tests.toml": ("task-tests", "04-task-tests.ipynb", ["2.10"], "task-service tests"),
}


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 12, 10, hour, minute, second, tzinfo=timezone.utc)


def passed(when: datetime, still_passing: bool = True) -> CheckpointProgress:
    return CheckpointProgress(passed=still_passing, last_run_at=when, passed_at=when, attempts=1)


@pytest.fixture
def registry_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "registry"
    folder.mkdir()
    for name, (cp_id, notebook, steps, milestone) in CHECKPOINTS.items():
        (folder / name).write_text(
            f'id = "{cp_id}"\ntitle = "{cp_id}"\nnotebook = "{notebook}"\nsteps = {steps!r}\n'
            f'milestone = "{milestone}"\ntarget_minutes = 5\nmodule = "test_{cp_id}.py"\n',
            encoding="utf-8",
        )
    return folder


@pytest.fixture
def state() -> Progress:
    """environment: 4 min (not a milestone); project-structure: 12 min; main-app: 7.5 min, then
    failing; task-models: never passed; task-tests: passed, but its notebook has no start."""
    state = Progress(
        notebooks={
            "00-orientation": NotebookProgress(started_at=at(9, 0)),
            "01-project-structure": NotebookProgress(started_at=at(9, 5)),
            "02-main-app": NotebookProgress(started_at=at(9, 20)),
            "03-task-models": NotebookProgress(started_at=at(9, 30)),
        },
        checkpoints={
            "environment": passed(at(9, 4)),
            "project-structure": passed(at(9, 17)),
            "main-app": CheckpointProgress(
                passed=False, last_run_at=at(9, 40), passed_at=at(9, 27, 30), attempts=3
            ),
            "task-models": CheckpointProgress(passed=False, last_run_at=at(9, 50), attempts=1),
            "task-tests": passed(at(9, 55)),
        },
    )
    record.save(state)
    return state


def line_of(text: str, start: str) -> str:
    matches = [line for line in text.splitlines() if line.startswith(start)]
    assert len(matches) == 1, (start, matches)
    return matches[0]


def test_the_real_checklist_parses() -> None:
    checklist = checklists.parse_checklist(paths.checklist_file().read_text(encoding="utf-8"))
    assert checklist.title == "Phase 2 Session Checklist"
    assert [s.number for s in checklist.steps] == [f"2.{n}" for n in range(1, 24)]
    first = checklist.steps[0]
    assert first.title == "Directory Structure"
    assert [i.text for i in first.items] == [
        "Create `app/services/task-service/` structure",
        "Understand each folder's purpose",
        "Create all `__init__.py` files",
    ]
    tests_step = checklist.steps[9]
    assert tests_step.title == "Tests"
    assert [(i.depth, i.text[:22]) for i in tests_step.items[:3]] == [
        (0, "Create `conftest.py` w"),
        (0, "Write unit tests (`tes"),
        (1, "`test_models.py` - Tes"),
    ]
    assert [c.heading for c in checklist.self_checks] == [
        "After task-service",
        "After user-service",
        "After auth-service",
        "After notification-service",
    ]
    assert checklist.steps[8].questions == ("What is a span?", "What is a trace?")
    assert checklist.steps[15].questions == ("How is Flask different from FastAPI?",)
    assert checklist.self_checks[0].prompt == "Can you explain:"
    assert len(checklist.self_checks[0].questions) == 5
    assert [(m.name, m.target_minutes) for m in checklist.milestones][:2] == [
        ("task-service setup", 15),
        ("task-service code", 20),
    ]
    assert len(checklist.milestones) == 8
    assert (checklist.total.target, checklist.total.target_minutes) == ("2h 20min", 140)
    assert sum(m.target_minutes or 0 for m in checklist.milestones) == 140


@pytest.mark.parametrize(
    "text, minutes", [("15 min", 15), ("2h 20min", 140), ("1h", 60), ("5min", 5), ("", None), ("soon", None)]
)
def test_targets_are_read_as_minutes(text: str, minutes: float | None) -> None:
    assert checklists.parse_minutes(text) == minutes


def test_steps_are_ticked_from_the_checkpoints(registry_folder: Path, state: Progress) -> None:
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert (
        line_of(text, "- [x] Step 2.1:")
        == "- [x] Step 2.1: Directory Structure (checkpoint project-structure)"
    )
    assert line_of(text, "  - [x] Create all `__init__.py` files").endswith("files")  # sub-items ticked too
    assert line_of(text, "- [ ] Step 2.2:").endswith(
        "(checkpoint main-app) - passed once, failing on its last run"
    )
    assert line_of(text, "  - [ ] Add CORS middleware")
    assert line_of(text, "- [ ] Step 2.3:").endswith("(checkpoint task-models)")
    # 2.8 is covered by two checkpoints: neither passes now.
    assert "(checkpoints main-app, task-models)" in line_of(text, "- [ ] Step 2.8:")
    assert line_of(text, "- [ ] Step 2.4:").endswith("(no checkpoint yet)")
    assert line_of(text, "- [x] Step 2.10:") == "- [x] Step 2.10: Tests (checkpoint task-tests)"
    assert line_of(text, "    - [x] `test_models.py`")  # nested sub-items keep their depth
    assert text.count("- [x] Step") == 2
    assert text.count("(no checkpoint yet)") == 23 - 5


def test_a_step_needs_every_covering_checkpoint(registry_folder: Path, state: Progress) -> None:
    state.checkpoints["main-app"] = passed(at(9, 27, 30))
    record.save(state)
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert line_of(text, "- [x] Step 2.2:")
    assert line_of(text, "- [ ] Step 2.8:")  # task-models still fails
    state.checkpoints["task-models"] = passed(at(9, 45))
    record.save(state)
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert line_of(text, "- [x] Step 2.8:")
    cells = [cell.strip() for cell in line_of(text, "| task-service code").strip("|").split("|")]
    assert cells[2] == "15 min"  # 09:30 -> 09:45
    cells = [cell.strip() for cell in line_of(text, "| TOTAL").strip("|").split("|")]
    assert cells[2:] == ["34.5 min", "4 of 4 checkpoints passed"]  # 12 + 7.5 + 15


def test_learning_checkpoints_are_left_to_the_learner(registry_folder: Path, state: Progress) -> None:
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert "## Learning checkpoints\n\nTicked when the checkpoint that answers them passes" in text
    assert "### After task-service\nCan you explain:\n- [ ] How a request flows through the system?" in text
    assert "- [ ] Event-driven architecture benefits?" in text
    assert line_of(text, "  - [ ] Question to ask: What is `__init__.py` for?").endswith("for?")


@pytest.mark.parametrize(
    "text, questions",
    [
        ("What is a span? What is a trace?", ("What is a span?", "What is a trace?")),
        ("How does `Depends()` work?", ("How does `Depends()` work?",)),
        ("Explain the flow", ("Explain the flow",)),
    ],
)
def test_questions_are_split_one_each(text: str, questions: tuple[str, ...]) -> None:
    assert checklists.split_questions(text) == questions


ANSWERS = 'answers = ["How is Flask different from FastAPI?", "After user-service"]\n'


def test_questions_are_ticked_when_the_checkpoint_answering_them_passes(
    registry_folder: Path, state: Progress
) -> None:
    (registry_folder / "05-compare.toml").write_text(
        'id = "user-compare"\ntitle = "t"\nnotebook = "05-compare.ipynb"\nsteps = []\n'
        f'{ANSWERS}milestone = "user-service"\ntarget_minutes = 3\nmodule = "test_user_compare.py"\n',
        encoding="utf-8",
    )
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    question = "  - [ ] Question to ask: How is Flask different from FastAPI?"
    assert line_of(text, question).endswith("(answered by checkpoint user-compare)")
    assert "### After user-service (answered by checkpoint user-compare)\nCan you explain:" in text
    assert line_of(text, "- [ ] Differences between FastAPI and Flask?")
    state.checkpoints["user-compare"] = passed(at(9, 58))
    record.save(state)
    text, written = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert line_of(text, question.replace("[ ]", "[x]"))
    for asked in ["Differences between FastAPI and Flask?", "When to use each framework?"]:
        assert line_of(text, f"- [x] {asked}")
    assert line_of(text, "- [ ] How a request flows through the system?")  # answered by none
    assert line_of(text, "  - [ ] Question to ask: What is a span?")
    page = written[1].read_text(encoding="utf-8")
    assert '<li class="done">\u2611 Question to ask: How is Flask different from FastAPI? <span' in page
    assert "<h3>After user-service (answered by checkpoint user-compare)</h3>" in page
    assert '<li class="todo">\u2610 How a request flows through the system?</li>' in page


def test_every_answer_names_a_question_of_the_checklist() -> None:
    checklist = checklists.parse_checklist(paths.checklist_file().read_text(encoding="utf-8"))
    known = {q for step in checklist.steps for q in step.questions}
    known |= {c.heading for c in checklist.self_checks} | {
        q for c in checklist.self_checks for q in c.questions
    }
    for checkpoint in load_registry():
        assert set(checkpoint.answers) <= known, f"{checkpoint.id}: {set(checkpoint.answers) - known}"


def test_part_2_is_ticked_once_its_checkpoints_pass() -> None:
    """The real registry: steps 2.15 to 2.18, step 2.16's question and the learning checkpoint
    After user-service are all ticked when every checkpoint passes."""
    record.save(Progress(checkpoints={cp.id: passed(at(9, 0)) for cp in load_registry()}))
    text, _ = progress.write_report(now=NOW)
    for step in ["2.15", "2.16", "2.17", "2.18"]:
        assert line_of(text, f"- [x] Step {step}:")
    assert line_of(text, "  - [x] Question to ask: How is Flask different from FastAPI?")
    heading = line_of(text, "### After user-service")
    assert "(answered by checkpoint" in heading
    for asked in [
        "Differences between FastAPI and Flask?",
        "When to use each framework?",
        "How Flask handles routes?",
    ]:
        assert line_of(text, f"- [x] {asked}")


def test_minutes_per_milestone_and_total(registry_folder: Path, state: Progress) -> None:
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    cells = [cell.strip() for cell in line_of(text, "| task-service setup").strip("|").split("|")]
    assert cells == ["task-service setup", "15 min", "19.5 min", "1 of 2 checkpoints passed"]  # 12 + 7.5
    cells = [cell.strip() for cell in line_of(text, "| task-service code").strip("|").split("|")]
    assert cells == ["task-service code", "20 min", "-", "0 of 1 checkpoints passed"]
    cells = [cell.strip() for cell in line_of(text, "| task-service tests").strip("|").split("|")]
    assert cells == ["task-service tests", "10 min", "-", "1 of 1 checkpoints passed"]  # no start: unmeasured
    cells = [cell.strip() for cell in line_of(text, "| user-service").strip("|").split("|")]
    assert cells == ["user-service", "30 min", "-", "no checkpoint yet"]
    cells = [cell.strip() for cell in line_of(text, "| TOTAL").strip("|").split("|")]
    assert cells == ["TOTAL", "2h 20min", "19.5 min", "2 of 4 checkpoints passed"]
    assert "Also measured, outside the checklist's milestones: environment 4 min." in text
    assert text.endswith("Checkpoints passed: 3 of 5.")


def test_minutes_to_pass_edge_cases(registry_folder: Path) -> None:
    checkpoint = {cp.id: cp for cp in load_registry(registry_folder)}["main-app"]
    started = {"02-main-app": NotebookProgress(started_at=at(9, 20))}
    assert progress.minutes_to_pass(checkpoint, Progress(notebooks=started)) is None  # never run
    state = Progress(notebooks=started, checkpoints={"main-app": passed(at(9, 21, 30))})
    assert progress.minutes_to_pass(checkpoint, state) == 1.5
    state.checkpoints["main-app"] = passed(at(9, 10))  # passed before the notebook started: no time
    assert progress.minutes_to_pass(checkpoint, state) is None
    naive = Progress(
        notebooks={"02-main-app": NotebookProgress(started_at=datetime(2025, 12, 10, 9, 20))},
        checkpoints={"main-app": passed(at(9, 50))},
    )
    assert progress.minutes_to_pass(checkpoint, naive) == 30


def test_nothing_measured_yet(registry_folder: Path) -> None:
    text, _ = progress.write_report(now=NOW, registry_folder=registry_folder)
    cells = [cell.strip() for cell in line_of(text, "| TOTAL").strip("|").split("|")]
    assert cells == ["TOTAL", "2h 20min", "-", "0 of 4 checkpoints passed"]
    assert "Also measured" not in text
    assert text.endswith("Checkpoints passed: 0 of 5.")
    assert "- [x]" not in text


def test_files_are_written_with_the_same_content(registry_folder: Path, state: Progress) -> None:
    text, written = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert written == [paths.state_dir() / "progress.md", paths.state_dir() / "progress.html"]
    assert written[0].read_text(encoding="utf-8") == text + "\n"
    page = written[1].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "@media print" in page
    assert (
        "<td>task-service setup</td><td>15 min</td><td>19.5 min</td><td>1 of 2 checkpoints passed</td>"
        in page
    )
    assert '<tr class="total"><td>TOTAL</td><td>2h 20min</td><td>19.5 min</td>' in page
    assert "\u2611 <strong>Step 2.1: Directory Structure</strong>" in page
    assert "Create all <code>__init__.py</code> files" in page
    assert "Checkpoints passed: 3 of 5." in page and "Generated 2025-12-10 10:00 UTC." in page
    assert page.count("<svg") == 1 and "task-service setup</text>" in page  # the chart, inline
    assert "<script" not in page and "<link" not in page and "src=" not in page  # self-contained


def test_the_report_is_deterministic(registry_folder: Path, state: Progress) -> None:
    text, written = progress.write_report(now=NOW, registry_folder=registry_folder)
    first = [path.read_bytes() for path in written]
    again, written = progress.write_report(now=NOW, registry_folder=registry_folder)
    assert again == text and [path.read_bytes() for path in written] == first


def test_a_corrupt_progress_file_stops_everything(registry_folder: Path) -> None:
    paths.progress_file().parent.mkdir(parents=True)
    paths.progress_file().write_text('{"checkpoints": {"x": {"passed": "maybe"}}}', encoding="utf-8")
    with pytest.raises(record.ProgressError, match="corrupt"):
        progress.write_report(now=NOW, registry_folder=registry_folder)
    assert not (paths.state_dir() / "progress.md").exists()
    assert not (paths.state_dir() / "progress.html").exists()


def test_the_progress_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "## Time tracking" in out and "written: " in out and "progress.html" in out
    paths.progress_file().write_text("not json", encoding="utf-8")
    assert cli.main(["progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbook progress: progress file") and err.count("\n") == 1


def test_a_checklist_without_its_sections_is_refused() -> None:
    with pytest.raises(checklists.ChecklistError, match="Time Tracking"):
        checklists.parse_checklist("# Checklist\n\n## Implementation Checklist\n\n## Learning Checkpoints\n")
    table = "## Time Tracking\n\n| Milestone | Target Time |\n|---|---|\n| setup | 15 min |\n"
    with pytest.raises(checklists.ChecklistError, match="TOTAL"):
        checklists.parse_checklist("## Implementation Checklist\n## Learning Checkpoints\n" + table)
