"""`make docker`: build every service's image and smoke-test it.

For each folder of the services root that holds a Dockerfile: build the image (`image_build`), run
it detached on a free local port mapped to the port its final stage EXPOSEs (else its profile's
port), and judge it as its profile (`workbook.services`) says (`smoke`). The image size is reported;
a table ends the run; the exit status is 0 only when every service passed."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from . import dockerfile
from .cells import Write, all_events
from .engine import Engine, detect_engine, no_engine_message
from .image_build import ServiceResult, Tools, build_image, image_size_mb, say
from .paths import services_root, solutions_dir
from .services import Profile, profile_for
from .smoke import Smoke, smoke_test
from .text import plural, seconds, table
from .writer import write_all

__all__ = ["ServiceResult", "Tools", "export_images", "export_service", "image_size_mb", "render_table"]


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


def render_table(results: list[ServiceResult]) -> str:
    header = ("service", "build", "health", "bad JSON", "uid", "size MB", "result")
    rows = [
        (
            r.service,
            "ok" if r.built else "FAIL",
            r.health,
            r.errors,
            r.uid,
            "-" if r.size_mb is None else f"{r.size_mb:.1f}",
            "pass" if r.passed else "FAIL: " + "; ".join(r.problems),
        )
        for r in results
    ]
    passed = sum(r.passed for r in results)
    summary = f"{passed} of {plural(len(results), 'image')} passed the smoke test."
    return table(header, rows, right=(4, 5)) + "\n\n" + summary
