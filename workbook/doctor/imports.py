"""Import every module under each service's src/ in one fresh interpreter started in the service
folder, as the service itself runs: each failure with its file and line (the checklist's
"ModuleNotFoundError" and circular-import issues)."""

from __future__ import annotations

import json
from pathlib import Path

from .base import Context, Finding, Job, first_error_line, holding, listed, per_service
from .init_files import package_folders

PROBE_SECONDS = 60
MARK = "@@workbook-doctor@@"
# stdin is /dev/null: a module that asks for input at import time fails at once, not at the timeout.
IMPORT_PROBE = """
import importlib, json, os, sys, traceback
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
here = os.getcwd()
sys.path.insert(0, here)

def where(error):
    if isinstance(error, SyntaxError) and (error.filename or "").startswith(here + os.sep):
        return "%s:%s " % (os.path.relpath(error.filename), error.lineno)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(here + os.sep)]
    return "%s:%s " % (os.path.relpath(frames[-1].filename), frames[-1].lineno) if frames else ""

for name in sys.argv[1:]:
    print("\\nMARK " + json.dumps({"begin": name}), flush=True)
    try:
        importlib.import_module(name)
    except BaseException as error:
        text = error.msg if isinstance(error, SyntaxError) else str(error)
        lines = (type(error).__name__ + ": " + text).strip().splitlines()
        print("\\nMARK " + json.dumps({"module": name, "error": where(error) + lines[0]}), flush=True)
""".replace("MARK", MARK)  # fmt: skip


def jobs(ctx: Context) -> list[Job]:
    return per_service(ctx, "imports", holding("src"), "with a src/ folder", check_imports)


def module_names(src: Path) -> list[str]:
    names = []
    for folder in package_folders(src):
        parts = folder.relative_to(src.parent).parts
        if all(part.isidentifier() for part in parts):
            stems = sorted(f.stem for f in folder.glob("*.py") if f.stem.isidentifier())
            names += [".".join(parts if stem == "__init__" else (*parts, stem)) for stem in stems]
    return names


def check_imports(ctx: Context, service: Path) -> Finding:
    name = f"imports: {service.name}"
    modules = module_names(service / "src")
    if not modules:
        return Finding(name, "skip", "no importable .py file under src/")
    outcome = ctx.command(
        [ctx.python, "-c", IMPORT_PROBE, *modules], PROBE_SECONDS, service, ctx.python_env()
    )
    events = [
        json.loads(line.split(MARK, 1)[1]) for line in outcome.stdout.splitlines() if f"{MARK} {{" in line
    ]
    started = [event["begin"] for event in events if "begin" in event]
    failures: dict[str, list[str]] = {}
    for event in events:
        if "error" in event:
            failures.setdefault(event["error"], []).append(event["module"])
    if outcome.timed_out and started:
        fix = "does it start a server or wait for input at import time? guard that with `if __name__ == ...`"
        return Finding(name, "fail", f"importing {started[-1]}: {first_error_line(outcome)}", fix)
    if not outcome.ok or len(started) != len(modules):
        culprit = f"importing {started[-1]} ended Python" if started else "the import probe failed"
        fix = f"run it yourself: `cd {service.name} && python -c 'import {(started or modules)[-1]}'`"
        return Finding(name, "fail", f"{culprit}: {first_error_line(outcome)}", fix)
    if not failures:
        return Finding(name, "ok", f"all {len(modules)} modules under src/ import")
    count = sum(len(mods) for mods in failures.values())
    groups = [f"{error} (in {', '.join(mods)})" for error, mods in failures.items()]
    fix = (
        "check the __init__.py files and that imports start with `src.`; run from the service folder"
        f" (`cd {service.name}`) or put it on PYTHONPATH"
    )
    if any("ModuleNotFoundError" in error and "'src" not in error for error in failures):
        fix += "\na third-party package is missing: `pip install -r requirements.txt` (and list it there)"
    return Finding(name, "fail", f"{count} of {len(modules)} modules fail to import: {listed(groups)}", fix)
