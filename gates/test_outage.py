"""Outage gates, on a PostgreSQL the test owns: stopped, then frozen (SIGSTOP: connections stay
open and nothing answers), while the service is under write load. Within 2 s of the outage the
service answers 503 with Retry-After; liveness answers throughout; once the database is back the
same process serves again without a restart; and every write it acknowledged is stored."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from conftest import serve, services_root
from harness import databases, load
from harness.databases import Database
from harness.load import Call, Outcome
from harness.postgres import OwnedPostgres
from harness.resources import Resource, resource_for

from workbook.serving import Server
from workbook.services import Profile

pytestmark = pytest.mark.outage

# The gate: 8 writers, 5 s. Heavier outages to explore: GATES_OUTAGE_WRITERS, GATES_OUTAGE_SECONDS.
WRITERS = int(os.environ.get("GATES_OUTAGE_WRITERS", "8"))
OUTAGE_SECONDS = float(os.environ.get("GATES_OUTAGE_SECONDS", "5"))
UNAVAILABLE_WITHIN = 2.0
RECOVERED_WITHIN = 10.0
GIVE_UP_AFTER = 45.0  # how long to keep measuring a service that does not recover


@dataclass
class Scene:
    server: Server
    database: Database
    postgres: OwnedPostgres
    resource: Resource


@dataclass
class Record:
    writes: list[Outcome] = field(default_factory=list)
    probes: list[Outcome] = field(default_factory=list)
    outage_at: float = 0.0
    restored_at: float = 0.0
    recovered_at: float | None = None


@pytest.fixture
def scene(service: Profile, tmp_path: Path) -> Iterator[Scene]:
    resource = resource_for(service.name)
    if resource is None:
        pytest.fail(f"{service.name}: gates/harness/resources.py does not describe its API yet")
    postgres = OwnedPostgres()
    server = None
    try:
        postgres.start()
        database = databases.postgresql(postgres.url)
        server = serve(service, services_root() / service.name, database, tmp_path)
        yield Scene(server, database, postgres, resource)
    finally:
        if server is not None:
            server.stop()
        postgres.close()  # thaws first: always runs, also after a failed test


async def exercise(scene: Scene, how: str) -> Record:
    record = Record()
    stop = asyncio.Event()
    resource = scene.resource
    base = scene.server.base_url

    async def writer(number: int) -> None:
        async with load.client(base, 1, 10) as session:
            n = 0
            while not stop.is_set():
                n += 1
                outcome = await load.send(
                    session, Call("POST", resource.collection, resource.create(number * 100000 + n))
                )
                record.writes.append(outcome)
                if outcome.status != 201:
                    await asyncio.sleep(0.05)

    # Every route answers 503 during the outage, not only the ones that write. Ids past the
    # first are absent (404 while the database is up), so the probes change no stored write.
    absent = resource.item(10**9)
    probes = [
        Call("GET", resource.collection),
        Call("GET", resource.item(1)),
        Call("PUT", absent, resource.replace_a),
        Call("PATCH", absent, resource.patch),
        Call("DELETE", absent),
    ]

    async def prober() -> None:
        async with load.client(base, 1, 5) as session:
            n = 0
            while not stop.is_set():
                record.probes.append(await load.send(session, probes[n % len(probes)]))
                n += 1
                await asyncio.sleep(0.1)

    tasks = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
    tasks.append(asyncio.create_task(prober()))
    await asyncio.sleep(1.5)
    record.outage_at = time.monotonic()
    if how == "stopped":
        await asyncio.to_thread(scene.postgres.stop)
    else:
        scene.postgres.freeze()
    await asyncio.sleep(OUTAGE_SECONDS)
    if how == "stopped":
        await asyncio.to_thread(scene.postgres.start)
    else:
        scene.postgres.thaw()
    record.restored_at = time.monotonic()
    while time.monotonic() - record.restored_at < GIVE_UP_AFTER:
        fresh = [w for w in record.writes if w.started > record.restored_at and w.status == 201]
        if fresh:
            record.recovered_at = min(w.started + w.seconds for w in fresh)
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*tasks)
    return record


def unavailable(outcome: Outcome) -> bool:
    return outcome.status == 503 and "retry-after" in outcome.headers


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_database_outage_is_503_then_recovers_and_loses_nothing(scene: Scene, how: str) -> None:
    live_path = scene.server.profile.live_path

    async def run() -> tuple[Record, load.Poller]:
        async with load.Poller(scene.server.base_url, live_path) as live:
            record = await exercise(scene, how)
        return record, live

    record, live = asyncio.run(asyncio.wait_for(run(), 120 + OUTAGE_SECONDS))
    t0, t1 = record.outage_at, record.restored_at
    during = [o for o in record.writes + record.probes if t0 <= o.started < t1]
    first_503 = min((o.started + o.seconds - t0 for o in during if unavailable(o)), default=None)
    others = [o for o in during if not unavailable(o) and o.status not in (200, 201, 404)]
    acknowledged = [o.body["id"] for o in record.writes if o.status == 201]
    stored = scene.database.rows(scene.resource.table, acknowledged)
    lost = sorted(set(acknowledged) - set(stored))

    problems = []
    if first_503 is None or first_503 > UNAVAILABLE_WITHIN:
        seen = "never" if first_503 is None else f"after {first_503:.1f} s"
        problems.append(f"503 with Retry-After {seen} (wanted within {UNAVAILABLE_WITHIN:g} s)")
    if others:
        routes = ", ".join(sorted({o.call.method for o in others}))
        problems.append(
            f"during the outage {len(others)} answers ({routes}) were not 503 + Retry-After: "
            f"{load.tally(others)}"
        )
    if live.failures():
        problems.append(
            f"{live_path} failed {len(live.failures())} of {len(live.outcomes)} probes "
            f"({load.tally(live.failures())}), slowest {live.slowest():.1f} s"
        )
    if record.recovered_at is None:
        problems.append(f"no create succeeded within {GIVE_UP_AFTER:g} s of the database's return")
    elif record.recovered_at - t1 > RECOVERED_WITHIN:
        problems.append(f"recovered {record.recovered_at - t1:.1f} s after the database returned")
    if not scene.server.running():
        problems.append("the service process exited")
    if lost:
        problems.append(f"{len(lost)} of {len(acknowledged)} acknowledged writes are not stored")
    summary = (
        f"database {how} for {OUTAGE_SECONDS:g} s under {WRITERS} writers: "
        f"answers during it {load.tally(during)} "
        f"(slowest {max((o.seconds for o in during), default=0):.1f} s), "
        f"{len(acknowledged)} writes acknowledged, "
        + (
            "no recovery"
            if record.recovered_at is None
            else f"recovered {record.recovered_at - t1:.1f} s after"
        )
    )
    assert not problems, summary + ":\n  " + "\n  ".join(problems)
