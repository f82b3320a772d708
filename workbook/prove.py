"""`make prove`: every checkpoint proven twice. It passes on the code the solutions write, and it
fails, on exactly its exercise checks, on the code the unsolved learner notebooks write."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import registry
from .cells import Write, writes_until
from .check import CheckpointResult, run_checkpoint
from .paths import notebooks_dir, solutions_dir
from .writer import write_all


def _run_on(writes_of: list[Write], checkpoint: registry.Checkpoint) -> CheckpointResult:
    with tempfile.TemporaryDirectory(prefix=f"workbook-prove-{checkpoint.id}-") as scratch:
        root = Path(scratch) / "services"
        root.mkdir()
        write_all(writes_of, root)
        return run_checkpoint(checkpoint, root)


def _prove_one(checkpoint: registry.Checkpoint) -> list[tuple[bool, str]]:
    before = registry.previous(checkpoint.id)
    solved = _run_on(writes_until(solutions_dir(), checkpoint.id), checkpoint)
    learner_writes = writes_until(solutions_dir(), before.id if before else None) + writes_until(
        notebooks_dir(), checkpoint.id, after=before.id if before else None
    )
    unsolved = _run_on(learner_writes, checkpoint)
    failing_solved = sorted(solved.failed_names)
    exercises = checkpoint.exercise_checks
    lines = [
        (
            solved.passed,
            f"{checkpoint.id} on the solutions: "
            + (f"{len(solved.checks)} checks pass" if solved.passed else f"failing {failing_solved}"),
        )
    ]
    exact = bool(exercises) and unsolved.failed_names == exercises
    detail = (
        f"fails on exactly its {len(exercises)} exercise checks"
        if exact
        else f"expected failures {sorted(exercises)}, got {sorted(unsolved.failed_names)}"
    )
    lines.append((exact, f"{checkpoint.id} on the unsolved learner code: {detail}"))
    if not solved.passed:
        lines.append((False, "\n".join(c.detail for c in solved.checks if not c.passed)[-3000:]))
    return lines


def prove(ids: list[str], workers: int = 2) -> int:
    checkpoints = [registry.get(i) for i in ids] if ids else registry.load()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = [line for lines in pool.map(_prove_one, checkpoints) for line in lines]
    for ok, text in outcomes:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    passed = sum(ok for ok, _ in outcomes)
    failed = len(outcomes) - passed
    print(f"checkpoint proofs: {passed} passed, {failed} failed")
    return 1 if failed else 0
