import ast

import pytest

from workbook import registry
from workbook.cells import checkpoint_order
from workbook.paths import checkpoints_dir, solutions_dir

ENTRY = """
id = "{id}"
title = "Title of {id}"
notebook = "{notebook}"
steps = ["2.1", "2.2"]
milestone = "task-service setup"
target_minutes = 7.5
module = "test_{id}.py"

[checks.test_one]
hint = "Look at one."
exercise = true

[checks.test_two]
hint = "Look at two."
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "02-b.toml").write_text(ENTRY.format(id="b", notebook="02-b.ipynb"))
    (tmp_path / "01-a.toml").write_text(ENTRY.format(id="a", notebook="01-a.ipynb"))
    return tmp_path


def test_checkpoints_load_in_notebook_order_with_their_checks(folder):
    a, b = registry.load(folder)
    assert (a.id, b.id) == ("a", "b")
    assert a.steps == ("2.1", "2.2") and a.target_minutes == 7.5 and a.milestone == "task-service setup"
    assert a.exercise_checks == {"test_one"}
    assert a.hint("test_two") == "Look at two." and a.hint("test_one[param]") == "Look at one."
    assert a.hint("test_unknown") == ""


CASES = """
[checks.test_catches]
hint = "Catch any bug."

[checks."test_catches[delete]"]
hint = "Check the task is gone."
exercise = true
"""


def test_a_parametrized_case_has_its_own_hint_and_exercise_flag(tmp_path):
    from workbook.check import CheckpointResult, CheckResult

    (tmp_path / "01-a.toml").write_text(ENTRY.format(id="a", notebook="01-a.ipynb") + CASES)
    (checkpoint,) = registry.load(tmp_path)
    assert checkpoint.hint("test_catches[delete]") == "Check the task is gone."
    assert checkpoint.hint("test_catches[patch]") == "Catch any bug."  # no entry of its own
    assert checkpoint.exercise_checks == {"test_one", "test_catches[delete]"}
    assert checkpoint.registered_name("test_catches[delete]") == "test_catches[delete]"
    assert checkpoint.registered_name("test_catches[patch]") == "test_catches"
    assert checkpoint.registered_name("test_one[x]") == "test_one"
    failing = ("test_one[x]", "test_catches[delete]", "test_catches[patch]")
    checks = tuple(CheckResult(name, "failed", "", "", "") for name in failing)
    passing = (CheckResult("test_catches[status]", "passed", "", "", ""),)
    result = CheckpointResult(checkpoint, checks + passing)
    assert result.failed_names == {"test_one", "test_catches[delete]", "test_catches"}


def test_unknown_ids_name_the_known_ones(folder):
    with pytest.raises(registry.UnknownCheckpoint, match="unknown checkpoint 'zzz'; known: a, b"):
        registry.get("zzz", folder)
    assert registry.get("b", folder).notebook == "02-b.ipynb"
    assert registry.previous("b", folder).id == "a" and registry.previous("a", folder) is None
    with pytest.raises(registry.UnknownCheckpoint):
        registry.previous("zzz", folder)


@pytest.mark.parametrize("text", ["id = ", 'id = "x"\n'])
def test_a_broken_entry_names_its_file(tmp_path, text):
    (tmp_path / "01-broken.toml").write_text(text)
    with pytest.raises(registry.RegistryError, match="01-broken.toml"):
        registry.load(tmp_path)


# The real registry agrees with the notebooks and the check modules.


def test_registry_order_is_the_order_learners_reach_checkpoints():
    assert [cp.id for cp in registry.load()] == checkpoint_order(solutions_dir())


@pytest.mark.parametrize("checkpoint", registry.load(), ids=lambda cp: cp.id)
def test_every_check_has_a_hint_and_every_hint_a_check(checkpoint):
    assert (solutions_dir() / checkpoint.notebook).is_file()
    tree = ast.parse((checkpoints_dir() / checkpoint.module).read_text())
    tests = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    # a parametrized check may have an entry per case, `test_x[case]`, besides (or instead of) its own
    assert tests == {name.split("[", 1)[0] for name in checkpoint.checks}
    assert all(check.hint.strip() for check in checkpoint.checks.values())
    assert checkpoint.exercise_checks, "a checkpoint with no exercise check cannot fail on unsolved code"
    assert checkpoint.target_minutes > 0


def test_each_milestones_checkpoints_share_exactly_its_target():
    from workbook.checklist import parse_checklist
    from workbook.paths import checklist_file

    targets = {m.name: m.target_minutes for m in parse_checklist(checklist_file().read_text()).milestones}
    shares: dict[str, float] = {}
    for checkpoint in registry.load():
        if checkpoint.milestone:
            assert checkpoint.milestone in targets, f"{checkpoint.id}: no row {checkpoint.milestone!r}"
            shares[checkpoint.milestone] = shares.get(checkpoint.milestone, 0) + checkpoint.target_minutes
    assert shares == {name: targets[name] for name in shares}
