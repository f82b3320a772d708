"""What each HTTP service's main resource looks like to the gates: where its collection lives,
the table that stores it, and bodies for create, replace and patch.

The gates are the same for every service; only this description differs. A service without an
entry here is still fuzzed (schemathesis reads its OpenAPI document), but the concurrency and
outage gates need to know how to write to it and say so."""

from __future__ import annotations

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
    # from what it loaded leaves a mix of the two.
    initial: Body
    replace_a: Body
    replace_b: Body
    patch: Body
    compared: tuple[str, ...]

    def item(self, ident: object) -> str:
        return f"{self.collection}/{ident}"


TASKS = Resource(
    collection="/api/v1/tasks",
    table="tasks",
    create=lambda n: {"title": f"load {n}", "tags": [f"n{n}"]},
    initial={
        "title": "alpha",
        "description": "initial",
        "status": "in_progress",
        "priority": "medium",
        "tags": ["initial"],
    },
    replace_a={
        "title": "alpha",
        "description": "from a",
        "status": "done",
        "priority": "high",
        "tags": ["a"],
    },
    replace_b={
        "title": "bravo",
        "description": "from b",
        "status": "in_progress",
        "priority": "low",
        "tags": ["b"],
    },
    patch={"priority": "urgent"},
    compared=("title", "description", "status", "priority", "tags"),
)

RESOURCES: dict[str, Resource] = {"task-service": TASKS}


def resource_for(service: str) -> Resource | None:
    return RESOURCES.get(service)
