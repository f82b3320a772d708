import pytest

from workbook import check, registry

CHECKS = '''
import pytest


def test_passes():
    """a check that passes"""


def test_fails(services):
    """a check that fails"""
    assert (services / "missing.txt").exists(), "missing.txt was not written"


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_errors(broken):
    """a check whose fixture breaks"""


def test_skips():
    """a check that skips"""
    pytest.skip("no engine here")
'''


@pytest.fixture
def checkpoint(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\naddopts =\n")
    (folder / "conftest.py").write_text(
        "import pytest\nfrom workbook.paths import services_root\n\n\n"
        "@pytest.fixture\ndef services():\n    return services_root()\n"
    )
    (folder / "test_demo.py").write_text(CHECKS)
    monkeypatch.setattr(registry, "checkpoints_dir", lambda: folder)
    monkeypatch.setattr(check, "checkpoints_dir", lambda: folder)
    hints = {"test_fails": registry.Check("test_fails", "Write missing.txt first.", True)}
    return registry.Checkpoint("demo", "A demo", "01-demo.ipynb", ("2.1",), "", 1, "test_demo.py", hints)


def test_each_check_reports_its_outcome(checkpoint, isolated_workspace):
    result = check.run_checkpoint(checkpoint)
    assert result.outcomes() == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_errors": "error",
        "test_skips": "skipped",
    }
    assert not result.passed and result.failed_names == {"test_fails", "test_errors", "test_skips"}
    (isolated_workspace / "missing.txt").write_text("now here")
    assert check.run_checkpoint(checkpoint).outcomes()["test_fails"] == "passed"


def test_the_table_shows_hints_before_any_traceback(checkpoint):
    text = check.render(check.run_checkpoint(checkpoint))
    assert text.startswith("Checkpoint demo: A demo")
    assert "  PASS  a check that passes" in text and "  FAIL  a check that fails" in text
    assert text.index("hint: Write missing.txt first.") < text.index("--- details: test_fails ---")
    assert "skipped: no engine here" in text
    assert "1 of 4 checks passed, 2 failed, 1 skipped" in text and "missing.txt was not written" in text
    assert "A skipped check is not a failed one" in text
    assert "all tests passed" not in text.lower()


def test_a_module_that_does_not_load_is_one_clear_error(checkpoint, tmp_path):
    (tmp_path / "checkpoints" / "test_demo.py").write_text("def broken(:\n")
    result = check.run_checkpoint(checkpoint)
    assert not result.passed
    assert [c.outcome for c in result.checks] == ["error"]
    assert "SyntaxError" in result.checks[0].detail


def test_success_says_public_checks(checkpoint, tmp_path):
    (tmp_path / "checkpoints" / "test_demo.py").write_text('def test_ok():\n    """fine"""\n')
    result = check.run_checkpoint(checkpoint)
    assert result.passed and check.render(result).endswith("All 1 check of checkpoints/test_demo.py passed.")


def test_checks_that_outlive_the_timeout_are_one_clear_error(checkpoint, tmp_path, monkeypatch):
    (tmp_path / "checkpoints" / "test_demo.py").write_text(
        'import time\n\n\ndef test_slow():\n    """slow"""\n    time.sleep(60)\n'
    )
    result = check.run_checkpoint(checkpoint, timeout=4)
    assert result.timed_out and not result.passed
    assert [(c.name, c.outcome, c.doc) for c in result.checks] == [
        ("collection", "error", "the checks finish within 4 s")
    ]
    assert "timed out after 4 s" in result.checks[0].detail


SERVICE_CHECKS = '''
import json

from workbook.importing import import_service


def test_first():
    """the first check that imports the service"""
    import_service("demo-service", "src.main")


def test_second():
    """the second check that imports the service"""
    import_service("demo-service", "src.main")


def test_library_raises():
    """a check that fails inside the standard library"""
    json.loads("{")


def test_colours():
    """a check whose message is coloured"""
    assert False, "\\x1b[31mred\\x1b[0m text"
'''


def write_service(root, files):
    for path, text in files.items():
        target = root / "demo-service" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@pytest.fixture
def service_checkpoint(checkpoint, tmp_path):
    (tmp_path / "checkpoints" / "test_demo.py").write_text(SERVICE_CHECKS)
    return checkpoint


