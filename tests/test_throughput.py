"""The throughput bench: wrk's summary parsed, the table rendered, one run against the baseline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workbook import databases, throughput
from workbook.paths import repo_root
from workbook.throughput import BASELINE, BenchError, Cell

SUMMARY = (
    "Running 10s test @ http://127.0.0.1:1\n"
    'BENCH {"requests": 5000, "duration_us": 10000000, "status": 3, "connect": 1, "read": 2, '
    '"write": 0, "timeout": 4, "p50_us": 12500, "p99_us": 98000}\n'
)


def test_parse_reads_the_summary_line() -> None:
    cell = throughput.parse(SUMMARY, "service", 64)
    assert cell == Cell("service", 64, 500.0, 12.5, 98.0, 10)


def test_parse_without_a_summary_is_one_clear_error() -> None:
    with pytest.raises(BenchError, match="no summary for service at 16"):
        throughput.parse("unable to connect", "service", 16)


def test_render_gives_the_ratio_and_no_latency_without_requests() -> None:
    pairs = [
        (Cell("service", 16, 700.0, 10.0, 40.0, 0), Cell("baseline", 16, 1000.0, 8.0, 30.0, 0)),
        (Cell("service", 256, 0.0, 0.0, 0.0, 12), Cell("baseline", 256, 900.0, 50.0, 300.0, 0)),
    ]
    text = throughput.render(pairs)
    lines = text.splitlines()
    assert lines[0].startswith("connections") and lines[0].endswith("ratio")
    assert lines[1].split()[-1] == "0.70"
    assert lines[2].split()[1:6] == ["0", "-", "-", "all", "hung"]
    assert throughput.render(pairs, "markdown").startswith("| connections")


def test_wrk_missing_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BenchError, match="wrk is not installed"):
        throughput.wrk("http://127.0.0.1:1", 1, 1, tmp_path / "x.lua", 1)


def test_a_sqlite_database_without_a_server(tmp_path: Path) -> None:
    with databases.fresh_database(None, tmp_path, "bench") as url:
        assert url.startswith("sqlite:///") and str(tmp_path) in url


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system)")
def test_one_cell_against_the_baseline(tmp_path: Path) -> None:
    cell = throughput.measure_one(BASELINE, repo_root() / "gates" / "baseline", 4, 1, None, tmp_path)
    assert cell.app == "baseline" and cell.connections == 4
    assert cell.requests_per_second > 0 and cell.errors == 0
    assert 0 < cell.p50_ms <= cell.p99_ms


def test_main_prints_the_table_and_says_which_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def fake(service: str, seconds: int, database_url: str | None) -> list[tuple[Cell, Cell]]:
        seen.update(service=service, seconds=seconds, database_url=database_url)
        return [(Cell("service", 64, 800.0, 5.0, 9.0, 0), Cell("baseline", 64, 1000.0, 4.0, 8.0, 0))]

    monkeypatch.setattr(throughput, "measure", fake)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    assert throughput.main(["3"]) == 0
    out = capsys.readouterr().out
    assert "on SQLite, wrk 3 s per cell" in out and out.rstrip().endswith("0.80")
    assert seen == {"service": "task-service", "seconds": 3, "database_url": None}


def test_main_reports_a_bench_error_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_: object) -> list[tuple[Cell, Cell]]:
        raise BenchError("wrk is not installed")

    monkeypatch.setattr(throughput, "measure", lambda *a, **k: broken())
    assert throughput.main([]) == 1
    assert capsys.readouterr().err.strip() == "throughput: wrk is not installed"


def test_the_reference_service_is_laid_out_from_the_solutions(tmp_path: Path) -> None:
    folder = throughput.reference_service("task-service", tmp_path)
    assert (folder / "src" / "main.py").is_file()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system)")
def test_measure_runs_the_service_and_the_baseline_side_by_side(tmp_path: Path) -> None:
    folder = throughput.reference_service("task-service", tmp_path)
    [(ours, theirs)] = throughput.measure(folder=folder, connections=[2], seconds=1)
    assert (ours.app, theirs.app) == ("task-service", "baseline")
    assert ours.requests_per_second > 0 and theirs.requests_per_second > 0


def test_a_fresh_postgresql_database_is_dropped_afterwards(tmp_path: Path) -> None:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set (scripts/postgres.sh prints one)")
    with databases.fresh_database(server.replace("+psycopg", ""), tmp_path, "bench") as url:
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_database()")).scalar_one().startswith("bench_")
        engine.dispose()
    admin = create_engine(server)
    with admin.connect() as connection:
        name = url.rsplit("/", 1)[1]
        gone = connection.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name})
        assert gone.scalar_one() == 0
    admin.dispose()
