"""Tests of the fuzz gate's hook (fuzz_hooks.py): it finds a date window wherever the document
states it, moves a date outside it inside, and leaves every other value alone."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import fuzz_hooks
import pytest

pytestmark = pytest.mark.harness

TODAY = date(2026, 12, 2)
DOCUMENT: dict[str, Any] = {
    "paths": {},
    "components": {
        "schemas": {
            "Due": {"type": "string", "format": "date", "x-days-from-today": {"minimum": 0, "maximum": 30}},
            "Create": {
                "type": "object",
                "properties": {
                    "due": {"anyOf": [{"$ref": "#/components/schemas/Due"}, {"type": "null"}]},
                    "until": {"type": "string", "format": "date", "x-days-from-today": {"maximum": 10}},
                    "born": {"type": "string", "format": "date"},
                },
            },
        }
    },
}


def test_window_found_through_refs_and_branches() -> None:
    properties = DOCUMENT["components"]["schemas"]["Create"]["properties"]
    assert fuzz_hooks.window_of(DOCUMENT, properties["due"]) == {"minimum": 0, "maximum": 30}
    assert fuzz_hooks.window_of(DOCUMENT, properties["until"]) == {"maximum": 10}
    assert fuzz_hooks.window_of(DOCUMENT, properties["born"]) is None


@pytest.mark.parametrize("drawn", [date(1, 1, 1), date(2000, 2, 29), date(2026, 12, 1), date(9999, 12, 31)])
def test_a_date_outside_the_window_is_moved_inside(drawn: date) -> None:
    moved = date.fromisoformat(
        fuzz_hooks.into_window(drawn.isoformat(), {"minimum": 0, "maximum": 30}, TODAY)
    )
    assert TODAY <= moved <= TODAY + timedelta(days=30)
    assert moved == date.fromisoformat(
        fuzz_hooks.into_window(drawn.isoformat(), {"minimum": 0, "maximum": 30}, TODAY)
    )
    latest = date.fromisoformat(fuzz_hooks.into_window(drawn.isoformat(), {"maximum": 10}, TODAY))
    assert latest <= TODAY + timedelta(days=10)


def test_a_date_inside_and_other_values_are_left_alone() -> None:
    assert fuzz_hooks.into_window("2026-12-20", {"minimum": 0, "maximum": 30}, TODAY) == "2026-12-20"
    assert fuzz_hooks.into_window("2020-01-01", {"maximum": 10}, TODAY) == "2020-01-01"
    assert fuzz_hooks.into_window("not a date", {"minimum": 0}, TODAY) == "not a date"


def test_only_positive_cases_with_a_body_are_mapped() -> None:
    operation = SimpleNamespace(
        schema=SimpleNamespace(raw_schema=DOCUMENT),
        definition=SimpleNamespace(
            raw={
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Create"}}}
                }
            }
        ),
    )
    context = SimpleNamespace(operation=operation)

    def case(positive: bool) -> Any:
        mode = SimpleNamespace(is_positive=positive)
        body = {"due": "2000-01-01", "born": "2000-01-01", "until": None}
        return SimpleNamespace(meta=SimpleNamespace(generation=SimpleNamespace(mode=mode)), body=body)

    positive = fuzz_hooks.map_case(context, case(True))
    assert positive.body["due"] != "2000-01-01" and positive.body["born"] == "2000-01-01"
    assert positive.body["until"] is None
    assert fuzz_hooks.map_case(context, case(False)).body["due"] == "2000-01-01"
