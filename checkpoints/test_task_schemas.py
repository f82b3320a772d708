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
    """TaskUpdate keeps only the fields sent; a null title, status, priority or tags is rejected"""
    update = schemas.TaskUpdate(status="done")
    assert update.model_dump(exclude_unset=True) == {"status": "done"}
    assert schemas.TaskUpdate(description=None).model_dump(exclude_unset=True) == {"description": None}
    for field in ["title", "status", "priority", "tags"]:
        with pytest.raises(ValidationError) as raised:
            schemas.TaskUpdate(**{field: None})
        assert [problem["loc"] for problem in raised.value.errors()] == [(field,)]


def test_response_reads_orm_objects(schemas):
    """TaskResponse is built from attributes and exposes only its fields; TaskList holds a page"""
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
    page = schemas.TaskList(items=[response], total=1, limit=20, offset=0)
    assert page.model_dump()["items"][0]["id"] == 1 and (page.total, page.limit, page.offset) == (1, 20, 0)


def refusal(model, **fields):
    """The message of the one error `fields` give, or None when they are valid."""
    try:
        model(**fields)
    except ValidationError as error:
        return " | ".join(str(problem["msg"]) for problem in error.errors())
    return None


def test_tags_normalized(schemas):
    """tags are trimmed, lower-cased, de-duplicated (the first kept, in order) and bounded"""
    task = schemas.TaskCreate(title="t", tags=[" Backend ", "backend", "Big  Win", "API", "BIG win"])
    assert task.tags == ["backend", "big-win", "api"]
    assert schemas.TaskUpdate(tags=["A", "a"]).tags == ["a"]
    # The order sent is kept: the same tags forward and backward come back forward and backward.
    # A set() scrambles at least one of the two orders every time, not by chance.
    for names in (["zeta", "alpha", "mu", "beta", "omega", "kappa", "delta", "pi", "eta", "chi"],
                  [f"t{n}" for n in range(10)]):  # fmt: skip
        for sent in (names, names[::-1]):
            twice = [tag.upper() for tag in sent] + sent
            assert schemas.TaskCreate(title="t", tags=twice).tags == sent
    # Each limit itself is allowed; one past it is refused, with a message naming the rule.
    assert schemas.TaskCreate(title="t", tags=["x" * 30]).tags == ["x" * 30]
    assert schemas.TaskCreate(title="t", tags=["  " + "x" * 30 + "  "]).tags == ["x" * 30]
    assert len(schemas.TaskCreate(title="t", tags=[f"t{n}" for n in range(10)]).tags) == 10
    assert len(schemas.TaskCreate(title="t", tags=[f"t{n % 10}" for n in range(15)]).tags) == 10
    for bad, words in [
        ([" "], "blank"),
        (["ok", "\t\n"], "blank"),
        (["x" * 31], "30"),
        (["big " + "x" * 27], "30"),
        ([f"tag{i}" for i in range(11)], "10"),
    ]:
        message = refusal(schemas.TaskCreate, title="t", tags=bad)
        assert message is not None, f"tags={bad!r} were accepted"
        assert words in message, f"tags={bad!r}: the message {message!r} does not say {words!r}"


def test_due_date_not_in_past(schemas):
    """a new task cannot be due in the past; today, next month, none and PUT with a past date are fine"""
    assert schemas.TaskCreate(title="t", due_date=today()).due_date == today()
    assert schemas.TaskCreate(title="t", due_date=today() + timedelta(days=30)).due_date
    assert schemas.TaskCreate(title="t", due_date=None).due_date is None
    message = refusal(schemas.TaskCreate, title="t", due_date=today() - timedelta(days=1))
    assert message is not None, "a due date of yesterday was accepted"
    assert "past" in message, f"the message {message!r} does not say the date is in the past"
    with pytest.raises(ValidationError):
        schemas.TaskCreate(title="t", due_date=date(2999, 1, 1))
    assert schemas.TaskReplace(title="t", due_date=date(2020, 1, 1)).due_date == date(2020, 1, 1)


def test_schema_states_the_rules(schemas):
    """the JSON schema states the rules the validators enforce: tags, nulls in PATCH, due dates"""
    import re

    create = schemas.TaskCreate.model_json_schema()["properties"]
    update = schemas.TaskUpdate.model_json_schema()["properties"]
    tags, tag = create["tags"], create["tags"]["items"]
    assert tags.get("maxItems") == 10, f"tags: {tags}"
    assert tag.get("maxLength") == 30 and tag.get("pattern"), f"one tag: {tag}"
    for blank in ["", " ", "\t\n", "\u3000"]:
        assert re.search(tag["pattern"], blank) is None, f"the tag pattern allows {blank!r}"
    for fine in ["docs", "Big Win", "x"]:
        assert re.search(tag["pattern"], fine), f"the tag pattern refuses {fine!r}"
    assert re.search(create["title"]["pattern"], "   ") is None, "the title pattern allows blanks"
    for field in ["title", "status", "priority", "tags"]:
        assert "null" not in str(update[field]), f"TaskUpdate.{field} is documented as nullable"
    assert "null" in str(update["description"]), "TaskUpdate.description can be cleared with null"
    due = str(create["due_date"])
    assert "x-days-from-today" in due and "'minimum': 0" in due, f"TaskCreate.due_date: {due}"


def test_nul_characters_refused(schemas):
    """a NUL character (PostgreSQL cannot store it) is refused, and the JSON schema says so"""
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
