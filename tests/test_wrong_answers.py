import textwrap

import pytest

from notebook_factory import make_notebook
from workbook import mutants, registry, wrong_answers
from workbook.check import CheckpointResult, CheckResult


def variants(code, first=1, last=None):
    source = textwrap.dedent(code)
    return mutants.derive(source, first, last or source.count("\n"))


def changes(code, operator):
    return [(m.before, m.after) for m in variants(code) if m.operator == operator]


def test_comparisons_are_flipped_one_operator_at_a_time():
    found = changes("ok = 0 < x <= 3 and y == 1 and z not in s and w is None\n", "compare")
    assert found == [("<", "<="), ("<=", "<"), ("==", "!="), ("not in", "in"), ("is", "is not")]


def test_a_flipped_comparison_keeps_the_parentheses_around_its_operands():
    [mutation] = [m for m in variants("ok = (a + 1) > (b)\n") if m.operator == "compare"]
    assert mutation.source == "ok = (a + 1) >= (b)\n"


def test_constants_change_but_docstrings_do_not():
    code = '''
    def f():
        """A docstring is the same program when changed."""
        return g(3, "word", True, 1.5, "")
    '''
    assert changes(code, "constant") == [
        ("3", "4"), ("3", "2"), ('"word"', '""'), ("True", "False"), ("1.5", "2.5"),
    ]  # fmt: skip


def test_a_statement_is_dropped_with_its_lines_unless_it_is_alone_in_its_block():
    code = """
    def f(x):
        y = x + 1
        return y


    def g():
        return 1
    """
    dropped = [m for m in variants(code) if m.operator == "drop-statement"]
    assert [m.before for m in dropped] == ["def f(x): ...", "y = x + 1", "return y", "def g(): ..."]
    statement = dropped[1]
    assert statement.source == textwrap.dedent(code).replace("    y = x + 1\n", "")


def test_a_statement_sharing_its_line_is_not_dropped():
    assert changes("a = 1; b = 2\n", "drop-statement") == []


def test_arguments_and_keywords_are_dropped_with_their_commas():
    code = "call(a, b, key=1)\n"
    sources = [m.source for m in variants(code) if m.operator == "drop-argument"]
    assert sources == ["call(b, key=1)\n", "call(a, key=1)\n", "call(a, b)\n"]


def test_a_multi_line_call_loses_one_line_and_keeps_its_layout():
    code = "call(\n    first=1,\n    second=2,\n)\n"
    sources = [m.source for m in variants(code) if m.operator == "drop-argument"]
    assert sources == ["call(\n    second=2,\n)\n", "call(\n    first=1,\n)\n"]


def test_branches_are_swapped_and_conditions_negated():
    code = """
    if ready:
        go()
    else:
        wait()
    x = a if c else b
    """
    swapped = [m.source for m in variants(code) if m.operator == "swap-branches"]
    assert swapped[0].startswith("\nif ready:\n    wait()\nelse:\n    go()\n")
    assert swapped[1].endswith("x = b if c else a\n")
    assert changes(code, "add-not") == [("ready", "not ready")]


def test_not_is_removed_and_added_around_compound_conditions():
    code = """
    if not (a or b):
        pass
    while x > 1:
        x -= 1
    """
    assert changes(code, "remove-not") == [("not (a or b)", "(a or b)")]
    assert ("x > 1", "not (x > 1)") in changes(code, "add-not")


def test_return_values_become_none_and_decorators_are_dropped():
    code = """
    @app.get("/x")
    @cached
    def f():
        return compute()
    """
    assert changes(code, "return-none") == [("compute()", "None")]
    dropped = [m.source for m in variants(code) if m.operator == "drop-decorator"]
    assert dropped == [
        textwrap.dedent(code).replace('@app.get("/x")\n', ""),
        textwrap.dedent(code).replace("@cached\n", ""),
    ]


