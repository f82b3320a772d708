"""Checkpoint task-requirements: requirements files and pyproject.toml agree with the code (step 2.12)."""

import ast
import configparser
import functools
import re
import sys
import tomllib
from importlib.metadata import distribution, packages_distributions

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

RUNTIME_ONLY = {"uvicorn": "the server the image's CMD runs", "psycopg": "the driver DATABASE_URL names"}
DEV_TOOLS = ["pytest", "pytest-cov", "black", "flake8", "mypy"]


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path):
    """The requirement lines of a requirements file: comments, blanks and -r/-c options dropped."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def third_party_imports(folder):
    """Every absolute import under `folder` that is neither the standard library nor `src`."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    local = {"src", "tests", "conftest"}
    return {m for m in found if m.split(".")[0] not in sys.stdlib_module_names | local}


@functools.cache
def top_level_owners():
    """Which distributions provide each top-level module: a scan of every installed package, done once."""
    return packages_distributions()


@functools.cache
def files_of(name):
    return {str(f) for f in (distribution(name).files or [])}


def providers(module):
    """The installed distributions that provide `module` (the deepest one for namespace packages)."""
    candidates = top_level_owners().get(module.split(".")[0], [])
    if len(candidates) <= 1:
        return {normalize(name) for name in candidates}
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        stem = "/".join(parts[:depth])
        owners = set()
        for name in candidates:
            files = files_of(name)
            if f"{stem}.py" in files or f"{stem}/__init__.py" in files:
                owners.add(normalize(name))
        if owners:
            return owners
    return {normalize(name) for name in candidates}


@pytest.fixture(scope="module")
def service(services):
    return services / "task-service"


@pytest.fixture(scope="module")
def runtime(service):
    path = service / "requirements.txt"
    assert path.is_file(), "no task-service/requirements.txt"
    return [Requirement(line) for line in requirement_lines(path)]


@pytest.fixture(scope="module")
def pyproject(service):
    path = service / "pyproject.toml"
    assert path.is_file(), "no task-service/pyproject.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_requirements_pinned(runtime):
    """every runtime requirement pins one exact version (name==version)"""
    assert runtime, "requirements.txt lists nothing"
    loose = [str(r) for r in runtime if len(r.specifier) != 1 or next(iter(r.specifier)).operator != "=="]
    assert not loose, f"not pinned with ==: {loose}"


def test_code_imports_only_listed_packages(service, runtime):
    """everything src/ imports is in requirements.txt (transitive dependencies you import count)"""
    listed = {normalize(r.name) for r in runtime}
    missing = {}
    for module in sorted(third_party_imports(service / "src")):
        owners = providers(module)
        if owners and not owners & listed:
            missing[module] = sorted(owners)
    assert not missing, f"imported but not in requirements.txt: {missing}"


def test_every_listed_package_is_needed(service, runtime):
    """every package in requirements.txt is imported by src/ or needed to run it"""
    used = set().union(*(providers(m) for m in third_party_imports(service / "src")))
    unused = [r.name for r in runtime if normalize(r.name) not in used | set(RUNTIME_ONLY)]
    assert not unused, f"listed but never imported: {unused} (the image carries them for nothing)"


def test_dev_requirements_add_the_tools(service, runtime):
    """requirements-dev.txt includes requirements.txt and pins the test and lint tools tests/ needs"""
    path = service / "requirements-dev.txt"
    assert path.is_file(), "no task-service/requirements-dev.txt"
    text = path.read_text(encoding="utf-8")
    assert re.search(
        r"^-r\s+requirements\.txt\s*$", text, re.M
    ), "requirements-dev.txt does not include -r requirements.txt"
    dev = [Requirement(line) for line in requirement_lines(path)]
    pinned = {normalize(r.name) for r in dev if any(s.operator == "==" for s in r.specifier)}
    missing = [tool for tool in DEV_TOOLS if tool not in pinned]
    assert not missing, f"not pinned in requirements-dev.txt: {missing}"
    listed = pinned | {normalize(r.name) for r in runtime}
    tests = service / "tests"
    unlisted = {}
    for module in sorted(third_party_imports(tests) if tests.is_dir() else []):
        owners = providers(module)
        if owners and not owners & listed:
            unlisted[module] = sorted(owners)
    assert not unlisted, f"tests/ imports what neither requirements file lists: {unlisted}"


def test_pyproject_metadata_agrees(load_service, pyproject, runtime):
    """[project] names the service, its version (src.__version__), Python 3.11+ and the same dependencies"""
    project = pyproject.get("project", {})
    assert project.get("name") == "task-service", "[project] name must be task-service"
    assert (
        project.get("version") == load_service("task-service", "src").__version__
    ), "version != src.__version__"
    assert Version("3.11") in SpecifierSet(
        project.get("requires-python", "")
    ), "requires-python excludes 3.11"
    declared = {normalize(Requirement(d).name): Requirement(d) for d in project.get("dependencies", [])}
    pins = {normalize(r.name): r for r in runtime}
    assert set(declared) == set(pins), (
        f"[project] dependencies vs requirements.txt: only in pyproject {sorted(set(declared) - set(pins))}, "
        f"only in requirements.txt {sorted(set(pins) - set(declared))}"
    )
    for name, requirement in declared.items():
        pinned = next(iter(pins[name].specifier)).version
        assert requirement.specifier.contains(
            pinned, prereleases=True
        ), f"{name}=={pinned} is outside {requirement}"


def test_pyproject_configures_the_tools(pyproject):
    """pyproject.toml configures pytest, coverage (src, branches, 85% minimum), black and strict mypy"""
    tool = pyproject.get("tool", {})
    pytest_options = tool.get("pytest", {}).get("ini_options", {})
    assert "tests" in pytest_options.get("testpaths", []), '[tool.pytest.ini_options] testpaths = ["tests"]'
    coverage = tool.get("coverage", {})
    assert "src" in coverage.get("run", {}).get("source", []), '[tool.coverage.run] source = ["src"]'
    assert coverage.get("run", {}).get("branch") is True, "[tool.coverage.run] branch = true"
    assert (
        float(coverage.get("report", {}).get("fail_under", 0)) >= 85
    ), "[tool.coverage.report] fail_under = 85"
    assert tool.get("black", {}).get("line-length"), "[tool.black] line-length"
    mypy = tool.get("mypy", {})
    assert mypy.get("strict") is True, "[tool.mypy] strict = true"
    assert "pydantic.mypy" in mypy.get("plugins", []), '[tool.mypy] plugins = ["pydantic.mypy"]'


def test_flake8_config_matches_black(service, pyproject):
    """.flake8 (flake8 does not read pyproject.toml) uses black's line length and ignores E203"""
    path = service / ".flake8"
    assert path.is_file(), "no task-service/.flake8"
    parser = configparser.ConfigParser()
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.has_section("flake8"), ".flake8 has no [flake8] section"
    length = pyproject.get("tool", {}).get("black", {}).get("line-length", 88)
    assert (
        parser.getint("flake8", "max-line-length", fallback=79) == length
    ), "max-line-length != black's line-length"
    ignored = parser.get("flake8", "extend-ignore", fallback="") + parser.get("flake8", "ignore", fallback="")
    assert "E203" in ignored, "extend-ignore = E203 (black puts spaces before : in slices)"
