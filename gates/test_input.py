"""Hostile-input gates: input the schema allows, or a client can send, never answers 5xx.
Ids and offsets past what the database stores, a NUL character (PostgreSQL text cannot hold
one) are 422; a body past the service's limit is 413 without being read whole."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time

import psutil
import pytest
from conftest import Target
from harness import load
from harness.load import Call

pytestmark = pytest.mark.input

BIG_BODY_MB = 50
MEMORY_BUDGET_MB = 64  # what a 50 MB body may add to the server's resident memory at most


def answers(target: Target, calls: list[Call]) -> list[load.Outcome]:
    return asyncio.run(asyncio.wait_for(load.run(target.base_url, calls, 1, timeout=30), 120))


@pytest.mark.parametrize("bits", [31, 32, 63, 64, 100])
def test_ids_past_what_the_database_stores_are_422(target: Target, bits: int) -> None:
    resource = target.need_resource()
    path = resource.item(2**bits)
    calls = [
        Call("GET", path),
        Call("PUT", path, resource.replace_a),
        Call("PATCH", path, resource.patch),
        Call("DELETE", path),
    ]
    got = {f"{o.call.method}": o.label for o in answers(target, calls)}
    # No row has such an id: 404 says so, 422 says the id is out of the schema's bounds.
    assert set(got.values()) <= {"404", "422"}, f"id 2^{bits}: {got} (wanted 404 or 422)"


@pytest.mark.parametrize("bits", [31, 62, 63, 64])
def test_offsets_past_what_the_database_takes_are_422_or_an_empty_page(target: Target, bits: int) -> None:
    resource = target.need_resource()
    [outcome] = answers(target, [Call("GET", f"{resource.collection}?offset={2**bits}")])
    assert outcome.status in (200, 422), f"offset=2^{bits}: {outcome.label} {outcome.body}"


def test_a_nul_character_in_a_string_is_422_or_stored(target: Target) -> None:
    resource = target.need_resource()
    body = resource.create(0)
    text_field = next(name for name, value in body.items() if isinstance(value, str))
    body[text_field] = "before\u0000after"
    [outcome] = answers(target, [Call("POST", resource.collection, body)])
    assert outcome.status in (201, 422), f"a NUL in {text_field}: {outcome.label} {outcome.body}"


def test_a_body_past_the_limit_is_413_without_being_read_whole(target: Target) -> None:
    resource = target.need_resource()
    server = psutil.Process(target.server.pid)
    baseline = server.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], server.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    filler = "x" * (BIG_BODY_MB * 1024 * 1024)
    payload = ('{"title": "big", "description": "' + filler + '"}').encode()
    connection = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=60)
    started = time.monotonic()
    try:
        connection.request("POST", resource.collection, payload, {"Content-Type": "application/json"})
        status = connection.getresponse().status
    except (ConnectionError, http.client.HTTPException) as error:
        status = -1  # the server may close the connection once it has answered 413
        reason = type(error).__name__
    else:
        reason = str(status)
    finally:
        connection.close()
        seconds = time.monotonic() - started
        time.sleep(0.2)
        done.set()
        watcher.join()
    grown = (peak[0] - baseline) / 2**20
    assert status == 413 and grown <= MEMORY_BUDGET_MB, (
        f"a {BIG_BODY_MB} MB body answered {reason} after {seconds:.1f} s; the server's memory "
        f"grew {grown:.0f} MiB (from {baseline / 2**20:.0f} MiB)"
    )
