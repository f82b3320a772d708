"""workbook.pyramid: the questions both test-suite checkpoints ask of a learner's test pyramid."""

from __future__ import annotations

from pathlib import Path

from workbook import pyramid
from workbook.pyramid import Results
from workbook.suites import SuiteRun

REQUIRED = ("tests/conftest.py", "tests/unit/test_a.py")
INI = "[pytest]\nmarkers =\n    unit: fast\n    integration: database\n    e2e: server\n"
PASSING_UNIT = "def test_one():\n    pass\n\ndef test_two():\n    pass\n\ndef test_three():\n    pass\n"
INTEGRATION = (
    "import os\n\n\ndef test_database():\n"
    "    assert os.environ['TEST_DATABASE_URL'].endswith('/ok'), 'no database'\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def results(baseline: dict[str, str], dead: dict[str, str], dead_code: int = 1) -> Results:
    return Results(SuiteRun(0, "", baseline), SuiteRun(dead_code, "", dead))


def test_a_healthy_pyramid_has_no_problem(tmp_path, monkeypatch):
    service = write(
        tmp_path / "svc",
        {
            "pytest.ini": INI,
            "tests/conftest.py": "",
            "tests/unit/test_a.py": PASSING_UNIT,
            "tests/integration/test_b.py": INTEGRATION,
        },
    )
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://x/ok")
    ran = pyramid.run_layers(service, tmp_path / "runs", "postgresql://x/closed")
    assert ran.baseline.passed and len(ran.baseline.layer("unit")) == 3
    assert pyramid.layer_problem(ran, "unit") == pyramid.layer_problem(ran, "integration") == ""
    assert pyramid.runs_without_database(ran) == ""
    assert pyramid.missing_tests(service, ran, REQUIRED) == ""
    assert pyramid.undeclared_markers(service, tmp_path / "markers") == ""


def test_each_problem_is_named():
    unit = "tests/unit/test_a.py::test_one"
    integration = "tests/integration/test_b.py::test_database"
    failing = results({unit: "failed"}, {integration: "passed"}, dead_code=0)
    assert "unit tests" in pyramid.layer_problem(failing, "unit") and unit in pyramid.layer_problem(
        failing, "unit"
    )
    assert pyramid.layer_problem(failing, "e2e").startswith("no e2e test ran")
    assert "pass without a database" in pyramid.runs_without_database(failing)
    assert pyramid.runs_without_database(results({}, {})).startswith("no integration test ran")
    skipped = results({}, {integration: "skipped"}, dead_code=0)
    assert pyramid.runs_without_database(skipped).startswith("expected failures")


def test_missing_files_and_thin_files_are_named(tmp_path):
    service = write(tmp_path / "svc", {"tests/unit/test_a.py": "", "pytest.ini": "[pytest]\n"})
    assert pyramid.missing_tests(service, results({}, {}), REQUIRED) == "missing: ['tests/conftest.py']"
    write(service, {"tests/conftest.py": ""})
    one = results({"tests/unit/test_a.py::test_one": "passed"}, {})
    assert (
        pyramid.missing_tests(service, one, REQUIRED)
        == "tests/unit/test_a.py: 1 tests collected, expected at least 3"
    )
    assert "['unit', 'integration', 'e2e']" in pyramid.undeclared_markers(service, tmp_path / "markers")
