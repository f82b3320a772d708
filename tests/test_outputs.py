import os

import nbformat
import pytest

from notebook_factory import make_notebook
from workbook.outputs import FailingCheckpointError, execute_in_place


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


# In the kernel: the checkpoint's run replaced by a result given here, so the test needs no services.
FAKE_RUN = """
import workbook.magics as magics
from workbook import check

def fake_run(checkpoint):
    return check.CheckpointResult(checkpoint, (check.CheckResult("test_x", "{outcome}", "x", "", "hint"),))

magics.run_checkpoint = fake_run
{more}
"""


@pytest.mark.parametrize(
    ("outcome", "more", "problem"),
    [
        ("failed", "", "cell cell-2: checkpoint environment failed (test_x)"),
        ("passed", "magics.record.record_result = lambda *a: None", "environment recorded no result"),
    ],
)
def test_a_failing_checkpoint_stores_nothing(tmp_path, outcome, more, problem):
    notebook = make_notebook(
        tmp_path / "nbs/01-one.ipynb",
        "%load_ext workbook",
        FAKE_RUN.format(outcome=outcome, more=more),
        "%checkpoint environment",
        "# A markdown cell: no checkpoint in it",
    )
    before = notebook.read_bytes()
    with pytest.raises(FailingCheckpointError, match="nothing stored") as raised:
        execute_in_place(notebook)
    assert problem in str(raised.value)
    assert notebook.read_bytes() == before


def test_a_passing_checkpoint_is_stored(tmp_path):
    notebook = make_notebook(
        tmp_path / "nbs/01-one.ipynb",
        "%load_ext workbook",
        FAKE_RUN.format(outcome="passed", more=""),
        "%checkpoint environment",
    )
    execute_in_place(notebook)
    output = nbformat.read(notebook, as_version=4).cells[2].outputs[0]["text"]
    assert output.startswith("Checkpoint environment:") and "passed" in output
