"""The one subprocess layer: streaming, a missing command (127) and a timeout (124), for real."""

from __future__ import annotations

import sys

from workbook import process


def test_run_streams_lines_and_reports_missing_commands_and_timeouts() -> None:
    seen: list[str] = []
    done = process.run(["sh", "-c", "echo one; echo two >&2; exit 3"], on_line=seen.append)
    assert (done.returncode, seen, done.output) == (3, ["one", "two"], "one\ntwo\n")
    assert process.run(["sh", "-c", "echo out"]).stdout == "out\n"
    missing = process.run(["workbook-no-such-command"])
    assert (missing.returncode, missing.missing, missing.stderr) == (
        127,
        True,
        "workbook-no-such-command: command not found",
    )
    late = process.run(["sleep", "5"], timeout=0.2)
    assert late.timed_out and late.stderr.endswith("sleep 5 timed out after 0.2 s")
    assert process.run(["sleep", "5"], timeout=0.2, on_line=seen.append).returncode == 124


def test_env_replaces_and_extra_env_adds(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WORKBOOK_PROCESS_INHERITED", "from the parent")
    show = [
        sys.executable,
        "-c",
        "import os; print(os.environ.get('WORKBOOK_PROCESS_INHERITED'), os.environ.get('X'))",
    ]
    assert process.run(show, extra_env={"X": "1"}).stdout == "from the parent 1\n"
    assert process.run(show, env={"X": "2"}).stdout == "None 2\n"
    assert process.run(show, env={"X": "2"}, extra_env={"X": "3"}).stdout == "None 3\n"
