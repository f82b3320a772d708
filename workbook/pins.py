"""Pinned requirements against the code and the installed tree: the one copy the requirements
checkpoints of every service share.

A service's `requirements.txt` is right when it pins, at the workbook's locked versions, exactly the
tree under what its `src/` imports plus what runs without an import (the server its image starts, the
driver its DATABASE_URL names), with the extras no import shows. The tree is read from the installed
distributions' metadata (`importlib.metadata`): the workbook's environment is the lock."""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterable, Mapping, Set
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

from .paths import repo_root

Extras = Mapping[str, Set[str]]  # distribution -> the extras a service installs it with


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares it: `Flask_Cors` is `flask-cors`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file: comments, blanks and -r/-c options dropped."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def pins(path: Path) -> dict[str, str]:
    """name -> pinned version, for each line of the file that is name==version."""
    pinned = {}
    for requirement in map(Requirement, requirement_lines(path)):
        specifiers = list(requirement.specifier)
        if len(specifiers) == 1 and specifiers[0].operator == "==":
            pinned[normalize(requirement.name)] = specifiers[0].version
    return pinned


@functools.cache
def workbook_lock() -> dict[str, str]:
    return pins(repo_root() / "requirements" / "workbook.txt")


def third_party_imports(folder: Path) -> set[str]:
    """Every absolute import under `folder` that is neither the standard library nor the service's."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    local = {"src", "tests", "conftest"}
    return {m for m in found if m.split(".")[0] not in sys.stdlib_module_names | local}


@functools.cache
def top_level_owners() -> Mapping[str, list[str]]:
    """Which distributions provide each top-level module: one scan of the installed packages."""
    return packages_distributions()


@functools.cache
def files_of(name: str) -> frozenset[str]:
    return frozenset(str(f) for f in (distribution(name).files or []))


def providers(module: str) -> set[str]:
    """The installed distributions that provide `module` (the deepest one for namespace packages
    such as opentelemetry, which many distributions share)."""
    candidates = top_level_owners().get(module.split(".")[0], [])
    if len(candidates) <= 1:
        return {normalize(name) for name in candidates}
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        stem = "/".join(parts[:depth])
        owners = {
            normalize(name) for name in candidates if {f"{stem}.py", f"{stem}/__init__.py"} & files_of(name)
        }
        if owners:
            return owners
    return {normalize(name) for name in candidates}


def imported_distributions(src: Path) -> set[str]:
    """The distributions whose modules the code under `src` imports."""
    return set().union(*(providers(module) for module in third_party_imports(src)))


@functools.cache
def needs(name: str, extras: frozenset[str] = frozenset()) -> tuple[Requirement, ...]:
    """What the installed distribution `name` requires on this machine, with `extras`."""
    found = []
    for line in distribution(name).requires or []:
        dependency = Requirement(line)
        base = {key: str(value) for key, value in default_environment().items()}
        markers = [{**base, "extra": extra} for extra in {"", *extras}]
        if dependency.marker is None or any(dependency.marker.evaluate(m) for m in markers):
            found.append(dependency)
    return tuple(found)


def tree(roots: Iterable[Requirement], extras: Extras) -> dict[str, set[str]]:
    """Every distribution the `roots` need, transitively: name -> the names that need it."""
    roots = list(roots)
    needed_by: dict[str, set[str]] = {normalize(r.name): set() for r in roots}
    todo = [(normalize(r.name), frozenset(r.extras | extras.get(normalize(r.name), set()))) for r in roots]
    seen = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        try:
            dependencies = needs(name, wanted)
        except PackageNotFoundError:
            continue  # reported by the caller: a pin this environment does not have
        for dependency in dependencies:
            child = normalize(dependency.name)
            needed_by.setdefault(child, set()).add(name)
            todo.append((child, frozenset(dependency.extras | extras.get(child, set()))))
    return needed_by


def incomplete(pinned: Mapping[str, str], extras: Extras) -> dict[str, str]:
    """What a pinned set lacks: dependencies not pinned, or pinned outside what their parent
    accepts, and pins this environment does not have at that version."""
    problems = {}
    for name, version in pinned.items():
        try:
            installed = distribution(name).version
        except PackageNotFoundError:
            problems[name] = f"pinned {version}, not installed here"
            continue
        if installed != version:
            problems[name] = f"pinned {version}, the workbook's environment has {installed}"
            continue
        for dependency in needs(name, frozenset(extras.get(name, set()))):
            child = normalize(dependency.name)
            if child not in pinned:
                problems[child] = f"needed by {name} ({dependency}), not pinned"
            elif not dependency.specifier.contains(pinned[child], prereleases=True):
                problems[child] = f"pinned {pinned[child]}, but {name} needs {dependency}"
    return problems


def off_the_lock(pinned: Mapping[str, str]) -> dict[str, str]:
    """name -> why, for each pin at another version than the workbook's lock (or absent from it)."""
    lock = workbook_lock()
    return {
        name: f"pinned {version}, the lock has {lock.get(name, 'no such package')}"
        for name, version in pinned.items()
        if lock.get(name) != version
    }
