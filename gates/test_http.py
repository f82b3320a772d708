"""HTTP gates: what every answer carries, whatever the route. A request id to correlate with the
logs, security headers, a complete Allow header on 405, no client-supplied Host reflected into
Location, ids never reused, and a log that is JSON from its first line to its last, each line of it
written once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from conftest import Target
from harness import load
from harness.load import Call, Outcome

pytestmark = pytest.mark.http

SECURITY_HEADERS = {"x-content-type-options": "nosniff"}


def send(target: Target, *calls: Call) -> list[Outcome]:
    return asyncio.run(asyncio.wait_for(load.run(target.base_url, list(calls), 1, timeout=30), 60))


def test_a_request_id_is_honoured_and_returned(target: Target) -> None:
    resource = target.need_resource()
    mine, theirs = send(
        target,
        Call("GET", resource.collection, headers={"X-Request-ID": "gates-4f2a"}),
        Call("GET", resource.item(0)),
    )
    assert mine.headers.get("x-request-id") == "gates-4f2a", f"answer headers: {sorted(mine.headers)}"
    assert theirs.headers.get("x-request-id"), "an answer to a request without an id carries none"


def test_every_answer_carries_the_security_headers(target: Target) -> None:
    resource = target.need_resource()
    for outcome in send(target, Call("GET", resource.collection), Call("GET", resource.item(0))):
        missing = {k: v for k, v in SECURITY_HEADERS.items() if outcome.headers.get(k) != v}
        assert not missing, f"{outcome.call.method} {outcome.call.path} ({outcome.label}) lacks {missing}"


def test_405_lists_every_allowed_method(target: Target) -> None:
    resource = target.need_resource()
    [outcome] = send(target, Call("PATCH", resource.collection, resource.patch))
    allowed = {m.strip() for m in outcome.headers.get("allow", "").split(",") if m.strip()}
    assert outcome.status == 405 and {"GET", "POST"} <= allowed, f"{outcome.label}, Allow: {allowed}"


def test_a_client_supplied_host_is_not_reflected_into_location(target: Target) -> None:
    resource = target.need_resource()
    [outcome] = send(
        target, Call("POST", resource.collection, resource.create(1), headers={"Host": "evil.example"})
    )
    location = outcome.headers.get("location", "")
    assert "evil.example" not in location, f"{outcome.label}: Location {location}"


def test_a_deleted_id_is_never_given_again(target: Target) -> None:
    resource = target.need_resource()
    [first] = send(target, Call("POST", resource.collection, resource.create(2)))
    send(target, Call("DELETE", resource.item(first.body["id"])))
    [second] = send(target, Call("POST", resource.collection, resource.create(3)))
    assert second.body["id"] > first.body["id"], f"id {first.body['id']} deleted, then given again"


def test_the_log_is_json_from_first_line_to_last(target: Target) -> None:
    resource = target.need_resource()
    send(target, Call("GET", resource.collection), Call("GET", resource.item(2**70)))
    lines = [line for line in target.server.log_tail(10_000).splitlines() if line.strip()]
    plain = []
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            plain.append(line)
    assert not plain, f"{len(plain)} of {len(lines)} log lines are not JSON, e.g.:\n" + "\n".join(plain[:5])


def test_no_log_line_is_written_twice(target: Target) -> None:
    resource = target.need_resource()
    send(target, Call("GET", resource.collection), Call("GET", resource.item(2**70)))
    lines = [line for line in target.server.log_tail(10_000).splitlines() if line.strip()]
    repeated = [line for line, count in Counter(lines).items() if count > 1]
    assert not repeated, f"{len(repeated)} log lines are written more than once, e.g.:\n" + "\n".join(
        repeated[:3]
    )