def test_only_nodes_inside_the_region_are_changed_and_the_rest_stays_byte_equal():
    source = "before = 1  # kept\n### BEGIN SOLUTION\ninside = 2\n### END SOLUTION\nafter = 3\n"
    found = mutants.derive(source, 3, 3)
    assert [(m.operator, m.after) for m in found] == [
        ("drop-statement", ""),
        ("constant", "3"),
        ("constant", "1"),
    ]
    for mutation in found:
        assert mutation.source.startswith("before = 1  # kept\n### BEGIN SOLUTION\n")
        assert mutation.source.endswith("\n### END SOLUTION\nafter = 3\n")


def test_variants_that_do_not_compile_or_repeat_are_dropped():
    # dropping the keyword of `f(*, k)`-style calls is fine; a `return` outside a function is not Python
    assert mutants.derive("x = (\n", 1, 1) == []
    found = variants("a = b == c\n")
    assert len({m.source for m in found}) == len(found)


def test_the_order_and_the_names_are_stable(tmp_path):
    folder = tmp_path / "solutions"
    body = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    make_notebook(folder / "01-one.ipynb", f"%%service svc src/f.py\n{body}", "%checkpoint one")
    checkpoint = fake_checkpoint()
    first, skipped = wrong_answers.derive(checkpoint, folder)
    again, _ = wrong_answers.derive(checkpoint, folder)
    assert first == again and skipped == []
    assert [v.name for v in first] == [
        "01:cell-0:L4:return-none:1", "01:cell-0:L4:constant:1", "01:cell-0:L4:constant:2",
    ]  # fmt: skip
    assert first[0].diff() == "src/f.py (cell cell-0, line 4) return-none: `x + 1` -> `None`"


def test_regions_rewritten_later_or_with_nothing_to_change_get_no_variants(tmp_path):
    folder = tmp_path / "solutions"
    make_notebook(
        folder / "01-one.ipynb",
        "%%service svc pyproject.toml\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n",
        "%%service svc .gitignore\n### BEGIN SOLUTION\n# only a comment\n### END SOLUTION\n",
        "%%service svc a.py\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n",
        "%%service svc a.py\nx = 2\n",
        "%checkpoint one",
    )
    found, skipped = wrong_answers.derive(fake_checkpoint(), folder)
    assert [(v.name, v.after) for v in found] == [
        ("01:cell-0:L3:drop-line:1", ""), ("01:cell-0:L3:change-value:1", "2"),
        ("01:cell-0:L3:change-value:2", "0"),
    ]  # fmt: skip
    assert found[1].diff() == "pyproject.toml (cell cell-0, line 3) change-value: `1` -> `2`"
    assert skipped == [
        ".gitignore (cell cell-1): the lines operators find nothing to change",
        "a.py (cell cell-2): rewritten by cell cell-3",
    ]


def test_the_equivalent_table_is_read_from_the_checkpoints_registry_file(tmp_path):
    (tmp_path / "01-one.toml").write_text('id = "one"\n[equivalent]\n"01:c:L3:constant:1" = "free text"\n')
    (tmp_path / "02-two.toml").write_text('id = "two"\n')
    assert wrong_answers.equivalents(fake_checkpoint(), tmp_path) == {"01:c:L3:constant:1": "free text"}
    assert wrong_answers.equivalents(fake_checkpoint("two"), tmp_path) == {}
    (tmp_path / "02-two.toml").write_text('id = "two"\n[equivalent]\n"x" = ""\n')
    with pytest.raises(wrong_answers.EquivalentTableError, match=r"02-two.toml: \[equivalent\]"):
        wrong_answers.equivalents(fake_checkpoint("two"), tmp_path)


def test_the_sample_is_the_same_for_the_same_seed():
    items = list(range(40))
    first = wrong_answers.sample(items, 5, 0, "one")  # type: ignore[arg-type]
    assert first == wrong_answers.sample(items, 5, 0, "one") and len(first) == 5 and first == sorted(first)
    assert first != wrong_answers.sample(items, 5, 1, "one")
    assert wrong_answers.sample(items, None, 0, "one") == items


def fake_checkpoint(checkpoint_id="one"):
    checks = {"test_adds_one": registry.Check("test_adds_one", "f adds one", True)}
    return registry.Checkpoint(checkpoint_id, "One", "01-one.ipynb", (), "", 1, "test_one.py", checks)


