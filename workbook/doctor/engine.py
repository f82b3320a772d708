"""A container engine that answers (`docker info`), not just a client binary; else podman."""

from __future__ import annotations

from pathlib import Path

from .base import Context, Finding, Job, first_error_line

ENGINE_FIX = (
    "start Docker Desktop (or the docker service: `sudo systemctl start docker`), or use podman on Linux"
)


def jobs(ctx: Context) -> list[Job]:
    return [("container engine", lambda: check_engine(ctx))]


def check_engine(ctx: Context) -> list[Finding]:
    name = "container engine"
    docker, podman = ctx.which("docker"), ctx.which("podman")
    if not docker and not podman:
        fix = "install Docker Desktop (macOS, Windows, Linux), or podman on Linux (`apt-get install podman`)"
        return [Finding(name, "fail", "neither docker nor podman is installed", fix)]
    notes: list[str] = []
    for tool, template, seconds in ((docker, "{{.ServerVersion}}", 10), (podman, "{{.Version.Version}}", 20)):
        if tool:
            outcome = ctx.command([tool, "info", "--format", template], seconds)
            engine = Path(tool).name
            if outcome.ok and outcome.stdout.strip():
                return [
                    Finding(name, "ok", "; ".join([*notes, f"{engine} {outcome.stdout.strip()} answers"]))
                ]
            notes.append(f"{engine}: no engine answers ({first_error_line(outcome)})")
    return [Finding(name, "fail", "; ".join(notes), ENGINE_FIX)]
