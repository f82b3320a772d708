"""A small asyncio + httpx load generator: many requests in flight over keep-alive connections,
every answer recorded (status, headers, body, timing), transport errors kept, never raised.

The gates need per-request outcomes (which writes were acknowledged, which answered 5xx), not
only a throughput figure; the bench measures throughput with wrk instead."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

import httpx


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    call: Call
    started: float  # time.monotonic()
    seconds: float
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def label(self) -> str:
        return str(self.status) if self.status is not None else self.error


def client(base_url: str, connections: int, timeout: float) -> httpx.AsyncClient:
    # A server closes a connection idle past its keep-alive timeout (uvicorn 5 s, gunicorn 2 s);
    # a client that keeps it as long may send on it as it closes and read nothing back. Clients
    # and proxies let idle connections go first: 1 s, below both.
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1.0
    )
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout)


async def send(session: httpx.AsyncClient, call: Call) -> Outcome:
    started = time.monotonic()
    try:
        answer = await session.request(call.method, call.path, json=call.json, headers=call.headers)
    except httpx.TimeoutException:
        return Outcome(call, started, time.monotonic() - started, None, "timeout")
    except httpx.HTTPError as error:
        return Outcome(call, started, time.monotonic() - started, None, type(error).__name__)
    try:
        body = answer.json() if answer.content else None
    except ValueError:
        body = answer.text
    return Outcome(
        call, started, time.monotonic() - started, answer.status_code, "", dict(answer.headers), body
    )


async def run(base_url: str, calls: Iterable[Call], in_flight: int, timeout: float = 60.0) -> list[Outcome]:
    """Send `calls` with at most `in_flight` outstanding; outcomes in the order of `calls`."""
    pending = list(calls)
    outcomes: list[Outcome | None] = [None] * len(pending)
    cursor = iter(range(len(pending)))
    async with client(base_url, in_flight, timeout) as session:

        async def worker() -> None:
            for index in cursor:
                outcomes[index] = await send(session, pending[index])

        await asyncio.gather(*(worker() for _ in range(min(in_flight, len(pending)) or 1)))
    return [outcome for outcome in outcomes if outcome is not None]


def tally(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How many answered each status (or failed each way), e.g. {'201': 936, 'timeout': 64}."""
    return dict(sorted(Counter(outcome.label for outcome in outcomes).items()))


@dataclass
class Poller:
    """Requests one path every `interval` seconds until stopped, on its own connection, so a
    liveness probe is measured the way an orchestrator sends it: alone, with a short timeout."""

    base_url: str
    path: str
    interval: float = 0.1
    timeout: float = 1.0
    outcomes: list[Outcome] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _loop(self) -> None:
        async with client(self.base_url, 1, self.timeout) as session:
            while not self._stop.is_set():
                self.outcomes.append(await send(session, Call("GET", self.path)))
                try:
                    await asyncio.wait_for(self._stop.wait(), self.interval)
                except asyncio.TimeoutError:
                    pass

    async def __aenter__(self) -> Poller:
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    def failures(self, ok: int = 200) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status != ok]

    def slowest(self) -> float:
        return max((outcome.seconds for outcome in self.outcomes), default=0.0)
