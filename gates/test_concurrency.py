"""Concurrency gates: racing writes never tear or answer 5xx, and many requests in flight are all
served and all stored. Bounded in count and time, loopback only, a hard timeout per test."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Awaitable, TypeVar

import pytest
from conftest import Target
from harness import load
from harness.load import Call, Outcome

pytestmark = pytest.mark.concurrency

T = TypeVar("T")
CREATES = 1000
IN_FLIGHT = int(os.environ.get("GATES_IN_FLIGHT", "64"))  # the gate is 64; lower to find the edge
TRIALS = 100
RACE_TRIALS = 50
OK_AFTER_RACE = {200, 204, 404, 409, 412}


def within(seconds: float, work: Awaitable[T]) -> T:
    """Run `work` to completion or fail the test after `seconds`: a hung service is a failure."""

    async def bounded() -> T:
        return await asyncio.wait_for(work, seconds)

    try:
        return asyncio.run(bounded())
    except asyncio.TimeoutError:
        pytest.fail(f"did not finish within {seconds:g} s (the service hung)")


def pick(body: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: body.get(name) for name in fields} if isinstance(body, dict) else {}


async def create_one(target: Target, body: dict[str, Any]) -> Any:
    resource = target.need_resource()
    [created] = await load.run(target.base_url, [Call("POST", resource.collection, body)], 1)
    assert created.status == 201, f"setup: creating {body} answered {created.label}: {created.body}"
    return created.body["id"]


def test_concurrent_puts_never_tear(target: Target) -> None:
    resource = target.need_resource()
    sent = [pick(resource.replace_a, resource.compared), pick(resource.replace_b, resource.compared)]

    async def trials() -> tuple[int, list[str]]:
        torn, errors = 0, []
        async with load.client(target.base_url, 4, 30) as session:
            for _ in range(TRIALS):
                ident = await create_one(target, resource.initial)
                path = resource.item(ident)
                answers = await asyncio.gather(
                    load.send(session, Call("PUT", path, resource.replace_a)),
                    load.send(session, Call("PUT", path, resource.replace_b)),
                )
                errors += [a.label for a in answers if a.status is None or a.status >= 500]
                stored = await load.send(session, Call("GET", path))
                if pick(stored.body, resource.compared) not in sent:
                    torn += 1
        return torn, errors

    torn, errors = within(180, trials())
    assert not errors, f"racing PUTs answered {errors}"
    assert torn == 0, f"{torn} of {TRIALS} pairs of concurrent PUTs stored a row neither client sent"


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_delete_racing_an_update_never_answers_5xx(target: Target, method: str) -> None:
    resource = target.need_resource()
    body = resource.patch if method == "PATCH" else resource.replace_a

    async def races() -> list[Outcome]:
        seen: list[Outcome] = []
        async with load.client(target.base_url, 4, 30) as session:
            for _ in range(RACE_TRIALS):
                path = resource.item(await create_one(target, resource.initial))
                seen += await asyncio.gather(
                    load.send(session, Call("DELETE", path)), load.send(session, Call(method, path, body))
                )
        return seen

    outcomes = within(120, races())
    wrong = [o for o in outcomes if o.status not in OK_AFTER_RACE]
    assert not wrong, (
        f"{len(wrong)} of {len(outcomes)} answers in {RACE_TRIALS} DELETE-vs-{method} races were not "
        f"204/200/404/409/412: {load.tally(wrong)}; e.g. {wrong[0].call.method} {wrong[0].body}"
    )


def test_creates_in_flight_are_all_served_and_stored(target: Target) -> None:
    resource = target.need_resource()
    before = target.database.count(resource.table)

    async def burst() -> tuple[list[Outcome], load.Poller]:
        calls = [Call("POST", resource.collection, resource.create(n)) for n in range(CREATES)]
        async with load.Poller(target.base_url, target.profile.live_path) as live:
            outcomes = await load.run(target.base_url, calls, IN_FLIGHT, timeout=60)
        return outcomes, live

    outcomes, live = within(240, burst())
    stored = target.database.count(resource.table) - before
    tally = load.tally(outcomes)
    problems = []
    if tally != {"201": CREATES} or stored != CREATES:
        slow = max(o.seconds for o in outcomes)
        problems.append(f"answers {tally}, {stored} rows stored, slowest {slow:.1f} s")
    if live.failures():
        problems.append(
            f"{target.profile.live_path} failed {len(live.failures())} of {len(live.outcomes)} probes "
            f"({load.tally(live.failures())}), slowest {live.slowest():.1f} s"
        )
    assert not problems, f"{CREATES} creates at {IN_FLIGHT} in flight: " + "; ".join(problems)
