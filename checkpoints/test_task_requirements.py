"""Checkpoint task-requirements: requirements files and pyproject.toml agree with the code (step 2.12)."""

import configparser
import shutil
import sys
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from workbook.pins import incomplete as pins_incomplete
from workbook.pins import normalize, pins, providers, requirement_lines, third_party_imports
from workbook.pins import tree as pins_tree
from workbook.pins import workbook_lock
from workbook.process import run

RUNTIME_ONLY = {"uvicorn": "the server the image's CMD runs", "psycopg": "the driver DATABASE_URL names"}
# Extras no import shows: uvicorn's fast loop and parsers, psycopg's bundled libpq, and SQLAlchemy's
# greenlet, which OpenTelemetry's SQLAlchemy instrumentation needs (notebook 12 tells the story).
EXTRAS = {"uvicorn": {"standard"}, "psycopg": {"binary"}, "sqlalchemy": {"asyncio"}}
DEV_TOOLS = ["pytest", "pytest-cov", "black", "flake8", "mypy"]
# What setuptools' automatic discovery makes of src/ when nothing says otherwise: a src layout.
SUBPACKAGES = {"api", "config", "models", "database", "observability"}


def tree(roots):
    return pins_tree(roots, EXTRAS)


def incomplete(pinned):
    return pins_incomplete(pinned, EXTRAS)


# A range's lower end: without one, pip-compile and `pip install .` take any version, however old.
LOWER = (">=", ">", "~=", "==", "===")


def unbounded(requirements):
    """The requirements whose range names no lowest version."""
    return [str(r) for r in requirements if not any(s.operator in LOWER for s in r.specifier)]


def declared(project, key=None):
    lines = (
        project.get("dependencies", [])
        if key is None
        else project.get("optional-dependencies", {}).get(key, [])
    )
    return {normalize(Requirement(line).name): Requirement(line) for line in lines}


@pytest.fixture(scope="module")
def service(service_dir):
    return service_dir("task-service")


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
    """every package in requirements.txt is imported by src/, needed to run it, or needed by one that is"""
    direct = set().union(*(providers(m) for m in third_party_imports(service / "src"))) | set(RUNTIME_ONLY)
    needed = tree([Requirement(name) for name in sorted(direct)])
    unused = [r.name for r in runtime if normalize(r.name) not in needed]
    assert (
        not unused
    ), f"listed but neither imported, run nor needed by what is: {unused} (shipped for nothing)"


def test_requirements_complete(service, runtime):
    """requirements.txt pins the whole runtime tree, each package at the workbook's locked version"""
    pinned = pins(service / "requirements.txt")
    problems = incomplete(pinned)
    assert not problems, f"requirements.txt is not the complete tree: {problems}"
    lock = workbook_lock()
    differ = {
        name: f"{version}, the lock has {lock[name]}"
        for name, version in pinned.items()
        if lock.get(name, version) != version
    }
    assert not differ, f"pinned at other versions than requirements/workbook.txt: {differ}"


def test_dev_requirements_add_the_tools(service, runtime, pyproject):
    """the dev extra names the tools tests/ needs; requirements-dev.txt pins them and requirements.txt"""
    dev_extra = declared(pyproject.get("project", {}), "dev")
    missing = [tool for tool in DEV_TOOLS if tool not in dev_extra]
    assert not missing, f"[project.optional-dependencies] dev does not name: {missing}"
    loose = unbounded(dev_extra.values())
    assert not loose, (
        f"the dev extra names {loose} with no lower bound: give each the lowest version the tests work "
        'with (e.g. "pytest>=8")'
    )
    runtime_pins = {normalize(r.name) for r in runtime}
    tests = service / "tests"
    unlisted = {}
    for module in sorted(third_party_imports(tests) if tests.is_dir() else []):
        owners = providers(module)
        if owners and not owners & (set(dev_extra) | runtime_pins):
            unlisted[module] = sorted(owners)
    assert not unlisted, f"tests/ imports what neither dependencies nor the dev extra names: {unlisted}"
    path = service / "requirements-dev.txt"
    assert path.is_file(), "no task-service/requirements-dev.txt"
    dev = pins(path)
    loose = [line for line in requirement_lines(path) if normalize(Requirement(line).name) not in dev]
    assert not loose, f"requirements-dev.txt: not pinned with ==: {loose}"
    runtime_versions = pins(service / "requirements.txt")
    differ = {n: (v, dev.get(n)) for n, v in runtime_versions.items() if dev.get(n) != v}
    assert not differ, f"requirements-dev.txt lacks or moves pins of requirements.txt: {differ}"
    outside = [
        f"{r} (pinned {dev.get(n)})"
        for n, r in dev_extra.items()
        if n not in dev or not r.specifier.contains(dev[n], prereleases=True)
    ]
    assert (
        not outside
    ), f"the dev extra's tools are not pinned within their range in requirements-dev.txt: {outside}"
    problems = incomplete(dev)
    assert not problems, f"requirements-dev.txt is not the complete tree: {problems}"


