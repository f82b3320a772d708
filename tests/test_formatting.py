from workbook import check, formatting, registry
from workbook.cells import Write
from workbook.formatting import LINE_LENGTH, check_service

LONG = "x = " + " + ".join(["1"] * 40) + "\n"  # past 100 columns: black wraps it, flake8 flags it
BADLY_LAID_OUT = "def f( a ):\n    return a\n"


def service(root, files):
    for path, text in files.items():
        target = root / "svc" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def test_clean_files_pass(isolated_workspace):
    service(isolated_workspace, {"src/a.py": "def f(a):\n    return a\n"})
    assert check_service(isolated_workspace, "svc", ["src/a.py"]).findings == ()


def test_black_and_flake8_findings_name_file_and_line(isolated_workspace):
    service(
        isolated_workspace, {"src/a.py": "import os\n\n\n" + BADLY_LAID_OUT, "src/b.py": "y = 1\n" + LONG}
    )
    outcome = check_service(isolated_workspace, "svc", ["src/a.py", "src/b.py", "src/gone.py", "README.md"])
    found = [str(finding) for finding in outcome.findings]
    assert "svc/src/a.py line 1: flake8 F401 'os' imported but unused" in found
    assert "svc/src/a.py line 4: black would reformat this line (and perhaps more of the file)" in found
    assert f"svc/src/b.py line 2: flake8 E501 line too long (161 > {LINE_LENGTH} characters)" in found
    hint = outcome.hint("svc")
    assert hint.startswith("svc/src/a.py line 1: flake8 F401") and "findings, all in the details" in hint
    assert f"`black --line-length {LINE_LENGTH} src/a.py`" in hint


def test_the_services_own_settings_win_once_written(isolated_workspace):
    service(isolated_workspace, {"a.py": LONG, ".flake8": "[flake8]\nmax-line-length = 200\n",
                                 "pyproject.toml": "[tool.black]\nline-length = 200\n"})  # fmt: skip
    assert check_service(isolated_workspace, "svc", ["a.py"]).findings == ()


def test_a_tool_that_cannot_check_is_a_finding_not_a_pass(isolated_workspace):
    service(isolated_workspace, {"a.py": "x = 1\n", "pyproject.toml": "[tool.black\n"})
    (found,) = check_service(isolated_workspace, "svc", ["a.py"]).findings
    assert str(found).startswith("svc: black could not check the files: ") and "TOMLDecodeError" in str(found)


def test_a_file_black_cannot_parse_is_named_with_its_line(isolated_workspace):
    service(isolated_workspace, {"a.py": "x = 1\ndef broken(:\n"})
    found = [str(f) for f in check_service(isolated_workspace, "svc", ["a.py"]).findings]
    assert any(f.startswith("svc/a.py line 2: black cannot parse it") for f in found)
    assert any(f.startswith("svc/a.py line 2: flake8 E999 SyntaxError") for f in found)


def test_a_file_holding_a_stub_is_not_held_to_its_unfinished_names(isolated_workspace):
    stub = "import os\n\n\ndef f():\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    service(isolated_workspace, {"stub.py": stub, "done.py": stub.replace("    # YOUR CODE HERE\n", "")})
    found = check_service(isolated_workspace, "svc", ["stub.py", "done.py"]).findings
    assert [(f.file, f.problem.split()[1]) for f in found] == [("svc/done.py", "F401")]


def test_a_missing_tool_is_reported_not_failed(isolated_workspace, monkeypatch):
    from workbook.process import Completed

    service(isolated_workspace, {"a.py": "x = 1\n"})
    monkeypatch.setattr(
        formatting.process, "run", lambda *a, **k: Completed(1, "", "/venv/bin/python: No module named black")
    )
    assert check_service(isolated_workspace, "svc", ["a.py"]).missing_tool == "black"


def test_each_checkpoint_checks_its_own_notebooks_files(isolated_workspace, monkeypatch):
    cp = registry.Checkpoint("demo", "A demo", "02-demo.ipynb", (), "", 1, "test_demo.py", {})
    writes = [
        Write("svc", "early.py", "", "01-demo.ipynb", "c0"),
        Write("svc", "mine.py", "", "02-demo.ipynb", "c1"),
        Write("svc", "notes.md", "", "02-demo.ipynb", "c2"),
    ]
    service(isolated_workspace, {"early.py": LONG, "mine.py": "def f():\n    return 1\n"})
    (passed,) = check.formatting_checks(cp, writes, isolated_workspace)
    assert (passed.name, passed.outcome) == ("formatting[svc]", "passed")
    assert passed.doc == "the Python files 02-demo.ipynb writes into svc pass black and flake8"
    service(isolated_workspace, {"mine.py": LONG})
    (failed,) = check.formatting_checks(cp, writes, isolated_workspace)
    assert failed.outcome == "failed" and failed.hint.startswith("svc/mine.py line 1: black would reformat")
    assert "svc/mine.py line 1: flake8 E501" in failed.detail
    monkeypatch.setattr(formatting, "check_service", lambda *a: formatting.Outcome((), missing_tool="flake8"))
    (skipped,) = check.formatting_checks(cp, writes, isolated_workspace)
    assert skipped.outcome == "skipped" and "pip install black flake8" in skipped.detail