def fake_run(checkpoint, root, timeout=None, style=True):
    """The checkpoint's one check, run on the written file: f(1) == 2; a hang times out, and so does
    a slow variant, unless given more than 200 s."""
    assert not style, "wrong answers are judged by behaviour, not by the formatting check"
    source = (root / "svc/src/f.py").read_text()
    if "while not" in source or ("x + 2" in source and timeout <= 200):
        return CheckpointResult(checkpoint, (), timed_out=True)
    namespace: dict = {}
    try:
        exec(source, namespace)
        outcome = "passed" if namespace["f"](1) == 2 and namespace["f"](5) == 6 else "failed"
    except Exception:
        outcome = "error"
    return CheckpointResult(checkpoint, (CheckResult("test_adds_one", outcome, "", "", ""),))


def test_a_checkpoint_run_counts_rejected_survivors_and_equivalents(tmp_path, monkeypatch):
    folder = tmp_path / "solutions"
    body = textwrap.dedent("""
        def f(x):
            ### BEGIN SOLUTION
            step = 1
            if x >= 0:
                return x + step
            return x + 1
            ### END SOLUTION
    """)  # fmt: skip
    make_notebook(folder / "01-one.ipynb", f"%%service svc src/f.py{body}", "%checkpoint one")
    monkeypatch.setattr(wrong_answers.check, "run_checkpoint", fake_run)
    checkpoint = fake_checkpoint()
    proof = wrong_answers.prove(checkpoint, folder=folder)
    survivors = {v.name: v for v in proof.survivors()}
    assert proof.total == len(proof.outcomes) > 8
    # `x >= 0` -> `x > 0`: no check calls f(0), so it survives; so does the dropped `if`.
    assert {"01:cell-0:L5:compare:1", "01:cell-0:L5:drop-statement:1"} <= set(survivors)
    assert "01:cell-0:L4:drop-statement:1" not in survivors  # `step` is undefined: the check errs
    assert proof.rejected == len(proof.outcomes) - len(survivors)
    marked = wrong_answers.Proof(
        checkpoint, proof.variants, proof.total, {"01:cell-0:L5:compare:1": "same", "gone": "x"}
    )
    marked.outcomes = proof.outcomes
    assert marked.rejected == proof.rejected and len(marked.counted()) == len(proof.outcomes) - 1
    assert marked.stale_marks() == ["gone"]
    text = wrong_answers.render([proof])
    assert text.startswith("checkpoint  rejected  non-equivalent")
    assert (
        f"{proof.rejected} of {len(proof.outcomes)} non-equivalent variants rejected; below the 95% goal: one"
        in text
    )
    assert "01:cell-0:L5:compare:1  src/f.py (cell cell-0, line 5) compare: `>=` -> `>`" in text
    assert f"  rejected by: test_adds_one {proof.rejected}" in text
    assert "| one " in wrong_answers.render([proof], "markdown")


def test_a_reference_that_fails_its_checkpoint_gives_no_rate(tmp_path, monkeypatch):
    folder = tmp_path / "solutions"
    body = "\ndef f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    make_notebook(folder / "01-one.ipynb", f"%%service svc src/f.py{body}", "%checkpoint one")
    monkeypatch.setattr(wrong_answers.check, "run_checkpoint", fake_run)
    proof = wrong_answers.prove(fake_checkpoint(), folder=folder)
    assert proof.baseline_failed == ["test_adds_one"] and proof.outcomes == [] and proof.rate is None
    assert "fails on the reference (test_adds_one)" in wrong_answers.render([proof])


