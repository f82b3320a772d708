"""Checkpoint `environment` (notebook 00): the learner's machine is ready, and the first
exercise (a Pydantic validator and a FastAPI dependency in `playground/`) is solved."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

import pytest
from packaging.version import Version

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

# import name -> (distribution, lowest version, first version that is too new)
PACKAGES: dict[str, tuple[str, str, str | None]] = {
    "fastapi": ("fastapi", "0.115", None),
    "sqlalchemy": ("sqlalchemy", "2.0", "3"),
    "pydantic": ("pydantic", "2.7", "3"),
    "pydantic_settings": ("pydantic-settings", "2.3", "3"),
    "flask": ("flask", "3.0", None),
    "jwt": ("pyjwt", "2.8", "3"),
    "bcrypt": ("bcrypt", "4.1", None),
    "opentelemetry.sdk.trace": ("opentelemetry-sdk", "1.25", "2"),
}

LoadService = Callable[[str, str], ModuleType]


def test_python_version() -> None:
    """Python is 3.11 or newer"""
    assert sys.version_info >= (3, 11), f"this kernel runs Python {sys.version.split()[0]}"


def test_key_packages() -> None:
    """the key packages import at compatible versions"""
    problems = []
    for module, (distribution, lowest, too_new) in PACKAGES.items():
        try:
            importlib.import_module(module)
            version = Version(importlib.metadata.version(distribution))
        except (ImportError, importlib.metadata.PackageNotFoundError) as error:
            problems.append(f"{module}: {error}")
            continue
        if version < Version(lowest) or (too_new is not None and version >= Version(too_new)):
            wanted = f">={lowest}" + (f",<{too_new}" if too_new else "")
            problems.append(f"{distribution} {version} (the workbook needs {wanted})")
    assert not problems, "; ".join(problems)


def test_services_root_writable(services: Path) -> None:
    """the services folder exists and is writable"""
    assert services.is_dir(), f"{services} is missing"
    probe = services / f".write-probe-{uuid.uuid4().hex}"
    try:
        probe.write_text("ok\n", encoding="utf-8")
        assert probe.read_text(encoding="utf-8") == "ok\n"
    finally:
        probe.unlink(missing_ok=True)


def test_service_magic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """%%service writes a file atomically and prints one line"""
    from IPython.core.interactiveshell import InteractiveShell

    root = tmp_path / "services"
    monkeypatch.setenv("WORKBOOK_SERVICES_DIR", str(root))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "workbook")

    first = shell.run_cell("%%service probe pkg/probe.py\nVALUE = 1\n")
    assert first.success, first.error_in_exec or first.error_before_exec
    target = root / "probe" / "pkg" / "probe.py"
    assert target.read_text(encoding="utf-8") == "VALUE = 1\n"
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"wrote probe/pkg/probe\.py \(1 lines?\)", line), f"printed {line!r}"

    # Atomic: the rewrite replaces the file, so a reader holding the old one never sees half of the new.
    with target.open(encoding="utf-8") as reader:
        second = shell.run_cell(
            "%%service probe pkg/probe.py\nVALUE = 2\n### BEGIN SOLUTION\nSECRET = 3\n### END SOLUTION\n"
        )
        assert second.success, second.error_in_exec or second.error_before_exec
        assert reader.read() == "VALUE = 1\n", "the file was rewritten in place, not replaced"
    assert target.read_text(encoding="utf-8") == "VALUE = 2\nSECRET = 3\n"
    assert capsys.readouterr().out.count("\n") == 1, "the magic must print exactly one line"
    leftovers = sorted(p.name for p in target.parent.iterdir() if p.name != "probe.py")
    assert not leftovers, f"temporary files left behind: {leftovers}"


def test_playground_written(load_service: LoadService) -> None:
    """playground/greeting.py and playground/app.py are written and import"""
    app = load_service("playground", "app")
    greeting = load_service("playground", "greeting")
    assert hasattr(greeting, "Greeting"), "greeting.py defines no Greeting model"
    assert callable(getattr(app, "get_salutation", None)), "app.py defines no get_salutation()"
    paths = app.app.openapi()["paths"]
    assert "post" in paths.get("/greetings", {}), f"no POST /greetings route; routes: {sorted(paths)}"


def test_names_are_trimmed(load_service: LoadService) -> None:
    """Greeting trims the spaces around a name"""
    greeting = load_service("playground", "greeting")
    assert greeting.Greeting(name="  Ada ").name == "Ada"
    assert greeting.Greeting(name="Grace Hopper").name == "Grace Hopper"


def test_blank_names_refused(load_service: LoadService) -> None:
    """Greeting refuses blank names with the message "name must not be blank" in a ValidationError"""
    from pydantic import ValidationError

    greeting = load_service("playground", "greeting")
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            greeting.Greeting(name=blank)
        problem = caught.value.errors()[0]
        assert problem["loc"] == ("name",)
        assert "name must not be blank" in problem["msg"], f"{blank!r} was refused with {problem['msg']!r}"


def _client(app: ModuleType) -> TestClient:
    from fastapi.testclient import TestClient

    return TestClient(app.app, raise_server_exceptions=False)


def test_salutation_follows_lang(load_service: LoadService) -> None:
    """get_salutation() picks the salutation for ?lang= (default en)"""
    app = load_service("playground", "app")
    assert app.get_salutation() == "Hello"
    assert app.get_salutation("fr") == "Bonjour"
    response = _client(app).post("/greetings?lang=de", json={"name": " Ada "})
    assert (response.status_code, response.json()) == (201, {"message": "Hallo, Ada!"})


def test_unknown_lang_is_400(load_service: LoadService) -> None:
    """an unknown ?lang= answers 400, not 500, and lists the known languages"""
    app = load_service("playground", "app")
    response = _client(app).post("/greetings?lang=xx", json={"name": "Ada"})
    assert response.status_code == 400, f"got {response.status_code}: {response.text[:200]}"
    detail = str(response.json().get("detail", ""))
    unnamed = [lang for lang in sorted(app.SALUTATIONS) if not re.search(rf"\b{lang}\b", detail)]
    assert not unnamed, f"the 400's detail {detail!r} does not list the known languages {unnamed}"
