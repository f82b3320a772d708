"""The services the workbook teaches, and what kind each one is.

An HTTP service is built by an application factory from its settings, answers health checks and
runs in its image behind a HEALTHCHECK. A Lambda has no HTTP server: it is smoke-tested by invoking
its handler with a sample event through the runtime interface emulator. `make docker`, `make doctor`
and the checkpoints read a service's profile here instead of assuming FastAPI on `/health`.

A folder that is not one of the four (the playground of notebook 00, a learner's own experiment) gets
a profile inferred from its files: a SAM `template.yaml` makes it a Lambda, anything else is HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import UserError

Kind = Literal["http", "lambda"]


class UnknownService(UserError):
    """A service name the workbook does not teach."""


@dataclass(frozen=True)
class Profile:
    name: str
    kind: Kind
    framework: str  # "fastapi", "flask" or "lambda"; "unknown" for an inferred profile
    part: int  # the checklist's part that builds it (0: not one of the four)
    # HTTP services: `create_app(Settings(...))` in `app_module`, `Settings` in `settings_module`.
    app_module: str = "src.main"
    settings_module: str = "src.config.settings"
    live_path: str = "/health/live"  # never needs the database or a worker thread
    ready_path: str = "/health/ready"  # 503 while a dependency is down
    port: int = 8000  # the port the image listens on when its Dockerfile EXPOSEs none
    # The collection its API creates in: a malformed JSON body POSTed there must get the error body.
    api_path: str = ""
    # Lambdas: the handler awslambdaric runs, and the event a smoke test sends it.
    handler: str = ""
    sample_event: str = ""

    @property
    def is_http(self) -> bool:
        return self.kind == "http"

    @property
    def is_lambda(self) -> bool:
        return self.kind == "lambda"


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("task-service", "http", "fastapi", part=1, api_path="/api/v1/tasks"),
        Profile("user-service", "http", "flask", part=2, api_path="/api/v1/users"),
        Profile("auth-service", "http", "fastapi", part=3),
        Profile(
            "notification-service",
            "lambda",
            "lambda",
            part=4,
            handler="src.lambda_function.lambda_handler",
            sample_event="events/task-created.json",
            port=8080,
        ),
    )
}


def known() -> list[str]:
    return list(PROFILES)


def profile(name: str) -> Profile:
    """The profile of one of the services the workbook teaches."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownService(
            f"unknown service {name!r}: the workbook teaches {', '.join(PROFILES)}"
        ) from None


def profile_for(folder: Path) -> Profile:
    """A service folder's profile: its declared one when it is one of the four, else inferred."""
    if folder.name in PROFILES:
        return PROFILES[folder.name]
    if (folder / "template.yaml").is_file():
        return Profile(folder.name, "lambda", "lambda", part=0, handler="lambda_function.lambda_handler")
    return Profile(folder.name, "http", "unknown", part=0, live_path="/health", ready_path="/health")
