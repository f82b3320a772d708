"""The image export's smoke test: run one built image and judge it as its profile says.

An HTTP service: GET on its live path answers 200 from the host, then the image's own HEALTHCHECK
passes, and a malformed JSON body POSTed to its API answers a 4xx with the shared error body
(`{"error": {"code", "message", "details"}}`, never a 500 or a framework's HTML page). A Lambda,
which serves no HTTP of its own: its image runs the runtime interface emulator, so the sample event
POSTed to the emulator's invocation URL must answer 200 with JSON that is not an error. Both must
run as a non-root user (`id -u`: 0 fails); the container is always removed."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .engine import Engine, engine_health
from .image_build import BUILD_HINTS, PODMAN_UNSET, ServiceResult, Tools, last_line, say
from .process import Runner
from .services import Profile
from .text import seconds

HEALTH_TIMEOUT = 90.0  # docker runs the first HEALTHCHECK only after its interval
INVOKE_PATH = "/2015-03-31/functions/function/invocations"  # the runtime interface emulator's
MALFORMED_BODY = b'{"email": '  # JSON cut short: every framework must answer it with its error body


@dataclass(frozen=True)
class Smoke:
    """What one smoke test runs: the image, the port it listens on, how to judge it."""

    tag: str
    port: int
    profile: Profile
    event: bytes = b""  # a Lambda's sample event


def smoke_test(engine: Engine, tools: Tools, smoke: Smoke, result: ServiceResult) -> None:
    """Run the image, judge its health (or its function's answer) and user; always remove the container."""
    name = f"workbook-export-{result.service}-{os.getpid()}"  # two runs at once never collide
    host_port = tools.free_port()
    base, profile = f"http://127.0.0.1:{host_port}", smoke.profile
    waits = (
        f"invoking the function with {profile.sample_event or 'the event {}'}"
        if profile.is_lambda
        else f"waiting for GET {profile.live_path} and the HEALTHCHECK"
        + (f", then POST {profile.api_path} with malformed JSON" if profile.api_path else "")
    )
    say(f"    running on 127.0.0.1:{host_port} -> {smoke.port}, {waits}")
    try:
        # A container of that name may survive a run that was killed (pids repeat in a new sandbox).
        tools.run(engine.remove(name), timeout=60)
        started = tools.run(engine.run(name, smoke.tag, host_port, smoke.port), timeout=120)
        if not started.ok:
            result.health = "no start"
            result.problems.append("container did not start: " + last_line(started.output))
            if PODMAN_UNSET.search(started.output):
                say(f"    hint: {BUILD_HINTS[1][1]}")
            return
        if profile.is_lambda:
            result.health, problem = wait_for_invocation(engine, tools, name, base + INVOKE_PATH, smoke.event)
        else:
            result.health, problem = wait_for_health(engine, tools, name, base, profile.live_path)
            if not problem and profile.api_path:
                result.errors, problem = malformed_request(tools, base + profile.api_path)
        if problem:
            result.problems.append(problem)
        result.uid = container_uid(engine, tools.run, name)
        if result.uid == "0":
            result.problems.append("runs as root (uid 0): add a numeric non-root USER to the Dockerfile")
        elif not result.uid.isdigit():
            result.problems.append("could not read the container's user (id -u)")
        if result.problems:
            logs = tools.run(engine.logs(name), timeout=60).output.strip().splitlines()
            say("\n".join(f"    log | {line}" for line in logs[-20:]))
        size = "?" if result.size_mb is None else f"{result.size_mb:.1f}"
        say(f"    health {result.health}, uid {result.uid}, size {size} MB")
    finally:
        removed = tools.run(engine.remove(name), timeout=60)
        say(
            "    container removed"
            if removed.ok
            else f"    could not remove {name}: {last_line(removed.output)}"
        )


def wait_for_health(engine: Engine, tools: Tools, name: str, base: str, path: str) -> tuple[str, str]:
    """(health column, problem or ""): GET `path` from the host first, then the image's HEALTHCHECK."""
    deadline = tools.clock() + HEALTH_TIMEOUT
    status = tools.http_get(base + path)
    while status != 200:
        if not is_running(engine, tools, name):
            return "exited", f"the container exited before {path} answered"
        if tools.clock() >= deadline:
            seen = f"http {status}" if status else "no answer"
            return seen, f"GET {path} gave {seen} for {seconds(HEALTH_TIMEOUT)}"
        tools.sleep(1.0)
        status = tools.http_get(base + path)
    failures = 0
    while True:
        state = engine_health(engine, tools.run, name)
        if state == "healthy":
            return "ok", ""
        if state == "none":
            return "no check", "the image has no HEALTHCHECK: add one to the Dockerfile"
        failures += state == "unhealthy"
        if failures >= 3 or tools.clock() >= deadline:
            return "unhealthy", f"{path} answers but the image's HEALTHCHECK fails"
        tools.sleep(1.0)


def malformed_request(tools: Tools, url: str) -> tuple[str, str]:
    """(errors column, problem or ""): JSON cut short, POSTed as JSON, answers a 4xx whose body is
    the shared error body. A 5xx, an HTML page or another shape is what a framework does unless
    the service's error handlers say otherwise."""
    path = "/" + url.split("/", 3)[-1]
    status, body = tools.http_post(url, MALFORMED_BODY)
    if status is None:
        return "no answer", f"POST {path} with malformed JSON got no answer"
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    error = answer.get("error") if isinstance(answer, dict) else None
    if not 400 <= status < 500:
        return f"http {status}", f"malformed JSON to {path}: http {status}, expected a 4xx"
    if not (isinstance(error, dict) and set(answer) == {"error"} and error_shaped(error)):
        shape = '{"error": {"code", "message", "details"}}'
        return f"http {status}", f"malformed JSON to {path}: {last_line(body)[:80]!r} is not {shape}"
    return f"{status} {error['code']}", ""


def error_shaped(error: dict[str, object]) -> bool:
    return (
        isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("details"), list)
    )


def wait_for_invocation(engine: Engine, tools: Tools, name: str, url: str, event: bytes) -> tuple[str, str]:
    """(health column, problem or ""): the emulator answers the event with the function's JSON result.

    The emulator says 200 even when the function raised: the error is the body's `errorType`."""
    deadline = tools.clock() + HEALTH_TIMEOUT
    status, body = tools.http_post(url, event)
    while status is None:
        if not is_running(engine, tools, name):
            return "exited", "the container exited before the function answered"
        if tools.clock() >= deadline:
            return "no answer", f"POST {INVOKE_PATH} gave no answer for {seconds(HEALTH_TIMEOUT)}"
        tools.sleep(1.0)
        status, body = tools.http_post(url, event)
    if status != 200:
        return f"http {status}", f"the invocation answered http {status}: {last_line(body)}"
    try:
        answer = json.loads(body)
    except ValueError:
        return "not JSON", f"the function answered {last_line(body)[:60]!r}, not JSON"
    if isinstance(answer, dict) and "errorType" in answer:
        message = str(answer.get("errorMessage", ""))[:120]
        return "error", f"the function raised {answer['errorType']}: {message}"
    return "ok", ""


def is_running(engine: Engine, tools: Tools, name: str) -> bool:
    return tools.run(engine.running(name), timeout=60).stdout.strip() == "true"


def container_uid(engine: Engine, run: Runner, name: str) -> str:
    for command in (("id", "-u"), ("python", "-c", "import os; print(os.getuid())")):
        done = run(engine.exec(name, *command), timeout=60)
        if done.ok and done.stdout.strip().isdigit():
            return done.stdout.strip()
    return "?"
