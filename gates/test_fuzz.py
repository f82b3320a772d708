"""Fuzz gate: schemathesis against the OpenAPI document the service serves, with a fixed seed
and a bounded number of examples per operation. Any 5xx, or any answer that does not match the
document (status, content type, headers, body schema), fails the gate."""

from __future__ import annotations

import os

import sys
from pathlib import Path

import pytest
from conftest import Target

from workbook import process

pytestmark = pytest.mark.fuzz

SEED = 20261201
EXAMPLES = int(os.environ.get("GATES_FUZZ_EXAMPLES", "100"))
CONFORMANCE = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
# Every request the document calls valid is accepted: the document states every rule the service
# enforces. Two statements need the configuration beside this file: 412 is the right answer to a
# random If-Match (schemathesis.toml), and a date window relative to today, which JSON Schema cannot
# express, is read from its extension keyword (fuzz_hooks.py says how).
ACCEPTANCE = ["positive_data_acceptance"]
HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    "checks",
    [pytest.param(CONFORMANCE, id="conformance"), pytest.param(ACCEPTANCE, id="acceptance")],
)
def test_fuzz_no_server_error_and_every_answer_conforms(
    target: Target, tmp_path: Path, checks: list[str]
) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    if not schemathesis.is_file():
        pytest.fail(f"schemathesis is not installed in {sys.prefix} (pip install schemathesis)")
    argv = [
        str(schemathesis),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{target.base_url}/openapi.json",
        "--checks",
        ",".join(checks),
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    env = {"NO_COLOR": "1"}
    if checks == ACCEPTANCE:  # the conformance run keeps every date the fuzzer draws
        env["SCHEMATHESIS_HOOKS"] = str(HERE / "fuzz_hooks.py")
    # cwd: schemathesis keeps its example database in ./.schemathesis, not in the repository.
    done = process.run(argv, cwd=tmp_path, extra_env=env, timeout=300)
    report = done.stdout + done.stderr
    (tmp_path / "schemathesis.txt").write_text(report)
    assert done.returncode == 0, (
        f"schemathesis found problems (seed {SEED}):\n{report[-6000:]}\n"
        f"--- service log:\n{target.server.log_tail(12)}"
    )
