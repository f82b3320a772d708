import json

import pytest

from workbook import record


def test_a_missing_file_is_a_fresh_start(tmp_path):
    assert record.load(tmp_path / "none.json") == record.Progress()


def test_the_first_start_counts(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    first = record.record_start("01-x", path).notebooks["01-x"].started_at
    monkeypatch.setattr(record, "now", lambda: first.replace(year=first.year + 1))
    assert record.record_start("01-x", path).notebooks["01-x"].started_at == first


def test_results_count_attempts_and_keep_the_first_pass(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    record.record_result("cp", False, {"test_a": "failed"}, path)
    passed = record.record_result("cp", True, {"test_a": "passed"}, path).checkpoints["cp"]
    assert passed.attempts == 2 and passed.passed_at is not None
    first_pass = passed.passed_at
    later = record.record_result("cp", False, {"test_a": "failed"}, path).checkpoints["cp"]
    assert later.attempts == 3 and not later.passed and later.passed_at == first_pass
    assert json.loads(path.read_text())["checkpoints"]["cp"]["checks"] == {"test_a": "failed"}


@pytest.mark.parametrize("content", ["{not json", '{"checkpoints": {"cp": {"passed": "maybe"}}}', "\xff\xfe"])
def test_a_corrupt_file_is_reported_and_left_alone(tmp_path, content):
    path = tmp_path / "p.json"
    path.write_text(content, encoding="latin-1")
    before = path.read_bytes()
    with pytest.raises(record.ProgressError, match="is corrupt"):
        record.record_result("cp", True, {}, path)
    assert path.read_bytes() == before
