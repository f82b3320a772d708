"""What each HTTP service's main resource looks like to the gates: where its collection lives,
the table that stores it, and bodies for create, replace and patch.

The gates are the same for every service; only this description differs. A service without an
entry here is still fuzzed (schemathesis reads its OpenAPI document), but the concurrency and
outage gates need to know how to write to it and say so."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any, Callable

Body = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    collection: str
    table: str
    create: Callable[[int], Body]
    # Three states of one item for the torn-write gate: the stored one, and two replacements
    # that each share some fields with it, so an update writing only the fields that differ
    # from what it loaded leaves a mix of the two. Each is made afresh on every read: a service
    # whose items hold a unique field (a user's email) gets a body it has not stored yet.
    make_initial: Callable[[], Body]
    make_replace_a: Callable[[], Body]
    make_replace_b: Callable[[], Body]
    patch: Body
    compared: tuple[str, ...]

    @property
    def initial(self) -> Body:
        return self.make_initial()

    @property
    def replace_a(self) -> Body:
        return self.make_replace_a()

    @property
    def replace_b(self) -> Body:
        return self.make_replace_b()

    def item(self, ident: object) -> str:
        return f"{self.collection}/{ident}"


TASKS = Resource(
    collection="/api/v1/tasks",
    table="tasks",
    create=lambda n: {"title": f"load {n}", "tags": [f"n{n}"]},
    make_initial=lambda: {
        "title": "alpha",
        "description": "initial",
        "status": "in_progress",
        "priority": "medium",
        "tags": ["initial"],
    },
    make_replace_a=lambda: {
        "title": "alpha",
        "description": "from a",
        "status": "done",
        "priority": "high",
        "tags": ["a"],
    },
    make_replace_b=lambda: {
        "title": "bravo",
        "description": "from b",
        "status": "in_progress",
        "priority": "low",
        "tags": ["b"],
    },
    patch={"priority": "urgent"},
    compared=("title", "description", "status", "priority", "tags"),
)


class Emails:
    """Email addresses for user-service's bodies: one per created user, never used before (the
    service refuses a second user with an email, 409), and the replacements of a user keep the
    address it was created with, so that a PUT changes its name, not who it is."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]  # two runs on one database never collide either
        self.created = itertools.count(1)
        self.current = f"gates-{self.run}-0@example.com"

    def next(self) -> str:
        self.current = f"gates-{self.run}-{next(self.created)}@example.com"
        return self.current

    def load(self, n: int) -> str:
        return f"load-{self.run}-{n}@example.com"


EMAILS = Emails()

USERS = Resource(
    collection="/api/v1/users",
    table="users",
    create=lambda n: {"email": EMAILS.load(n), "name": f"load {n}"},
    # The torn-write gate creates a user (initial), then races two PUTs on it (replace_a and _b):
    # each read of initial makes a new address, which the replacements then share.
    make_initial=lambda: {"email": EMAILS.next(), "name": "initial"},
    make_replace_a=lambda: {"email": EMAILS.current, "name": "alpha"},
    make_replace_b=lambda: {"email": EMAILS.current, "name": "bravo"},
    patch={"name": "patched"},
    compared=("name",),
)

RESOURCES: dict[str, Resource] = {"task-service": TASKS, "user-service": USERS}


def resource_for(service: str) -> Resource | None:
    return RESOURCES.get(service)