def test_a_file_that_does_not_parse_is_named_first_once(service_checkpoint, isolated_workspace):
    write_service(isolated_workspace, {"src/__init__.py": "", "src/main.py": "from .helper import thing\n",
                                       "src/helper.py": "x = 1\ndef broken(:\n"})  # fmt: skip
    result = check.run_checkpoint(service_checkpoint)
    assert result.causes == (
        "demo-service/src/helper.py line 2 does not parse (SyntaxError: invalid syntax)",
    )
    text = check.render(result)
    assert text.index("Fix this first: demo-service/src/helper.py line 2") < text.index("FAIL")
    assert text.count("--- details: test_first") == 1 and "--- details: test_second" not in text
    assert "(the same cause fails test_second)" in text


def test_a_file_that_does_not_import_is_named_with_its_line(service_checkpoint, isolated_workspace):
    main = "import os\nfrom .helper import nope\n"
    write_service(
        isolated_workspace, {"src/__init__.py": "", "src/main.py": main, "src/helper.py": "thing = 1\n"}
    )
    result = check.run_checkpoint(service_checkpoint)
    (cause,) = result.causes
    assert cause.startswith(
        "demo-service/src/main.py line 2 does not import (ImportError: cannot import name 'nope'"
    )


def test_the_cell_that_writes_the_broken_file_is_named(service_checkpoint, isolated_workspace, monkeypatch):
    from workbook.cells import Write

    writes = [Write("demo-service", "src/main.py", "x = (\n", "02-demo.ipynb", "c1"),
              Write("demo-service", "src/__init__.py", "", "02-demo.ipynb", "c0")]  # fmt: skip
    monkeypatch.setattr(check, "writes_until", lambda folder, checkpoint: writes)
    write_service(isolated_workspace, {"src/__init__.py": "", "src/main.py": "x = (\n"})
    (cause,) = check.run_checkpoint(service_checkpoint).causes
    assert cause.endswith(": the cell `%%service demo-service src/main.py` in 02-demo.ipynb writes it")


def test_details_keep_no_framework_frames_and_no_colours(service_checkpoint, isolated_workspace):
    write_service(isolated_workspace, {"src/__init__.py": "", "src/main.py": "app = 1\n"})
    result = check.run_checkpoint(service_checkpoint)
    checks = {c.name: c for c in result.checks}
    assert checks["test_first"].passed and not result.causes
    library = checks["test_library_raises"]
    assert "test_demo.py" in library.detail and "json" + "/decoder.py" not in library.detail
    assert "JSONDecodeError" in library.message
    assert "\x1b" not in check.render(result) and "red text" in checks["test_colours"].detail


def test_missing_files_name_the_cells_that_write_them(tmp_path):
    from workbook.cells import Write

    def write(path, notebook="02-demo.ipynb"):
        return Write("demo-service", path, "x = 1\n", notebook, "id")

    (tmp_path / "demo-service" / "src").mkdir(parents=True)
    (tmp_path / "demo-service" / "src" / "main.py").write_text("")
    assert check.missing_files([write("src/main.py")], tmp_path) == []
    assert check.missing_files([write("src/main.py"), write("src/api.py")], tmp_path) == [
        "demo-service/src/api.py does not exist: "
        "run the cell `%%service demo-service src/api.py` in 02-demo.ipynb"
    ]
    many = [write(f"src/m{n}.py", f"0{n}-x.ipynb") for n in range(6)]
    assert check.missing_files(many, tmp_path) == [
        "6 files of demo-service do not exist (src/m0.py, src/m1.py, src/m2.py, src/m3.py, ...): run the "
        "%%service cells of 00-x.ipynb, 01-x.ipynb, 02-x.ipynb, 03-x.ipynb, 04-x.ipynb, 05-x.ipynb"
    ]
    assert check.missing_files([Write("other", "a.py", "", "03-x.ipynb", "")], tmp_path) == [
        "other does not exist: run the %%service cells of 03-x.ipynb and the notebooks after it"
    ]


def test_a_check_the_registry_marks_as_a_cause_comes_first(checkpoint):
    cause = "your suite fails on your own code: fix that first"
    checkpoint.checks["test_fails"] = registry.Check("test_fails", "Write missing.txt first.", True, cause)
    result = check.run_checkpoint(checkpoint)
    assert result.causes == (f"{cause} (missing.txt was not written)",)
    text = check.render(result)
    assert text.index(f"Fix this first: {cause}") < text.index("hint: Write missing.txt first.")


