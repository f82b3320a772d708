import pytest

from notebook_factory import make_notebook
from workbook.cells import (
    CellSyntaxError,
    Reached,
    Write,
    all_events,
    checkpoint_order,
    split_service_cell,
    writes_before,
    writes_until,
)


@pytest.fixture
def folder(tmp_path):
    make_notebook(
        tmp_path / "01-one.ipynb", "%load_ext workbook", "%%service svc a.py\na = 1", "%checkpoint one"
    )
    make_notebook(
        tmp_path / "02-two.ipynb",
        "# Two",
        "%%service svc b.py\nb = 2",
        "%%service other c.py\nc = 3",
        "print('not a checkpoint')\n%checkpoint two",
    )
    (tmp_path / "notes.ipynb").write_text("not numbered, not read")
    return tmp_path


def test_events_come_in_notebook_then_cell_order(folder):
    assert all_events(folder) == [
        Write("svc", "a.py", "a = 1", "01-one.ipynb", "cell-1"),
        Reached("one", "01-one.ipynb"),
        Write("svc", "b.py", "b = 2", "02-two.ipynb", "cell-1"),
        Write("other", "c.py", "c = 3", "02-two.ipynb", "cell-2"),
        Reached("two", "02-two.ipynb"),
    ]
    assert checkpoint_order(folder) == ["one", "two"]


def test_writes_until_a_checkpoint_and_between_two(folder):
    assert [w.path for w in writes_until(folder, "one")] == ["a.py"]
    assert [w.path for w in writes_until(folder, "two")] == ["a.py", "b.py", "c.py"]
    assert [w.path for w in writes_until(folder, "two", after="one")] == ["b.py", "c.py"]
    assert writes_until(folder, None) == []


def test_an_absent_checkpoint_is_a_key_error(folder):
    with pytest.raises(KeyError):
        writes_until(folder, "missing")
    with pytest.raises(KeyError):
        writes_until(folder, "one", after="two")


def test_writes_before_a_notebook(folder):
    assert [w.path for w in writes_before(folder, "02-two.ipynb")] == ["a.py"]
    assert writes_before(folder, "01-one.ipynb") == []


def test_service_cell_header_parsing():
    assert split_service_cell("%%service task-service src/main.py\nbody\n") == (
        "task-service",
        "src/main.py",
        "body\n",
    )
    assert split_service_cell("print(1)") is None
    with pytest.raises(CellSyntaxError, match="usage"):
        split_service_cell("%%service only-one-arg\n")


def test_the_replace_flag_is_read_and_the_rest_unchanged():
    from workbook.cells import parse_service_line

    assert parse_service_line("--replace task-service src/main.py") == ("task-service", "src/main.py", True)
    assert parse_service_line("task-service src/main.py") == ("task-service", "src/main.py", False)
    assert split_service_cell("%%service --replace svc a.py\nx = 1\n") == ("svc", "a.py", "x = 1\n")
    with pytest.raises(CellSyntaxError, match=r"usage: %%service \[--replace\] SERVICE PATH"):
        parse_service_line("--replace only-one")


def test_a_copy_is_read_as_writes_of_the_last_bodies_renamed(tmp_path):
    make_notebook(
        tmp_path / "01-one.ipynb", '%%service task-service a.py\nA = "task-service"', "%checkpoint one"
    )
    make_notebook(
        tmp_path / "02-two.ipynb",
        '%%service task-service a.py\nA = "task_service v2"',
        "%service_copy task-service auth-service a.py\n%checkpoint two",
        "%service_copy auth-service third-service a.py",
    )
    writes = [e for e in all_events(tmp_path) if isinstance(e, Write)]
    assert [(w.service, w.body) for w in writes] == [
        ("task-service", 'A = "task-service"'),
        ("task-service", 'A = "task_service v2"'),
        ("auth-service", 'A = "auth_service v2"'),
        ("third-service", 'A = "third_service v2"'),
    ]
    assert [w.service for w in writes_until(tmp_path, "two", after="one")] == ["task-service", "auth-service"]
    assert [w.service for w in writes_before(tmp_path, "03-three.ipynb")][-1] == "third-service"


def test_a_copy_of_a_file_no_cell_writes_is_a_syntax_error(tmp_path):
    make_notebook(tmp_path / "01-one.ipynb", "%service_copy task-service auth-service nowhere.py")
    with pytest.raises(CellSyntaxError, match="task-service/nowhere.py, which no earlier cell writes"):
        all_events(tmp_path)
