import pytest

from workbook import prove, registry
from workbook.check import CheckpointResult, CheckResult


def result(checkpoint, failing):
    checks = tuple(
        CheckResult(name, "failed" if name in failing else "passed", "", "boom", "")
        for name in checkpoint.checks
    )
    return CheckpointResult(checkpoint, checks)


@pytest.mark.parametrize(
    "solved_failing, unsolved_failing, status",
    [("exercises-none", "exercises", 0), ("exercises-none", "all", 1), ("exercises", "exercises", 1)],
)
def test_a_proof_needs_a_clean_pass_and_exactly_the_exercise_failures(
    monkeypatch, capsys, solved_failing, unsolved_failing, status
):
    checkpoint = registry.load()[0]
    sets = {
        "exercises-none": set(),
        "exercises": checkpoint.exercise_checks,
        "all": set(checkpoint.checks),
    }
    runs = iter([sets[solved_failing], sets[unsolved_failing]])
    monkeypatch.setattr(prove, "run_checkpoint", lambda cp, root: result(cp, next(runs)))
    assert prove.prove([checkpoint.id], workers=1) == status
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("checkpoint proofs: ")


def test_the_first_checkpoint_is_proven_for_real(capsys):
    first = registry.load()[0]
    assert prove.prove([first.id]) == 0, capsys.readouterr().out
