"""The image export's shared parts and its build step: the tools it drives (replaceable in tests),
one service's result, and `build_image`, which builds with the engine and explains a failure.

Behind a TLS-intercepting proxy pip fails inside the build with CERTIFICATE_VERIFY_FAILED. podman
then rebuilds with the host's CA bundle mounted read-only over the image's (for the rest of the run).
Not always: that mount makes any RUN step that rewrites the bundle fail (`apt-get install` of a
package that triggers update-ca-certificates: "Device or resource busy"), and machines that do not
need it should build exactly what the Dockerfile says. It is a build-time mount: no image keeps it."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import loopback, process
from .engine import Engine, Which, host_ca_bundle
from .process import Completed, Runner

BUILD_TIMEOUT = 1800.0
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
    errors: str = "-"  # what a malformed JSON body got: "400 bad_request", else what came back

    @property
    def passed(self) -> bool:
        return self.built and not self.problems


def say(line: str) -> None:
    print(line, flush=True)


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


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:160] if lines else "no output"
