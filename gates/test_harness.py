"""Tests of the gates' own harness, against the bare baseline app: the load generator counts
what it sends, the owned PostgreSQL stops, freezes, thaws and cleans up. They need no fixed
service and must pass today (`pytest -c gates/pytest.ini gates -m harness`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Iterator

import psutil
import psycopg
import pytest
from harness import databases, load
from harness.load import Call
from harness.postgres import OwnedPostgres
from harness.resources import TASKS

from workbook.loopback import free_port
from workbook.serving import Server, ServeError
from workbook.services import Profile

pytestmark = pytest.mark.harness

BASELINE = Profile("baseline", "http", "fastapi", part=0, app_module="app")
BASELINE_DIR = Path(__file__).resolve().parent / "baseline"


@pytest.fixture(scope="module")
def owned() -> Iterator[OwnedPostgres]:
    with OwnedPostgres() as postgres:
        yield postgres


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, databases.Database]]:
    scratch = tmp_path_factory.mktemp("baseline")
    database = databases.sqlite(scratch)
    with Server(
        BASELINE, BASELINE_DIR, env={"DATABASE_URL": database.url}, log_path=scratch / "log"
    ) as server:
        yield server, database


def test_load_generator_sends_every_call_and_counts_every_answer(
    baseline: tuple[Server, databases.Database],
) -> None:
    server, database = baseline
    before = database.count(TASKS.table)
    calls = [Call("POST", TASKS.collection, TASKS.create(n)) for n in range(1000)]
    started = time.monotonic()
    outcomes = asyncio.run(load.run(server.base_url, calls, 64))
    seconds = time.monotonic() - started
    assert load.tally(outcomes) == {"201": 1000}
    assert database.count(TASKS.table) - before == 1000
    assert [o.call for o in outcomes] == calls  # in the order sent
    assert seconds < 60, f"1000 creates took {seconds:.1f} s"


def test_load_generator_records_transport_errors_instead_of_raising() -> None:
    base = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    outcomes = asyncio.run(load.run(base, [Call("GET", "/")] * 3, 2, timeout=2))
    assert [o.status for o in outcomes] == [None, None, None]
    assert all(o.error == "ConnectError" for o in outcomes)
    assert load.tally(outcomes) == {"ConnectError": 3}


def test_poller_reports_the_probes_that_failed(baseline: tuple[Server, databases.Database]) -> None:
    server, _ = baseline

    async def probe() -> tuple[load.Poller, load.Poller]:
        async with load.Poller(server.base_url, "/health/live", 0.05) as good:
            async with load.Poller(server.base_url, "/no-such-path", 0.05) as bad:
                await asyncio.sleep(0.5)
        return good, bad

    good, bad = asyncio.run(probe())
    assert len(good.outcomes) >= 3 and not good.failures()
    assert bad.failures() and load.tally(bad.failures()) == {"404": len(bad.outcomes)}


def test_server_that_exits_early_says_why(tmp_path: Path) -> None:
    broken = Profile("broken", "http", "fastapi", part=0, app_module="nowhere")
    with pytest.raises(ServeError, match="exited with status"):
        Server(broken, tmp_path, log_path=tmp_path / "log").start(timeout=20)


def query(url: str, timeout: int = 2) -> int:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, connect_timeout=timeout) as connection:
        row = connection.execute("SELECT 1").fetchone()
        assert row is not None
        return int(row[0])


def test_owned_postgres_stops_and_starts_keeping_its_data(owned: OwnedPostgres) -> None:
    database = databases.postgresql(owned.url)
    try:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE kept (id integer)")
            connection.exec_driver_sql("INSERT INTO kept VALUES (1)")
        database.dispose()
        owned.stop()
        with pytest.raises(psycopg.OperationalError):
            query(owned.url)
        owned.start()
        assert database.count("kept") == 1
    finally:
        database.drop()


def test_owned_postgres_freezes_and_thaws(owned: OwnedPostgres) -> None:
    assert query(owned.url) == 1
    owned.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            query(owned.url, timeout=1)  # accepted by the kernel, never answered
        assert time.monotonic() - started < 5
    finally:
        owned.thaw()
    assert query(owned.url) == 1


def test_owned_postgres_leaves_nothing_behind() -> None:
    postgres = OwnedPostgres().start()
    pids = [p.pid for p in postgres.processes()]
    root = postgres.root
    assert pids and root.is_dir()
    postgres.freeze()  # the worst state to be left in
    postgres.close()
    assert not root.exists()
    deadline = time.monotonic() + 10
    while running(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(pids)


def running(pids: list[int]) -> list[int]:
    """The pids still alive; a zombie has exited and waits only to be reaped by init."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive
