"""workbook.planting_task: task-service's mutations on the shapes of code learners write; mutants run."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from workbook import planting, planting_task
from workbook.planting import (
    CannotPlant,
    Mutation,
    plant,
    run_mutant,
    run_mutants,
)
from workbook.planting_task import LIST_STATUS, TASK_SERVICE

ROUTES = '''
from typing import Annotated
from fastapi import APIRouter, Query

router = APIRouter()


@router.get("")
def list_tasks(db, status_filter: Annotated[str | None, Query(alias="status")] = None, limit: int = 20):
    """One page."""
    rows = db.query(status_filter)
    return rows


@router.get("/{task_id}")
def get_task(task_id: int):
    return task_id


@router.patch("/{task_id}")
def update_task(payload: TaskUpdate, task, db):
    for field, value in payload.model_dump(exclude_unset=True).items():
        setattr(task, field, value)
    return task


@router.delete("/{task_id}", status_code=204)
def delete_task(task, db) -> None:
    """Delete a task."""
    db.delete(task)
    db.flush()
'''

MODELS = """
from typing import Annotated
from pydantic import BaseModel, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TaskCreate(BaseModel):
    title: Title
"""


def body_of(source: str, name: str) -> list[str]:
    function = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == name
    )
    return [ast.unparse(statement) for statement in function.body]


def test_delete_deletes_nothing_keeps_the_docstring():
    planted = planting_task.delete_deletes_nothing(ROUTES)
    assert body_of(planted, "delete_task") == ["'Delete a task.'", "return None"]


def test_status_filter_is_found_by_its_alias_and_forgotten():
    planted = planting_task.status_filter_ignored(ROUTES)
    assert body_of(planted, "list_tasks")[1] == "status_filter = None"
    assert body_of(planted, "get_task") == ["return task_id"]  # the collection's GET, not /{task_id}


def test_patch_mutations_rewrite_the_body_parameter():
    assert (
        body_of(planting_task.patch_changes_nothing(ROUTES), "update_task")[0]
        == "payload = payload.model_construct()"
    )
    assert body_of(planting_task.patch_ignores_null(ROUTES), "update_task")[0] == (
        "payload = type(payload).model_validate(payload.model_dump(exclude_unset=True, exclude_none=True))"
    )


def test_patch_ignores_null_really_drops_the_nulls_sent():
    from pydantic import BaseModel

    class TaskUpdate(BaseModel):
        title: str | None = None
        description: str | None = None

    payload = TaskUpdate.model_validate({"description": None, "title": "kept"})
    namespace = {"payload": payload}
    exec(ast.unparse(ast.parse(planting_task.patch_ignores_null(ROUTES)).body[-2].body[0]), namespace)
    assert namespace["payload"].model_dump(exclude_unset=True) == {"title": "kept"}


def test_title_bounds_are_loosened_where_the_title_is_declared():
    assert "min_length=0" in TASK_SERVICE["empty-title"].plant(MODELS)
    assert "max_length=(200) + 1" in TASK_SERVICE["long-title"].plant(MODELS)


def test_an_empty_title_is_accepted_also_where_a_pattern_refuses_blanks():
    from pydantic import BaseModel

    guarded = MODELS.replace("max_length=200)", 'max_length=200, pattern=r"\\S")')
    assert "pattern=" in guarded
    namespace: dict = {}
    exec(TASK_SERVICE["empty-title"].plant(guarded), namespace)
    model = type("M", (BaseModel,), {"__annotations__": {"title": namespace["Title"]}})
    assert model(title="").title == ""


# Async routes that answer Pydantic models, as task-service's do; the router only marks them.
ANSWERING = '''
from pydantic import BaseModel


class router:
    get = patch = staticmethod(lambda path, **options: lambda function: function)


class TaskUpdate(BaseModel):
    description: str | None = None


class Answer(BaseModel):
    description: str | None


class Page(BaseModel):
    items: list[str]
    total: int


STORED = {"description": "old"}
TASKS = ["done", "todo"]


@router.get("/{task_id}")
async def get_task(task_id: int, db: object) -> Answer:
    return Answer(description=STORED["description"])


@router.patch("/{task_id}")
async def update_task(payload: TaskUpdate, task_id: int, db: object) -> Answer:
    """Change only the fields sent."""
    STORED.update(payload.model_dump(exclude_unset=True))
    return Answer(description=STORED["description"])


@router.get("")
async def list_tasks(db: object, status_filter: str | None = None) -> Page:
    rows = [task for task in TASKS if status_filter in (None, task)]
    return Page(
        items=rows,
        total=len(rows),
    )
'''


def run_planted(source: str, call: str) -> tuple[object, dict]:
    namespace: dict = {}
    exec(compile(source, "<planted>", "exec"), namespace)
    return asyncio.run(eval(call, namespace)), namespace


def test_patch_stores_the_null_but_answers_the_old_value():
    planted = TASK_SERVICE["patch-null-answer"].plant(ANSWERING)
    answer, namespace = run_planted(planted, "update_task(TaskUpdate(description=None), 1, None)")
    assert namespace["STORED"] == {"description": None}
    assert answer.description == "old"  # type: ignore[attr-defined]
    answer, _ = run_planted(planted, "update_task(TaskUpdate(description='new'), 1, None)")
    assert answer.description == "new"  # type: ignore[attr-defined]


def test_patch_answers_the_null_but_keeps_the_old_value():
    planted = TASK_SERVICE["patch-null-unsaved"].plant(ANSWERING)
    answer, namespace = run_planted(planted, "update_task(TaskUpdate(description=None), 1, None)")
    assert namespace["STORED"] == {"description": "old"}
    assert answer.description is None  # type: ignore[attr-defined]


def test_a_patch_sending_a_null_empties_the_tags():
    source = ANSWERING.replace(
        "    description: str | None = None\n",
        "    description: str | None = None\n    tags: list[str] | None = None\n",
    )
    planted = TASK_SERVICE["patch-null-tags"].plant(source)
    _, namespace = run_planted(planted, "update_task(TaskUpdate(description=None), 1, None)")
    assert namespace["STORED"] == {"description": None, "tags": []}
    _, namespace = run_planted(planted, "update_task(TaskUpdate(description='new'), 1, None)")
    assert namespace["STORED"] == {"description": "new"}


@pytest.mark.parametrize(
    ("name", "items", "total"), [("status-items", ["done", "todo"], 1), ("status-total", ["done"], 2)]
)
def test_half_of_the_status_filter_is_forgotten(name, items, total):
    planted = LIST_STATUS[name].plant(ANSWERING)
    page, _ = run_planted(planted, "list_tasks(None, 'done')")
    assert (page.items, page.total) == (items, total)  # type: ignore[attr-defined]
    page, _ = run_planted(planted, "list_tasks(None)")
    assert (page.items, page.total) == (["done", "todo"], 2)  # type: ignore[attr-defined]


def test_answers_are_rewritten_only_where_the_route_ends_in_a_return():
    with pytest.raises(CannotPlant, match="a `return ...` that ends list_tasks"):
        LIST_STATUS["status-items"].plant(ANSWERING.replace("    return Page(", "    Page("))
    with pytest.raises(CannotPlant, match=r"parameters \['db'\]"):
        TASK_SERVICE["patch-null-answer"].plant(
            ANSWERING.replace(
                'task_id: int, db: object) -> Answer:\n    """', 'task_id: int) -> Answer:\n    """'
            )
        )


@pytest.mark.parametrize(
    ("name", "source", "looked_for"),
    [
        ("delete", "def delete_task():\n    pass\n", "@router.delete"),
        (
            "status",
            ROUTES.replace('alias="status"', 'alias="state"').replace("status_filter", "s"),
            "status filter",
        ),
        ("patch", ROUTES.replace("payload: TaskUpdate", "body: dict"), "the PATCH body"),
        ("empty-title", "class TaskCreate:\n    title: str\n", "min_length"),
    ],
)
def test_code_of_another_shape_says_what_was_looked_for(name, source, looked_for):
    with pytest.raises(CannotPlant, match=looked_for):
        TASK_SERVICE[name].plant(source)


def test_a_delete_with_only_a_docstring_cannot_be_emptied():
    with pytest.raises(CannotPlant, match="a body in delete_task"):
        planting_task.delete_deletes_nothing(
            '@router.delete("/{id}")\ndef delete_task():\n    """Nothing."""\n'
        )


def service(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "__init__.py").write_text("")
    (root / "src" / "calc.py").write_text(
        "def double(x):\n    return 2 * x\n\n\ndef half(x):\n    return x / 2\n"
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(
        "from src.calc import double, half\n\n\ndef test_double():\n    assert double(2) == 4\n\n\n"
        "def test_half_runs():\n    half(4)\n"
    )
    (root / "conftest.py").write_text("")
    (root / "calc.db").write_text("a database the copy leaves out")
    return root


DOUBLE_WRONG = Mutation("src/calc.py", "double adds one", lambda s: s.replace("2 * x", "2 * x + 1"))
HALF_WRONG = Mutation("src/calc.py", "half doubles", lambda s: s.replace("x / 2", "x * 2"))
MISSING = Mutation("src/nowhere.py", "a file that is not there", lambda s: s)
NO_CHANGE = Mutation("src/calc.py", "changes nothing", lambda s: s)
BROKEN = Mutation("src/calc.py", "unparsable", lambda s: s + "def (:\n")


def test_plant_writes_the_mutant_and_returns_its_diff(tmp_path):
    folder = service(tmp_path / "svc")
    diff = plant(DOUBLE_WRONG, folder)
    assert "-    return 2 * x" in diff and "+    return 2 * x + 1" in diff
    assert "2 * x + 1" in (folder / "src" / "calc.py").read_text()


@pytest.mark.parametrize(
    ("mutation", "problem"),
    [(MISSING, "no such file"), (NO_CHANGE, "left the file as it was"), (BROKEN, "still parse")],
)
def test_plant_refuses_what_it_cannot_do(tmp_path, mutation, problem):
    with pytest.raises(CannotPlant, match=problem):
        plant(mutation, service(tmp_path / "svc"))


def test_mutants_are_caught_or_survive_in_copies_of_the_service(tmp_path):
    source = service(tmp_path / "svc")
    mutants = run_mutants(
        source,
        tmp_path / "scratch",
        {"double": DOUBLE_WRONG, "half": HALF_WRONG, "missing": MISSING},
        args=["tests"],
    )
    assert mutants["double"].caught and mutants["double"].caught_by == ["tests/test_calc.py::test_double"]
    assert mutants["half"].planted and not mutants["half"].caught  # test_half_runs asserts nothing
    assert not mutants["missing"].planted and not mutants["missing"].caught
    assert "could not plant the bug in src/nowhere.py" in mutants["missing"].problem
    assert mutants["missing"].caught_by == []
    assert "2 * x + 1" not in (source / "src" / "calc.py").read_text()  # the original is untouched
    assert not (tmp_path / "scratch" / "mutant-double" / "calc.db").exists()


def test_a_test_failing_without_a_bug_is_left_out(tmp_path):
    source = service(tmp_path / "svc")
    mutant = run_mutant(
        source,
        tmp_path / "scratch",
        "double",
        DOUBLE_WRONG,
        args=["tests"],
        deselect=["tests/test_calc.py::test_double"],
    )
    assert mutant.planted and not mutant.caught and mutant.run is not None and mutant.run.passed


def test_copying_a_missing_service_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="%%service cells"):
        planting.copy_service(tmp_path / "nothing", tmp_path / "copy")


def test_the_problems_a_planted_bugs_checkpoint_reports() -> None:
    from workbook.planting import Mutant, Planted, catch_problem, failing_tests, suite_problem
    from workbook.suites import SuiteRun

    bug = TASK_SERVICE["delete"]
    green = SuiteRun(0, "3 passed", {"tests/unit/test_a.py::t": "passed"})
    red = SuiteRun(1, "1 failed", {"tests/unit/test_a.py::t": "failed", "tests/e2e/x.py::u": "passed"})
    assert failing_tests(red) == ["tests/unit/test_a.py::t"]
    assert suite_problem(green) == ""
    assert "no test ran" in suite_problem(SuiteRun(5, "no tests ran"))
    assert "a failing test catches no bug: ['tests/unit/test_a.py::t']" in suite_problem(red)
    caught, missed = Mutant("delete", bug, "-x\n+y", run=red), Mutant("delete", bug, "-x", run=green)
    assert catch_problem(caught) == ""
    assert "every test still passed" in catch_problem(missed) and "-x" in catch_problem(missed)
    assert catch_problem(Mutant("delete", bug, problem="could not plant")) == "could not plant"
    assert "did not run" in catch_problem(Mutant("delete", bug, run=SuiteRun(4, "usage error")))
    assert Planted(green, {"delete": caught}).of(bug) is caught
