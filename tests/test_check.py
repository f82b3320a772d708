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
    assert "1 of 4 public checks passed" in text and "missing.txt was not written" in text
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
    assert result.passed and check.render(result).endswith("All 1 public checks passed.")


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
