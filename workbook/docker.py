"""`make docker`: build every service's image and smoke-test it.

For each folder of the services root that holds a Dockerfile: build the image, run it detached on a
free local port mapped to the port its final stage EXPOSEs (else its profile's port), and judge it as
its profile (`workbook.services`) says. An HTTP service: GET on its live path (task-service:
/health/live) answers 200 from the host, then the image's own HEALTHCHECK passes. A Lambda, which
serves no HTTP of its own: its image runs the runtime interface emulator, so the profile's sample
event POSTed to the emulator's invocation URL must answer 200 with JSON that is not an error. Both
must run as a non-root user (`id -u`: 0 fails); the image size is reported and the container always
removed. A table ends the run; the exit status is 0 only when every service passed.

Behind a TLS-intercepting proxy pip fails inside the build with CERTIFICATE_VERIFY_FAILED. podman
then rebuilds with the host's CA bundle mounted read-only over the image's (for the rest of the run).
Not always: that mount makes any RUN step that rewrites the bundle fail (`apt-get install` of a
package that triggers update-ca-certificates: "Device or resource busy"), and machines that do not
need it should build exactly what the Dockerfile says. It is a build-time mount: no image keeps it."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import dockerfile, loopback, process
from .cells import Write, all_events
from .engine import Engine, Which, detect_engine, engine_health, host_ca_bundle, no_engine_message
from .paths import services_root, solutions_dir
from .process import Completed, Runner
from .services import Profile, profile_for
from .text import plural, seconds, table
from .writer import write_all

BUILD_TIMEOUT = 1800.0
HEALTH_TIMEOUT = 90.0  # docker runs the first HEALTHCHECK only after its interval
INVOKE_PATH = "/2015-03-31/functions/function/invocations"  # the runtime interface emulator's
INVOKE_TIMEOUT = 60.0  # one invocation, cold start included
STEP_LINE = re.compile(r"^(\[\d+/\d+\] )?(STEP|Step) \d+/\d+ ?:|^#\d+ \[")
CERT_FAILURE = re.compile(
    r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|self.signed certificate", re.I
)
BASE_MISSING = re.compile(r"image not known|pull access denied|manifest unknown|repository does not exist")
PODMAN_UNSET = re.compile(r"crun:|RLIMIT_NOFILE|cgroups in hybrid mode")
BUILD_HINTS = (
    (
        BASE_MISSING,
        "a base image is missing: without a registry, scripts/base-image.sh makes python:3.11-slim",
    ),
    (PODMAN_UNSET, "podman is not set up for this machine: run scripts/podman-setup.sh"),
    (CERT_FAILURE, "pip cannot verify the package index: a proxy re-signs TLS here; add its CA to the image"),
)


@dataclass
class Tools:
    """Everything the export touches outside Python, so tests can replace it."""

    run: Runner = process.run
    which: Which = shutil.which
    http_get: Callable[[str], int | None] = loopback.http_status
    http_post: Callable[[str, bytes], tuple[int | None, str]] = field(
        default=lambda url, body: loopback.post_json(url, body, timeout=INVOKE_TIMEOUT)
    )
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    free_port: Callable[[], int] = loopback.free_port
    ca_bundle: Path | None = field(default_factory=host_ca_bundle)
    mount_ca: bool = False  # set once a build failed on certificates


@dataclass
class ServiceResult:
    service: str
    built: bool = False
    health: str = "-"
    uid: str = "-"
    size_mb: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.built and not self.problems


def export_images(reference: bool = False, tools: Tools | None = None) -> int:
    """Build and smoke-test every service's image; 0 when all passed, 1 when one failed, 2 when
    there is nothing to build or no engine."""
    tools = tools or Tools()
    with tempfile.TemporaryDirectory(prefix="workbook-docker-") as scratch:
        root = Path(scratch) if reference else services_root()
        if reference:
            lay_out_reference(root)
        folders = service_folders(root)
        if not folders:
            where = "no solution notebook writes" if reference else f"no service in {root} has"
            return refuse(f"{where} a Dockerfile yet: nothing to build")
        engine = detect_engine(tools.run, tools.which)
        if engine is None:
            return refuse(no_engine_message(tools.which))
        results = export_all(engine, tools, folders, "reference" if reference else "latest")
    print("\n" + render_table(results), flush=True)
    return 0 if all(result.passed for result in results) else 1


def export_all(engine: Engine, tools: Tools, folders: list[Path], tag: str) -> list[ServiceResult]:
    names = ", ".join(folder.name for folder in folders)
    say(f"building {plural(len(folders), 'image')} with {engine.name}: {names}")
    return [
        export_service(engine, tools, folder, f"{folder.name}:{tag}", f"[{n}/{len(folders)}]")
        for n, folder in enumerate(folders, 1)
    ]


def refuse(message: str) -> int:
    print(f"workbook docker: {message}", file=sys.stderr, flush=True)
    return 2


def say(line: str) -> None:
    print(line, flush=True)


def lay_out_reference(root: Path) -> list[Path]:
    """Every `%%service` cell of the solutions, in order, written under `root`."""
    return write_all([event for event in all_events(solutions_dir()) if isinstance(event, Write)], root)


def service_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if (path / "Dockerfile").is_file())


def export_service(engine: Engine, tools: Tools, folder: Path, tag: str, counter: str) -> ServiceResult:
    result = ServiceResult(folder.name)
    say(f"{counter} {folder.name}: building {tag}")
    started = tools.clock()
    if not build_image(engine, tools, folder, tag):
        result.problems.append("build failed")
        return result
    result.built = True
    say(f"    built in {seconds(tools.clock() - started)}")
    result.size_mb = image_size_mb(engine, tools.run, tag)
    profile = profile_for(folder)
    event, problem = sample_event(folder, profile) if profile.is_lambda else (b"", "")
    if problem:
        say(f"    not run: {problem}")
        result.problems.append(problem)
        return result
    port = dockerfile.read(folder / "Dockerfile").exposed_port or profile.port
    smoke_test(engine, tools, Smoke(tag, port, profile, event), result)
    return result


def sample_event(folder: Path, profile: Profile) -> tuple[bytes, str]:
    """(the event a Lambda is invoked with, or the problem that stops it); {} when its profile names
    none (a folder that is not one of the workbook's services)."""
    if not profile.sample_event:
        return b"{}", ""
    path = folder / profile.sample_event
    if not path.is_file():
        return b"", f"no {profile.sample_event} to invoke the function with: write a sample event there first"
    event = path.read_bytes()
    try:
        json.loads(event)
    except ValueError as error:
        return b"", f"{profile.sample_event} is not JSON ({error})"
    return event, ""


def build_image(engine: Engine, tools: Tools, folder: Path, tag: str) -> bool:
    done = _build(engine, tools, folder, tag)
    if not done.ok and engine.name == "podman" and not tools.mount_ca and tools.ca_bundle:
        if CERT_FAILURE.search(done.output):
            say(f"    certificates fail inside the build: retrying with the host CA bundle {tools.ca_bundle}")
            tools.mount_ca = True
            done = _build(engine, tools, folder, tag)
    if not done.ok:
        tail = done.output.strip().splitlines()[-15:]
        say("\n".join(f"    | {line}" for line in tail))
        for pattern, hint in BUILD_HINTS:
            if pattern.search(done.output):
                say(f"    hint: {hint}")
                break
    return done.ok


def _build(engine: Engine, tools: Tools, folder: Path, tag: str) -> Completed:
    ca = tools.ca_bundle if tools.mount_ca else None

    def show(line: str) -> None:
        if STEP_LINE.match(line):
            say(f"    {' '.join(line.split())[:100]}")

    return tools.run(engine.build(tag, folder, ca), timeout=BUILD_TIMEOUT, on_line=show)


def image_size_mb(engine: Engine, run: Runner, tag: str) -> float | None:
    """The image's size in MB of 10^6 bytes: the unit `docker images` and `podman images` print."""
    done = run(engine.size(tag), timeout=60)
    value = done.stdout.strip()
    return round(int(value) / 1_000_000, 1) if done.ok and value.isdigit() else None


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


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:160] if lines else "no output"


def render_table(results: list[ServiceResult]) -> str:
    header = ("service", "build", "health", "uid", "size MB", "result")
    rows = [
        (
            r.service,
            "ok" if r.built else "FAIL",
            r.health,
            r.uid,
            "-" if r.size_mb is None else f"{r.size_mb:.1f}",
            "pass" if r.passed else "FAIL: " + "; ".join(r.problems),
        )
        for r in results
    ]
    passed = sum(r.passed for r in results)
    summary = f"{passed} of {plural(len(results), 'image')} passed the smoke test."
    return table(header, rows, right=(3, 4)) + "\n\n" + summary
