import os

import pytest

from workbook.cells import Write
from workbook.writer import ServicePathError, describe, target_path, write_all, write_service_file


def test_writes_under_the_services_root_creating_folders(isolated_workspace):
    path = write_service_file("task-service", "src/api/routes.py", "x = 1")
    assert path == isolated_workspace / "task-service" / "src" / "api" / "routes.py"
    assert path.read_text() == "x = 1\n"


def test_an_explicit_root_wins_over_the_environment(tmp_path):
    path = write_service_file("svc", "a.txt", "hello\n", root=tmp_path / "elsewhere")
    assert path == tmp_path / "elsewhere" / "svc" / "a.txt"


def test_markers_never_reach_the_disk():
    path = write_service_file(
        "svc", "a.py", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    )
    assert path.read_text() == "def f():\n    return 1\n"


def test_an_empty_cell_writes_an_empty_file():
    assert write_service_file("svc", "src/__init__.py", "").read_text() == ""


@pytest.mark.parametrize("service", ["Task", "../x", "", "a b", "-x"])
def test_bad_service_names_are_refused(service):
    with pytest.raises(ServicePathError, match="service name"):
        target_path(service, "a.py")


@pytest.mark.parametrize("path", ["/etc/passwd", "../other/a.py", "src/../../a.py", ""])
def test_paths_cannot_escape_the_service(path):
    with pytest.raises(ServicePathError, match="relative"):
        target_path("svc", path)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(monkeypatch, isolated_workspace):
    path = write_service_file("svc", "a.py", "old = 1")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_service_file("svc", "a.py", "new = 2")
    assert path.read_text() == "old = 1\n"
    assert [p.name for p in path.parent.iterdir()] == ["a.py"]


def test_the_printed_line_is_stable_and_counts_lines():
    assert describe("svc", "src/a.py", "a\nb\n### BEGIN SOLUTION\nc\n### END SOLUTION\n") == (
        "wrote svc/src/a.py (3 lines)"
    )


def test_write_all_replays_cells_in_order_and_the_last_write_wins(tmp_path):
    writes = [
        Write("svc", "a.py", "first", "01.ipynb", "c1"),
        Write("svc", "a.py", "second", "02.ipynb", "c2"),
    ]
    paths = write_all(writes, tmp_path)
    assert len(paths) == 2 and paths[0].read_text() == "second\n"


def test_the_ledger_records_which_notebook_wrote_each_file(isolated_workspace):
    from workbook.writer import later_writer, read_ledger

    write_service_file("svc", "src/main.py", "first = 1\n", notebook="02-the-app")
    write_service_file("svc", "src/main.py", "later = 1\n", notebook="05-routes.ipynb")
    assert read_ledger() == {"svc/src/main.py": "05-routes"}
    assert later_writer("svc", "src/main.py", "02-the-app") == "05-routes"
    assert later_writer("svc", "./src/main.py", "05-routes") is None  # its own notebook may rewrite it
    assert later_writer("svc", "src/main.py", "08-settings") is None
    assert later_writer("svc", "src/other.py", "00-orientation") is None
    write_service_file("svc", "src/untracked.py", "x = 1\n")  # no notebook: nothing recorded
    assert "svc/src/untracked.py" not in read_ledger()


def test_write_all_records_the_last_writer_of_each_file(tmp_path):
    from workbook.writer import later_writer, read_ledger

    writes = [
        Write("svc", "src/main.py", "a = 1\n", "02-the-app.ipynb", "c1"),
        Write("svc", "src/main.py", "a = 2\n", "05-routes.ipynb", "c2"),
        Write("svc", "src/task.py", "t = 1\n", "03-schemas.ipynb", "c3"),
    ]
    write_all(writes, tmp_path)
    assert read_ledger(tmp_path) == {"svc/src/main.py": "05-routes", "svc/src/task.py": "03-schemas"}
    assert later_writer("svc", "src/main.py", "02-the-app", tmp_path) == "05-routes"


def test_an_unreadable_ledger_blocks_nothing(isolated_workspace):
    from workbook.writer import LEDGER, later_writer, read_ledger

    (isolated_workspace / LEDGER).write_text("{not json")
    assert read_ledger() == {} and later_writer("svc", "a.py", "01-x") is None
    write_service_file("svc", "a.py", "x = 1\n", notebook="03-x")
    assert read_ledger() == {"svc/a.py": "03-x"}
