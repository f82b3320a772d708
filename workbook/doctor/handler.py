"""A Lambda's handler, as its profile names it: the function exists, takes (event, context), and the
sample event its smoke test sends is a JSON object. HTTP services have no handler: they say nothing."""

from __future__ import annotations

import json
from pathlib import Path

from ..services import Profile, profile_for
from .base import Context, Finding, Job, first_error_line, per_service

PROBE_SECONDS = 60
# Run in the service folder, as awslambdaric runs it: prints what it found as one JSON line.
HANDLER_PROBE = """
import importlib, inspect, json, os, sys
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
sys.path.insert(0, os.getcwd())
module, _, function = sys.argv[1].rpartition(".")
try:
    handler = getattr(importlib.import_module(module), function)
    found = {"callable": callable(handler)}
    if callable(handler):
        inspect.signature(handler).bind(object(), object())
except TypeError:
    found = {"problem": "it does not take two arguments (event, context)"}
except BaseException as error:
    found = {"problem": (type(error).__name__ + ": " + str(error)).splitlines()[0]}
print(json.dumps(found))
"""


def jobs(ctx: Context) -> list[Job]:
    return per_service(
        ctx, "handler", has_handler_module, "with its handler's module", check_handler, ("lambda",)
    )


def handler_file(profile: Profile) -> str:
    """The file of the handler's module: `src.lambda_function.lambda_handler` -> src/lambda_function.py."""
    return profile.handler.rpartition(".")[0].replace(".", "/") + ".py"


def has_handler_module(folder: Path, profile: Profile) -> bool:
    return bool(profile.handler) and (folder / handler_file(profile)).is_file()


def check_handler(ctx: Context, service: Path) -> Finding:
    profile = profile_for(service)
    name = f"handler: {service.name}"
    fix = f"define `def {profile.handler.rpartition('.')[2]}(event, context):` in {handler_file(profile)}"
    outcome = ctx.command(
        [ctx.python, "-c", HANDLER_PROBE, profile.handler], PROBE_SECONDS, service, ctx.python_env()
    )
    try:
        found = json.loads(outcome.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return Finding(name, "fail", f"the handler probe failed: {first_error_line(outcome)}", fix)
    if "problem" in found or not found.get("callable"):
        return Finding(name, "fail", f"{profile.handler}: {found.get('problem', 'is not a function')}", fix)
    event = service / profile.sample_event if profile.sample_event else None
    problem = event_problem(event) if event is not None and event.is_file() else ""
    if problem:
        fix = 'write the event as a JSON object, as AWS sends it: {"Records": [...]}'
        return Finding(name, "fail", f"{profile.sample_event} is not a JSON object: {problem}", fix)
    return Finding(name, "ok", f"{profile.handler} takes (event, context)")


def event_problem(event: Path) -> str:
    try:
        parsed = json.loads(event.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return f"it does not parse ({error})"
    return "" if isinstance(parsed, dict) else f"it holds a JSON {type(parsed).__name__}"
