"""The throughput bench: wrk's summary parsed, the table rendered, one run against the baseline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workbook import databases, throughput
from workbook.paths import repo_root
from workbook.throughput import TARGETS, BenchError, Cell, Round

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
    rounds = [
        Round(
            16,
            Cell("baseline", 16, 1000.0, 8.0, 30.0, 0),
            (Cell("task-service", 16, 700.0, 10.0, 40.0, 0), Cell("user-service", 16, 1200.0, 6.0, 20.0, 0)),
        ),
        Round(
            256, Cell("baseline", 256, 900.0, 50.0, 300.0, 0), (Cell("task-service", 256, 0.0, 0.0, 0.0, 12),)
        ),
    ]
    text = throughput.render(rounds)
    lines = text.splitlines()
    assert lines[0].startswith("connections  service") and lines[0].endswith("ratio")
    assert lines[1].split()[1] == "task-service" and lines[1].split()[-1] == "0.70"
    assert lines[2].split()[1] == "user-service" and lines[2].split()[-1] == "1.20"
    assert lines[3].split()[2:7] == ["0", "-", "-", "all", "hung"]
    assert throughput.render(rounds, "markdown").startswith("| connections")


def test_cells_of_one_run_and_their_ratio() -> None:
    ours, theirs = Cell("user-service", 64, 300.0, 5.0, 9.0, 0), Cell("task-service", 64, 200.0, 6.0, 12.0, 1)
    lines = throughput.render_cells([theirs, ours]).splitlines()
    assert lines[0].split() == ["app", "connections", "req/s", "p50", "ms", "p99", "ms", "errors"]
    assert lines[2].split() == ["user-service", "64", "300", "5.0", "9.0", "0"]
    assert throughput.ratio(ours, theirs) == 1.5
    assert throughput.ratio(ours, Cell("hung", 64, 0.0, 0.0, 0.0, 0)) == 0.0


def test_every_http_service_has_a_target_and_its_script_creates_into_its_collection() -> None:
    from workbook.services import PROFILES

    http = {name for name, profile in PROFILES.items() if profile.is_http and profile.part <= 2}
    assert http <= set(TARGETS) and set(throughput.SERVICES) == set(TARGETS) - {"baseline"}
    users = TARGETS["user-service"].script()
    assert '"POST", "/api/v1/users"' in users and "'@example.com'" not in users and "$" not in users
    assert "gunicorn.conf.py" in TARGETS["user-service"].argv
    assert TARGETS["user-service"].seed_body(3) == {"email": "seed-3@example.com", "name": "Seed 3"}
    assert '"GET", "/api/v1/tasks/"' in TARGETS["task-service"].script()
    with pytest.raises(BenchError, match="no bench for 'auth'"):
        throughput.target_for("auth")


def test_wrk_missing_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BenchError, match="wrk is not installed"):
        throughput.wrk("http://127.0.0.1:1", 1, 1, tmp_path / "x.lua", 1)


def test_a_sqlite_database_without_a_server(tmp_path: Path) -> None:
    with databases.fresh_database(None, tmp_path, "bench") as url:
        assert url.startswith("sqlite:///") and str(tmp_path) in url


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system)")
def test_one_cell_against_the_baseline(tmp_path: Path) -> None:
    cell = throughput.measure_one(
        TARGETS["baseline"], repo_root() / "gates" / "baseline", 4, 1, None, tmp_path
    )
    assert cell.app == "baseline" and cell.connections == 4
    assert cell.requests_per_second > 0 and cell.errors == 0
    assert 0 < cell.p50_ms <= cell.p99_ms


def test_main_prints_the_table_and_says_which_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def fake(seconds: float, database_url: str | None) -> list[Round]:
        seen.update(seconds=seconds, database_url=database_url)
        baseline = Cell("baseline", 64, 1000.0, 4.0, 8.0, 0)
        return [Round(64, baseline, (Cell("user-service", 64, 800.0, 5.0, 9.0, 0),))]

    monkeypatch.setattr(throughput, "measure", fake)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    assert throughput.main(["3"]) == 0
    out = capsys.readouterr().out
    assert "task-service, user-service against a bare" in out and "on SQLite, wrk 3 s per cell" in out
    assert out.rstrip().endswith("0.80")
    assert seen == {"seconds": 3, "database_url": None}


def test_main_reports_a_bench_error_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_: object) -> list[Round]:
        raise BenchError("wrk is not installed")

    monkeypatch.setattr(throughput, "measure", lambda *a, **k: broken())
    assert throughput.main([]) == 1
    assert capsys.readouterr().err.strip() == "throughput: wrk is not installed"


def test_the_reference_services_are_laid_out_from_the_solutions(tmp_path: Path) -> None:
    root = throughput.reference_services(tmp_path)
    assert (root / "task-service" / "src" / "main.py").is_file()
    assert (root / "user-service" / "gunicorn.conf.py").is_file()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system)")
def test_measure_runs_every_service_and_the_baseline_side_by_side(tmp_path: Path) -> None:
    root = throughput.reference_services(tmp_path)
    [turn] = throughput.measure(root=root, connections=[2], seconds=1)
    assert turn.connections == 2 and turn.baseline.app == "baseline"
    assert [cell.app for cell in turn.services] == ["task-service", "user-service"]
    for cell in (turn.baseline, *turn.services):
        assert cell.requests_per_second > 0 and cell.errors == 0, cell  # every create unique: no 409


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