def test_pyproject_metadata_agrees(load_service, service, pyproject, runtime):
    """[project] names the service, its version, Python 3.11+ and what requirements.txt is built from"""
    project = pyproject.get("project", {})
    assert project.get("name") == "task-service", "[project] name must be task-service"
    assert (
        project.get("version") == load_service("task-service", "src").__version__
    ), "version != src.__version__"
    assert Version("3.11") in SpecifierSet(
        project.get("requires-python", "")
    ), "requires-python excludes 3.11"
    dependencies = declared(project)
    direct = set().union(*(providers(m) for m in third_party_imports(service / "src"))) | set(RUNTIME_ONLY)
    undeclared = sorted(direct - set(dependencies))
    assert not undeclared, f"src/ imports or runs what [project] dependencies does not name: {undeclared}"
    loose = unbounded(dependencies.values())
    assert not loose, (
        f"[project] dependencies names {loose} with no lower bound: give each the range the code supports "
        '(e.g. "fastapi>=0.115"), else `pip install .` accepts a version without the API src/ uses'
    )
    pinned = pins(service / "requirements.txt")
    for name, requirement in dependencies.items():
        assert name in pinned, f"{requirement} is in [project] dependencies, not in requirements.txt"
        assert requirement.specifier.contains(
            pinned[name], prereleases=True
        ), f"{name}=={pinned[name]} is outside {requirement}"
    compiled = set(tree(list(dependencies.values())))
    assert set(pinned) == compiled, (
        "requirements.txt is not the tree of [project] dependencies: "
        f"not needed {sorted(set(pinned) - compiled)}, missing {sorted(compiled - set(pinned))}"
    )


def test_service_is_not_installed_as_packages(service, pyproject, tmp_path):
    """pyproject.toml declares a build system; installing it adds no api, config or models package"""
    build = pyproject.get("build-system", {})
    assert build.get("build-backend") and build.get(
        "requires"
    ), "[build-system] needs requires and build-backend"
    copy = tmp_path / "task-service"  # built outside the service: no build/ or *.egg-info left in it
    shutil.copytree(
        service, copy, ignore=shutil.ignore_patterns("__pycache__", "*.db", ".venv", "build", "*.egg-info")
    )
    wheels = tmp_path / "wheel"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    done = run([*command, "--wheel-dir", str(wheels), str(copy)], timeout=300)
    assert done.ok, f"pip wheel . fails:\n{done.output.strip()[-1500:]}"
    wheel = next(wheels.glob("*.whl"))
    installed = {
        name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name
    }
    top_level = {name.removesuffix(".py") for name in installed}
    assert not top_level & SUBPACKAGES, (
        f"pip install . would install {sorted(top_level & SUBPACKAGES)} as top-level packages "
        "(setuptools reads src/ as a src layout): set [tool.setuptools] packages"
    )


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


def test_mypy_configured_as_asked(service, pyproject, tmp_path):
    """[tool.mypy] names Python 3.11 and both folders, and a bare `mypy` in the service passes"""
    mypy = pyproject.get("tool", {}).get("mypy", {})
    assert mypy.get("python_version") == "3.11", '[tool.mypy] python_version = "3.11"'
    assert {"src", "tests"} <= set(mypy.get("files", [])), '[tool.mypy] files = ["src", "tests"]'
    assert mypy.get("explicit_package_bases") is True, "[tool.mypy] explicit_package_bases = true"
    # Set for every module, a missing package or stub is silence instead of an error.
    assert "ignore_missing_imports" not in mypy, (
        "[tool.mypy] ignore_missing_imports applies to every module: set it in a [[tool.mypy.overrides]] "
        'table with module = ["docker", "docker.*"] only'
    )
    # What CI and notebook 16 run: the command alone, so the configuration decides what is checked.
    done = run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy")],
        cwd=service,
        extra_env={"NO_COLOR": "1", "MYPY_FORCE_COLOR": "0"},
        timeout=600,
    )
    assert done.ok, f"`mypy` in task-service exits {done.returncode}:\n{done.output[-3000:]}"


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
