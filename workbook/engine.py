"""Container engines: which one answers on this machine, and the commands the export runs with it.

Docker is used when `docker info` answers; otherwise podman, built the way machines without a
Docker engine need (`--format docker` keeps HEALTHCHECK, `--pull=never` uses the local base image,
`--network=host` lets pip reach the package index). Every command goes through a `Runner`
(`process.run`, typed here), so the tests replace the engine with a fake."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .process import Runner

Which = Callable[[str], "str | None"]

INSTALL_HINT = (
    "install Docker (https://docs.docker.com/get-docker/) and start it, or podman "
    "(Debian/Ubuntu: `make system`, then scripts/podman-setup.sh and scripts/base-image.sh)"
)
# Where hosts keep their CA bundle; mounted where Debian's OpenSSL (and so pip) reads it.
CA_BUNDLES = (Path("/etc/ssl/certs/ca-certificates.crt"), Path("/etc/pki/tls/certs/ca-bundle.crt"))
CA_TARGET = "/etc/ssl/certs/ca-certificates.crt"


@dataclass(frozen=True)
class Engine:
    name: str  # "docker" or "podman"

    def build(self, tag: str, context: Path, ca_bundle: Path | None = None) -> list[str]:
        if self.name == "docker":
            return ["docker", "build", "-t", tag, str(context)]
        mount = ["-v", f"{ca_bundle}:{CA_TARGET}:ro"] if ca_bundle else []
        options = ["--format", "docker", "--pull=never", "--network=host"]
        return ["podman", "build", *options, *mount, "-t", tag, str(context)]

    def run(self, name: str, tag: str, host_port: int, container_port: int) -> list[str]:
        return [self.name, "run", "-d", "--name", name, "-p", f"127.0.0.1:{host_port}:{container_port}", tag]

    def health(self, name: str) -> list[str]:
        if self.name == "podman":  # no systemd here: podman never runs the check by itself
            return ["podman", "healthcheck", "run", name]
        template = "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"
        return ["docker", "inspect", "--format", template, name]

    def running(self, name: str) -> list[str]:
        return [self.name, "inspect", "--format", "{{.State.Running}}", name]

    def exec(self, name: str, *command: str) -> list[str]:
        return [self.name, "exec", name, *command]

    def logs(self, name: str) -> list[str]:
        return [self.name, "logs", "--tail", "20", name]

    def remove(self, name: str) -> list[str]:
        return [self.name, "rm", "-f", name]

    def size(self, tag: str) -> list[str]:
        return [self.name, "image", "inspect", "--format", "{{.Size}}", tag]


DOCKER = Engine("docker")
PODMAN = Engine("podman")


def detect_engine(run: Runner, which: Which) -> Engine | None:
    """Docker when its engine answers, else podman when installed, else None.

    A `docker` that is really podman's shim (podman-docker) counts as podman: it needs podman's flags."""
    if which("docker"):
        info = run(["docker", "info"], timeout=30)
        if info.ok:
            return PODMAN if "podman" in info.output.lower() else DOCKER
    return PODMAN if which("podman") else None


def no_engine_message(which: Which) -> str:
    if which("docker"):
        return f"docker is installed but its engine does not answer (`docker info` fails): {INSTALL_HINT}"
    return f"no container engine found: {INSTALL_HINT}"


def engine_health(engine: Engine, run: Runner, name: str) -> str:
    """The image's own HEALTHCHECK: healthy, unhealthy, starting or none (the image defines none)."""
    done = run(engine.health(name), timeout=60)
    if engine.name == "podman":
        if "no defined healthcheck" in done.output:
            return "none"
        return "healthy" if done.ok else "unhealthy"
    status = done.stdout.strip()
    return status if done.ok and status in ("healthy", "unhealthy", "starting", "none") else "unhealthy"


def host_ca_bundle(candidates: Sequence[Path] = CA_BUNDLES) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)
