"""Schemathesis hooks of the fuzz gate: the one rule of a document that JSON Schema cannot state.

JSON Schema has no keyword for "today". A service documents a date window relative to it with the
extension keyword `x-days-from-today: {"minimum": m, "maximum": n}` beside `format: date` (the
date lies m to n days after today, UTC; either bound may be absent), and says it in words in the
description. The fuzzer cannot read an extension, so this hook moves each date a positive test case
draws outside its window into it, the same way every time; everything else stays as generated.
Negative cases are left alone. The acceptance check then holds the service to the window exactly
as the document states it: a date inside it must be accepted."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import schemathesis

KEYWORD = "x-days-from-today"


def resolve(document: dict[str, Any], schema: Any) -> Any:
    """`schema` with a local `$ref` (`#/components/...`) followed, else as it is."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def window_of(document: dict[str, Any], schema: Any) -> dict[str, int] | None:
    """The `x-days-from-today` of a property's schema, looked for in its anyOf/oneOf/allOf branches."""
    schema = resolve(document, schema)
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get(KEYWORD), dict):
        return schema[KEYWORD]
    for combinator in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(combinator, []):
            found = window_of(document, branch)
            if found is not None:
                return found
    return None


def into_window(value: str, window: dict[str, int], today: date) -> str:
    """`value` if it lies in the window, else a date inside it chosen from `value` (so a failing
    case replays and shrinks like any other)."""
    try:
        drawn = date.fromisoformat(value)
    except ValueError:
        return value
    earliest = today + timedelta(days=window["minimum"]) if "minimum" in window else date.min
    latest = today + timedelta(days=window["maximum"]) if "maximum" in window else date.max
    if earliest <= drawn <= latest:
        return value
    span = (latest - earliest).days + 1
    return (earliest + timedelta(days=drawn.toordinal() % span)).isoformat()


def body_properties(operation: Any) -> dict[str, Any]:
    document = operation.schema.raw_schema
    content = resolve(document, operation.definition.raw.get("requestBody", {})).get("content", {})
    body = resolve(document, content.get("application/json", {}).get("schema", {}))
    return body.get("properties", {}) if isinstance(body, dict) else {}


@schemathesis.hook
def map_case(ctx: Any, case: Any) -> Any:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    document = ctx.operation.schema.raw_schema
    today = datetime.now(timezone.utc).date()
    for name, schema in body_properties(ctx.operation).items():
        value = case.body.get(name)
        window = window_of(document, schema)
        if window is not None and isinstance(value, str):
            case.body[name] = into_window(value, window, today)
    return case
