"""workbook.pins: requirements files read as pip reads them, and held against the installed tree."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

from workbook import pins

PYTEST_TREE = {"pytest", "iniconfig", "packaging", "pluggy", "pygments"}  # on Linux, Python 3.11


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_requirement_lines_and_pins_read_as_pip_reads(tmp_path: Path) -> None:
    path = write(
        tmp_path / "requirements.txt",
        "# compiled\n-c ../lock.txt\n\nFlask_Cors==6.0.5  # via the app\n"
        "pydantic>=2\nuvicorn[standard]==0.54.0\n",
    )
    assert pins.requirement_lines(path) == ["Flask_Cors==6.0.5", "pydantic>=2", "uvicorn[standard]==0.54.0"]
    assert pins.pins(path) == {"flask-cors": "6.0.5", "uvicorn": "0.54.0"}, "a range is no pin"
    assert pins.normalize("Zope.Interface_x") == "zope-interface-x"


def test_third_party_imports_leave_out_the_standard_library_and_the_service(tmp_path: Path) -> None:
    write(
        tmp_path / "src" / "main.py",
        "import os\nimport flask\nfrom src.api import users\nfrom . import local\n"
        "from opentelemetry.trace import get_tracer\nimport tests.helpers\n",
    )
    assert pins.third_party_imports(tmp_path / "src") == {"flask", "opentelemetry.trace.get_tracer"}


def test_providers_find_the_deepest_owner_of_a_namespace_package(tmp_path: Path) -> None:
    assert pins.providers("flask.Flask") == {"flask"}
    assert pins.providers("opentelemetry.sdk.trace.TracerProvider") == {"opentelemetry-sdk"}
    assert pins.providers("opentelemetry.instrumentation.flask.FlaskInstrumentor") == {
        "opentelemetry-instrumentation-flask"
    }
    assert pins.providers("no_such_module_anywhere") == set()
    write(tmp_path / "src" / "app.py", "import flask\nfrom pydantic import BaseModel\n")
    assert pins.imported_distributions(tmp_path / "src") == {"flask", "pydantic"}


def test_the_tree_follows_requirements_markers_and_extras() -> None:
    needed = pins.tree([Requirement("pytest")], {})
    assert set(needed) == PYTEST_TREE, "colorama (Windows) and tomli (Python < 3.11) are left out"
    assert needed["pluggy"] == {"pytest"} and needed["pytest"] == set()
    with_extra = pins.tree([Requirement("psycopg")], {"psycopg": {"binary"}})
    assert "psycopg-binary" in with_extra and "psycopg-binary" not in pins.tree([Requirement("psycopg")], {})
    assert set(pins.tree([Requirement("not-installed-here")], {})) == {"not-installed-here"}


def test_incomplete_and_off_the_lock_name_each_problem() -> None:
    complete = {name: version(name) for name in PYTEST_TREE}
    assert pins.incomplete(complete, {}) == {}
    assert pins.off_the_lock(complete) == {}
    missing = {k: v for k, v in complete.items() if k != "pluggy"}
    assert pins.incomplete(missing, {})["pluggy"].startswith("needed by pytest (pluggy")
    assert pins.incomplete({"pluggy": "0.1"}, {}) == {
        "pluggy": f"pinned 0.1, the workbook's environment has {version('pluggy')}"
    }
    too_old = {"pytest": version("pytest"), **{k: v for k, v in complete.items() if k != "pytest"}}
    too_old["pluggy"] = "0.1"
    assert pins.incomplete(too_old, {})["pluggy"].startswith("pinned 0.1")
    assert pins.incomplete({"not-installed-here": "1.0"}, {}) == {
        "not-installed-here": "pinned 1.0, not installed here"
    }
    assert pins.off_the_lock({"pytest": "0.1", "not-installed-here": "1.0"}) == {
        "pytest": f"pinned 0.1, the lock has {version('pytest')}",
        "not-installed-here": "pinned 1.0, the lock has no such package",
    }
