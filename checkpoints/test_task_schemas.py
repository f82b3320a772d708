"""Checkpoint task-schemas: the Pydantic models that validate tasks (step 2.3)."""

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from pydantic import ValidationError


@pytest.fixture
def schemas(load_service):
    return load_service("task-service", "src.models.task")


def today():
    return datetime.now(timezone.utc).date()


def test_enums(schemas):
    """TaskStatus and TaskPriority are string enums with the API's values"""
    assert {s.value for s in schemas.TaskStatus} == {"todo", "in_progress", "done"}
    assert {p.value for p in schemas.TaskPriority} == {"low", "medium", "high", "urgent"}
    assert schemas.TaskStatus("done") == "done"


def test_title_trimmed_and_bounded(schemas):
    """titles are trimmed; blank or over-long titles are rejected"""
    assert schemas.TaskCreate(title="  Buy milk  ").title == "Buy milk"
    for bad in ["", "   ", "x" * 201]:
        with pytest.raises(ValidationError):
            schemas.TaskCreate(title=bad)


def test_description_bounded(schemas):
    """descriptions are bounded and a blank one becomes null"""
    assert schemas.TaskCreate(title="t", description="   ").description is None
    with pytest.raises(ValidationError):
        schemas.TaskCreate(title="t", description="x" * 2001)


def test_create_defaults_and_forbids_server_fields(schemas):
    """TaskCreate has defaults and refuses id, created_at and unknown fields"""
    task = schemas.TaskCreate(title="t")
    assert (task.status, task.priority, task.due_date, task.tags) == ("todo", "medium", None, [])
    for field, value in [("id", 7), ("created_at", "2024-01-01T00:00:00Z"), ("titel", "typo")]:
        with pytest.raises(ValidationError) as raised:
            schemas.TaskCreate(title="t", **{field: value})
        assert raised.value.errors()[0]["type"] == "extra_forbidden"


def test_update_is_partial(schemas):
    """TaskUpdate keeps only the fields sent; a null title is rejected"""
    update = schemas.TaskUpdate(status="done")
    assert update.model_dump(exclude_unset=True) == {"status": "done"}
    assert schemas.TaskUpdate(description=None).model_dump(exclude_unset=True) == {"description": None}
    with pytest.raises(ValidationError):
        schemas.TaskUpdate(title=None)


def test_response_reads_orm_objects(schemas):
    """TaskResponse is built from attributes and exposes only its fields"""
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    row = SimpleNamespace(
        id=1, title="t", description=None, status="todo", priority="low", due_date=None, tags=["a"],
        created_at=now, updated_at=now, internal_note="never shown",
    )  # fmt: skip
    response = schemas.TaskResponse.model_validate(row)
    dumped = response.model_dump()
    assert dumped["id"] == 1 and "internal_note" not in dumped
    assert set(dumped) == {
        "id", "title", "description", "status", "priority", "due_date", "tags", "created_at", "updated_at",
    }  # fmt: skip


def test_tags_normalized(schemas):
    """tags are trimmed, lower-cased, de-duplicated and bounded"""
    task = schemas.TaskCreate(title="t", tags=[" Backend ", "backend", "Big Win", "API"])
    assert task.tags == ["backend", "big-win", "api"]
    for bad in [[" "], ["x" * 31], [f"tag{i}" for i in range(11)]]:
        with pytest.raises(ValidationError):
            schemas.TaskCreate(title="t", tags=bad)
    assert schemas.TaskUpdate(tags=["A", "a"]).tags == ["a"]


def test_due_date_not_in_past(schemas):
    """a new task cannot be due in the past; today, next month and PUT with a past date are fine"""
    assert schemas.TaskCreate(title="t", due_date=today()).due_date == today()
    assert schemas.TaskCreate(title="t", due_date=today() + timedelta(days=30)).due_date
    with pytest.raises(ValidationError):
        schemas.TaskCreate(title="t", due_date=today() - timedelta(days=1))
    with pytest.raises(ValidationError):
        schemas.TaskCreate(title="t", due_date=date(2999, 1, 1))
    assert schemas.TaskReplace(title="t", due_date=date(2020, 1, 1)).due_date == date(2020, 1, 1)


def test_nul_characters_refused(schemas):
    """a NUL character (PostgreSQL cannot store it) is refused in title, description and tags,
    and the rule is in the JSON schema, where clients and fuzzers read it"""
    import re

    for body in [
        {"title": "a\x00b"},
        {"title": "a", "description": "\x00"},
        {"title": "a", "tags": ["x\x00"]},
    ]:
        with pytest.raises(ValidationError):
            schemas.TaskCreate(**body)
        with pytest.raises(ValidationError):
            schemas.TaskReplace(**body)
    with pytest.raises(ValidationError):
        schemas.TaskUpdate(title="a\x00")
    title = schemas.TaskCreate.model_json_schema()["properties"]["title"]
    pattern = title.get("pattern")
    assert pattern and re.search(pattern, "a\x00b") is None and re.search(pattern, "ab")
