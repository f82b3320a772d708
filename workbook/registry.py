"""The checkpoint registry: one TOML file per checkpoint in `checkpoints/registry/`.

Each says which notebook ends with it, which checklist steps it covers, which of the checklist's
questions it answers by demonstration (`answers`: a step's "Questions to ask", a learning
checkpoint's heading or one of its questions), its share of the checklist's time targets, its
test module, and one hint per check: per test function, or per case of a parametrized one
(`[checks."test_catches[delete]"]`), which wins over its function's.

A check the others depend on (the learner's own suite passing, before planted bugs can be caught)
names, as `cause`, what its failure means in one line: the runner shows it first, before any hint."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError
from .paths import checkpoints_dir


class UnknownCheckpoint(UserError, LookupError):
    def __init__(self, wanted: str, known: list[str]):
        super().__init__(f"unknown checkpoint {wanted!r}; known: {', '.join(known) or 'none'}")


class RegistryError(UserError, ValueError):
    pass


@dataclass(frozen=True)
class Check:
    name: str
    hint: str
    exercise: bool
    cause: str = ""  # when this check fails, the others' hints are premature: this line comes first


@dataclass(frozen=True)
class Checkpoint:
    id: str
    title: str
    notebook: str
    steps: tuple[str, ...]
    milestone: str
    target_minutes: float
    module: str
    checks: dict[str, Check] = field(hash=False, compare=False)
    answers: tuple[str, ...] = ()

    @property
    def module_path(self) -> Path:
        return checkpoints_dir() / self.module

    def check(self, check_name: str) -> Check | None:
        """The registry's entry for a check: a parametrized case's own (`test_x[case]`) when the
        registry has one, else its function's (`test_x`)."""
        return self.checks.get(check_name) or self.checks.get(check_name.split("[", 1)[0])

    def hint(self, check_name: str) -> str:
        check = self.check(check_name)
        return check.hint if check else ""

    def registered_name(self, check_name: str) -> str:
        """The name the registry knows `check_name` by: the case when it has an entry, else the function."""
        return check_name if check_name in self.checks else check_name.split("[", 1)[0]

    @property
    def exercise_checks(self) -> set[str]:
        return {name for name, check in self.checks.items() if check.exercise}


def _parse(path: Path) -> Checkpoint:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        checks = {
            name: Check(
                name, str(spec["hint"]), bool(spec.get("exercise", False)), str(spec.get("cause", ""))
            )
            for name, spec in data.get("checks", {}).items()
        }
        return Checkpoint(
            id=str(data["id"]),
            title=str(data["title"]),
            notebook=str(data["notebook"]),
            steps=tuple(str(s) for s in data.get("steps", [])),
            milestone=str(data.get("milestone", "")),
            target_minutes=float(data.get("target_minutes", 0)),
            module=str(data["module"]),
            checks=checks,
            answers=tuple(str(a) for a in data.get("answers", [])),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise RegistryError(f"{path.name}: {error}") from error


def load(folder: Path | None = None) -> list[Checkpoint]:
    """All checkpoints, in the order learners reach them (notebook, then file name)."""
    folder = folder or checkpoints_dir() / "registry"
    found = [_parse(path) for path in sorted(folder.glob("*.toml"))]
    return sorted(found, key=lambda cp: cp.notebook)


def get(checkpoint_id: str, folder: Path | None = None) -> Checkpoint:
    checkpoints = load(folder)
    for checkpoint in checkpoints:
        if checkpoint.id == checkpoint_id:
            return checkpoint
    raise UnknownCheckpoint(checkpoint_id, [cp.id for cp in checkpoints])


def previous(checkpoint_id: str, folder: Path | None = None) -> Checkpoint | None:
    checkpoints = load(folder)
    ids = [cp.id for cp in checkpoints]
    if checkpoint_id not in ids:
        raise UnknownCheckpoint(checkpoint_id, ids)
    index = ids.index(checkpoint_id)
    return checkpoints[index - 1] if index else None