def test_the_closing_summary_names_what_did_not_pass(checkpoint):
    failing = check.run_checkpoint(checkpoint)
    passing = check.CheckpointResult(checkpoint, (check.CheckResult("test_ok", "passed", "", "", ""),))
    assert check.summary([passing]) == "1 checkpoint: 1 passed."
    assert check.summary([passing, failing]) == "2 checkpoints: 1 passed, 1 failed (demo)."
    skipped = check.CheckpointResult(
        checkpoint, (check.CheckResult("test_x", "skipped", "", "no engine", ""),)
    )
    assert check.summary([passing, skipped]) == (
        "2 checkpoints: 1 passed, 1 incomplete, with skipped checks (demo)."
    )
    assert (
        check.summary([check.CheckpointResult(checkpoint, ())]) == "1 checkpoint: 0 passed, 1 failed (demo)."
    )


def test_only_the_notebooks_own_services_are_checked_for_missing_files(checkpoint, monkeypatch):
    from workbook.cells import Write

    writes = [Write("playground", "app.py", "x = 1\n", "00-x.ipynb", "c0"),
              Write("demo-service", "src/main.py", "x = 1\n", "01-demo.ipynb", "c1")]  # fmt: skip
    monkeypatch.setattr(check, "writes_until", lambda folder, checkpoint: writes)
    result = check.run_checkpoint(checkpoint)
    assert result.causes == (
        "demo-service does not exist: run the %%service cells of 01-demo.ipynb and the notebooks after it",
    )
    assert not any(c.name.startswith("formatting") for c in result.checks), "no file, no formatting claim"


def test_the_formatting_check_can_be_left_out(checkpoint, monkeypatch, isolated_workspace):
    from workbook.cells import Write

    writes = [Write("demo-service", "main.py", "x = 1\n", "01-demo.ipynb", "c1")]
    monkeypatch.setattr(check, "writes_until", lambda folder, checkpoint: writes)
    write_service(isolated_workspace, {"main.py": "x = 1\n"})
    assert "formatting[demo-service]" in check.run_checkpoint(checkpoint).outcomes()
    assert "formatting[demo-service]" not in check.run_checkpoint(checkpoint, style=False).outcomes()


def test_a_stub_at_module_level_is_named_as_an_exercise_not_done(service_checkpoint, isolated_workspace):
    stub = "x = 1\n# YOUR CODE HERE\nraise NotImplementedError\n"
    write_service(isolated_workspace, {"src/__init__.py": "", "src/main.py": stub})
    (cause,) = check.run_checkpoint(service_checkpoint).causes
    assert cause == "demo-service/src/main.py line 3 still holds an exercise's stub, so it does not import"


def test_a_run_on_the_same_inputs_is_read_back_not_repeated(
    checkpoint, isolated_workspace, tmp_path, monkeypatch
):
    runs = []
    real = check._run_checks
    monkeypatch.setattr(check, "_run_checks", lambda *a: runs.append(a) or real(*a))
    monkeypatch.setenv("WORKBOOK_RESULT_CACHE", str(tmp_path / "results"))
    first = check.run_checkpoint(checkpoint)
    again = check.run_checkpoint(checkpoint, style=False)
    assert len(runs) == 1 and again.outcomes() == first.outcomes() and again.seconds == first.seconds > 0
    (isolated_workspace / "missing.txt").write_text("a changed services tree is a new run")
    assert check.run_checkpoint(checkpoint).outcomes()["test_fails"] == "passed" and len(runs) == 2
    (tmp_path / "checkpoints" / "test_demo.py").write_text('def test_only():\n    """changed checks"""\n')
    assert check.run_checkpoint(checkpoint).outcomes() == {"test_only": "passed"} and len(runs) == 3


def test_without_the_cache_folder_every_run_runs(checkpoint, isolated_workspace, monkeypatch):
    runs = []
    real = check._run_checks
    monkeypatch.setattr(check, "_run_checks", lambda *a: runs.append(a) or real(*a))
    monkeypatch.delenv("WORKBOOK_RESULT_CACHE", raising=False)
    check.run_checkpoint(checkpoint)
    check.run_checkpoint(checkpoint)
    assert len(runs) == 2


def test_a_timed_out_run_is_not_kept(checkpoint, tmp_path, monkeypatch):
    (tmp_path / "checkpoints" / "test_demo.py").write_text(
        'import time\n\n\ndef test_slow():\n    """slow"""\n    time.sleep(60)\n'
    )
    monkeypatch.setenv("WORKBOOK_RESULT_CACHE", str(tmp_path / "results"))
    assert check.run_checkpoint(checkpoint, timeout=3).timed_out
    assert not list((tmp_path / "results").glob("*.json"))
