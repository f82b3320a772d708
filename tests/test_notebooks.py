import nbformat
import pytest

from notebook_factory import make_notebook
from workbook import notebooks as generation


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    monkeypatch.setattr(generation, "solutions_dir", lambda: solutions)
    monkeypatch.setattr(generation, "notebooks_dir", lambda: notebooks)
    make_notebook(
        solutions / "01-one.ipynb",
        "# Intro",
        "%%service svc a.py\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
        "%%service svc Dockerfile\nFROM python:3.11-slim\n### BEGIN SOLUTION\nUSER 10001\n### END SOLUTION\n",
        "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n",
        "%checkpoint one",
    )
    return solutions, notebooks


def test_learner_notebook_stubs_exercises_and_clears_outputs(dirs):
    solutions, notebooks = dirs
    assert [p.name for p in generation.generate()] == ["01-one.ipynb"]
    nb = nbformat.read(notebooks / "01-one.ipynb", as_version=4)
    sources = [cell.source for cell in nb.cells]
    assert sources[1] == "%%service svc a.py\ndef f():\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    assert sources[2] == "%%service svc Dockerfile\nFROM python:3.11-slim\n# YOUR CODE HERE\n"
    assert sources[3] == "x = 1\n# YOUR CODE HERE\nraise NotImplementedError\n"
    assert all(
        cell.outputs == [] and cell.execution_count is None for cell in nb.cells if cell.cell_type == "code"
    )
    assert [cell.id for cell in nb.cells] == [f"cell-{n}" for n in range(5)]


def test_generation_is_byte_stable(dirs):
    _, notebooks = dirs
    generation.generate()
    first = (notebooks / "01-one.ipynb").read_bytes()
    assert generation.generate() == []
    assert (notebooks / "01-one.ipynb").read_bytes() == first


def test_check_reports_stale_and_orphans_without_writing(dirs):
    solutions, notebooks = dirs
    generation.generate()
    (notebooks / "01-one.ipynb").write_text("edited by hand")
    make_notebook(notebooks / "09-orphan.ipynb", "x")
    stale = generation.generate(check=True)
    assert [p.name for p in stale] == ["01-one.ipynb", "09-orphan.ipynb"]
    assert (notebooks / "01-one.ipynb").read_text() == "edited by hand"
    generation.generate()
    assert generation.generate(check=True) == []
    assert not (notebooks / "09-orphan.ipynb").exists()


def test_a_learners_run_notebook_is_kept_before_regeneration(dirs, tmp_path, capsys):
    _, notebooks = dirs
    generation.generate()
    make_notebook(notebooks / "01-one.ipynb", "answer = 42")  # has outputs: the learner ran it
    generation.generate()
    kept = list((tmp_path / "state" / "notebook-backups").glob("*/01-one.ipynb"))
    assert len(kept) == 1 and "answer = 42" in kept[0].read_text()
    assert "kept your copy of 01-one.ipynb" in capsys.readouterr().out
