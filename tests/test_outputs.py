import os

import nbformat

from notebook_factory import make_notebook
from workbook.outputs import execute_in_place


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