def test_a_variant_that_times_out_twice_is_reported_apart_not_rejected(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "solutions"
    region = "    while x < 0:\n        x += 1\n    return x + 1\n"
    body = f"\ndef f(x):\n    ### BEGIN SOLUTION\n{region}    ### END SOLUTION\n"
    make_notebook(folder / "01-one.ipynb", f"%%service svc src/f.py{body}", "%checkpoint one")
    monkeypatch.setattr(wrong_answers.check, "run_checkpoint", fake_run)
    monkeypatch.setattr(wrong_answers, "TIMEOUT_FLOOR", 150)
    proof = wrong_answers.prove(fake_checkpoint(), folder=folder, workers=1)
    [hung] = [o for o in proof.outcomes if o.variant.operator == "add-not"]
    assert not hung.rejected and hung.by == () and hung.timed_out == (150, 300)
    assert proof.timeouts() == [hung] and hung.variant not in proof.survivors()
    assert proof.rejected == len(proof.outcomes) - 1 - len(proof.survivors())
    # `x + 1` -> `x + 2` runs past 150 s and fails its check within 300 s: rejected, on the second run.
    [slow] = [o for o in proof.outcomes if "x + 2" in o.variant.body]
    assert slow.rejected and slow.by == ("test_adds_one",) and slow.timed_out == (150,)
    text = wrong_answers.render([proof])
    assert "1 variant timed out twice" in text and "neither rejected nor survived" in text
    assert (
        f"  timed out (150 s, then 300 s): {hung.variant.name}  src/f.py (cell cell-0, line 4) add-not"
        in text
    )
    monkeypatch.setattr(wrong_answers.registry, "get", lambda name: proof.checkpoint)
    monkeypatch.setattr(wrong_answers, "prove", lambda cp, *args: proof)
    assert wrong_answers.main(["one", "--require"]) == 1
    marked = wrong_answers.Proof(proof.checkpoint, proof.variants, proof.total, {hung.variant.name: "hangs"})
    marked.outcomes = [o for o in proof.outcomes if o.rejected or o is hung]
    monkeypatch.setattr(wrong_answers, "prove", lambda cp, *args: marked)
    assert marked.timeouts() == [] and wrong_answers.main(["one", "--require"]) == 0
    capsys.readouterr()


def test_the_command_reports_and_writes_markdown(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(wrong_answers.registry, "load", lambda *folder: [fake_checkpoint()])
    monkeypatch.setattr(wrong_answers, "prove", lambda cp, *args: wrong_answers.Proof(cp, [], 0, {}))
    report = tmp_path / "report.md"
    assert wrong_answers.main(["--markdown", str(report)]) == 0
    assert "no exercise region" in capsys.readouterr().out
    assert report.read_text().startswith("| checkpoint |")
    assert wrong_answers.main(["no-such-checkpoint"]) == 2
    assert "workbook wrong-answers: unknown checkpoint 'no-such-checkpoint'" in capsys.readouterr().err


def test_require_fails_the_command_below_the_goal(monkeypatch, capsys):
    checkpoint = fake_checkpoint()
    variant = wrong_answers.Variant("v", "one", "01-one.ipynb", "c", "f.py", 2, "compare", "<", "<=", "")
    proof = wrong_answers.Proof(checkpoint, [variant], 1, {})
    proof.outcomes = [wrong_answers.Outcome(variant, False, ())]
    monkeypatch.setattr(wrong_answers.registry, "get", lambda name: checkpoint)
    monkeypatch.setattr(wrong_answers, "prove", lambda cp, *args: proof)
    assert wrong_answers.main(["one"]) == 0
    assert wrong_answers.main(["one", "--require"]) == 1
    assert "v  f.py (cell c, line 2) compare: `<` -> `<=`" in capsys.readouterr().out


def test_skip_leaves_a_checkpoint_out_and_refuses_an_unknown_one(monkeypatch, capsys):
    import argparse
    from types import SimpleNamespace

    monkeypatch.setattr(
        wrong_answers.registry, "load", lambda folder=None: [fake_checkpoint("one"), fake_checkpoint("two")]
    )
    proved = []

    def fake_prove(checkpoint, sample, seed, workers):
        proved.append(checkpoint.id)
        return SimpleNamespace(outcomes=[], baseline_failed=False, rate=None, timeouts=list)

    monkeypatch.setattr(wrong_answers, "prove", fake_prove)
    monkeypatch.setattr(wrong_answers, "render", lambda proofs, style="text": "report")
    parser = wrong_answers.add_arguments(argparse.ArgumentParser())
    assert wrong_answers.run(parser.parse_args(["--skip", "two", "--require"])) == 0
    assert proved == ["one"]
    with pytest.raises(registry.UnknownCheckpoint):
        wrong_answers.run(parser.parse_args(["--skip", "tow"]))
