"""The workbook's lock: every package of requirements/workbook.in and everything they need, one version each,
and the environment the tests run in is that lock (so stored outputs replay as they were recorded)."""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from workbook.paths import repo_root
from workbook.process import run

REQUIREMENTS = repo_root() / "requirements"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


@pytest.fixture(scope="module")
def lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for requirement in requirement_lines(REQUIREMENTS / "workbook.txt"):
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"not pinned with ==: {requirement}"
        assert normalize(requirement.name) not in pins, f"pinned twice: {requirement.name}"
        pins[normalize(requirement.name)] = specifiers[0].version
    return pins


def needs(requirement: Requirement) -> list[Requirement]:
    """What an installed distribution requires, for this platform and the extras asked for."""
    found = []
    for line in distribution(requirement.name).requires or []:
        dependency = Requirement(line)
        if dependency.marker is None or any(
            dependency.marker.evaluate({**default_environment(), "extra": extra})
            for extra in requirement.extras or {""}
        ):
            found.append(dependency)
    return found


def test_the_lock_pins_every_line_of_the_input_within_its_range(lock):
    inputs = requirement_lines(REQUIREMENTS / "workbook.in")
    assert inputs, "requirements/workbook.in lists nothing"
    missing = [str(r) for r in inputs if normalize(r.name) not in lock]
    assert not missing, f"in workbook.in but not in the lock (run make lock): {missing}"
    outside = [f"{r} (locked {lock[normalize(r.name)]})" for r in inputs
               if not r.specifier.contains(lock[normalize(r.name)], prereleases=True)]  # fmt: skip
    assert not outside, f"the lock is outside workbook.in's range (run make lock): {outside}"


def test_the_installed_environment_is_the_lock(lock):
    differ = {}
    for name, pinned in lock.items():
        try:
            installed = distribution(name).version
        except PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            differ[name] = f"locked {pinned}, installed {installed}"
    assert not differ, f"the environment is not the lock (run make venv): {differ}"
    check = run([sys.executable, "-m", "pip", "check"], timeout=120)
    assert check.ok, check.output


def test_the_lock_is_closed_every_dependency_is_pinned(lock):
    unpinned: dict[str, list[str]] = {}
    for requirement in requirement_lines(REQUIREMENTS / "workbook.in"):
        todo, seen = [requirement], set()
        while todo:
            current = todo.pop()
            key = (normalize(current.name), tuple(sorted(current.extras)))
            if key in seen:
                continue
            seen.add(key)
            for dependency in needs(current):
                if normalize(dependency.name) not in lock:
                    unpinned.setdefault(dependency.name, []).append(current.name)
                elif not dependency.specifier.contains(lock[normalize(dependency.name)], prereleases=True):
                    unpinned.setdefault(
                        f"{dependency} (locked {lock[normalize(dependency.name)]})", []
                    ).append(current.name)
                todo.append(dependency)
    assert not unpinned, f"needed but not pinned in the lock (run make lock): {unpinned}"


def test_the_makefile_and_conda_install_the_lock():
    makefile = (repo_root() / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet --progress-bar off -r requirements/workbook.txt" in makefile
    assert re.search(r"^lock: .*## ", makefile, re.M), "make lock refreshes the lock"
    assert "- -r requirements/workbook.txt" in (repo_root() / "environment.yml").read_text(encoding="utf-8")
