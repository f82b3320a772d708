"""Checkpoint task-routes: the task API from outside, over HTTP (step 2.5)."""

import re

import pytest
from sqlalchemy import event

TASKS = "/api/v1/tasks"


@pytest.fixture
def api(make_app, client):
    with client(make_app("task-service")) as http:
        yield http


def test_create_201_with_location(api):
    """POST creates a task: 201, a Location header, the stored task"""
    response = api.post(TASKS, json={"title": "  Write docs ", "tags": ["Docs"]})
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["title"] == "Write docs" and task["status"] == "todo" and task["tags"] == ["docs"]
    assert response.headers["location"].endswith(f"{TASKS}/{task['id']}")
    assert api.get(response.headers["location"]).json() == task


def test_invalid_body_422_error_body(api, assert_error_body):
    """invalid input answers 422 with the error body, one detail per field"""
    response = api.post(TASKS, json={"title": " ", "priority": "someday", "id": 3})
    error = assert_error_body(response, 422, "validation_error")
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"body.title", "body.priority", "body.id"}


def test_missing_task_404(api, assert_error_body):
    """GET, PUT, PATCH and DELETE on a missing task answer 404 with the error body"""
    assert_error_body(api.get(f"{TASKS}/999"), 404, "not_found")
    assert_error_body(api.put(f"{TASKS}/999", json={"title": "x"}), 404, "not_found")
    assert_error_body(api.patch(f"{TASKS}/999", json={"title": "x"}), 404, "not_found")
    assert_error_body(api.delete(f"{TASKS}/999"), 404, "not_found")


def test_put_replaces(api):
    """PUT replaces the whole task: omitted optional fields go back to their defaults"""
    task = api.post(TASKS, json={"title": "a", "priority": "high", "tags": ["x"]}).json()
    response = api.put(f"{TASKS}/{task['id']}", json={"title": "b", "status": "done"})
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert (replaced["title"], replaced["status"], replaced["priority"], replaced["tags"]) == (
        "b", "done", "medium", [],
    )  # fmt: skip
    assert replaced["created_at"] == task["created_at"]


def test_pagination_bounds(api, assert_error_body):
    """limit must be 1..100 and offset >= 0, else 422"""
    for params in [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}]:
        assert_error_body(api.get(TASKS, params=params), 422, "validation_error")


def test_list_filters_and_pages(make_app, client):
    """GET list filters by status and priority, pages newest first and counts the total"""
    import importlib
    from datetime import datetime, timedelta, timezone

    app = make_app("task-service")
    models = importlib.import_module("src.models.database")
    with client(app) as api:
        list_filters_and_pages(api)
        # Newest first by created_at, not by id; ties broken by id, newest id first.
        noon = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
        with app.state.session_factory() as session:
            dated = [models.Task(title=f"dated {n}", created_at=noon + timedelta(hours=h)) for n, h in
                     enumerate([2, 1, 1, 3])]  # fmt: skip
            session.add_all(dated)
            session.commit()
            expected = [dated[3].id, dated[0].id, dated[2].id, dated[1].id]
        # SQLite walks the (created_at, id) index backwards, so ties come out by id even without
        # the tie-break; the statement itself must ask for it (PostgreSQL's sort gives no order).
        statements: list[str] = []

        def remember(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(app.state.engine, "before_cursor_execute", remember)
        try:
            page = api.get(TASKS, params={"limit": 4}).json()
        finally:
            event.remove(app.state.engine, "before_cursor_execute", remember)
        hint = "order_by(Task.created_at.desc(), Task.id.desc()): newest created first, equal times by id"
        assert [t["id"] for t in page["items"]] == expected, hint
        ordered = [" ".join(s.split()) for s in statements if "ORDER BY" in s.upper()]
        assert any(
            re.search(r"ORDER BY \w*\.?created_at DESC, \w*\.?id DESC", s, re.IGNORECASE) for s in ordered
        ), f"{hint}; the list ran {ordered or 'no ORDER BY'}"


def list_filters_and_pages(api):
    for i in range(7):
        api.post(
            TASKS,
            json={
                "title": f"t{i}",
                "status": "done" if i % 2 else "todo",
                "priority": "high" if i < 3 else "low",
            },
        )
    page = api.get(TASKS, params={"limit": 3}).json()
    assert page["total"] == 7 and (page["limit"], page["offset"]) == (3, 0)
    assert [t["title"] for t in page["items"]] == ["t6", "t5", "t4"]
    page = api.get(TASKS, params={"limit": 3, "offset": 6}).json()
    assert [t["title"] for t in page["items"]] == ["t0"] and page["total"] == 7
    done = api.get(TASKS, params={"status": "done"}).json()
    assert done["total"] == 3 and {t["title"] for t in done["items"]} == {"t1", "t3", "t5"}
    both = api.get(TASKS, params={"status": "todo", "priority": "high"}).json()
    assert [t["title"] for t in both["items"]] == ["t2", "t0"] and both["total"] == 2


def test_patch_is_partial(api):
    """PATCH changes only the fields sent"""
    task = api.post(TASKS, json={"title": "a", "priority": "high", "description": "keep"}).json()
    response = api.patch(f"{TASKS}/{task['id']}", json={"status": "in_progress"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["status"] == "in_progress"
    assert (patched["title"], patched["priority"], patched["description"]) == ("a", "high", "keep")
    cleared = api.patch(f"{TASKS}/{task['id']}", json={"description": None}).json()
    assert cleared["description"] is None and cleared["status"] == "in_progress"


def test_delete_204_then_404(api, assert_error_body):
    """DELETE answers 204 with no body; the task is gone and a second DELETE answers 404"""
    task = api.post(TASKS, json={"title": "a"}).json()
    response = api.delete(f"{TASKS}/{task['id']}")
    assert response.status_code == 204 and response.content == b""
    assert_error_body(api.get(f"{TASKS}/{task['id']}"), 404, "not_found")
    assert_error_body(api.delete(f"{TASKS}/{task['id']}"), 404, "not_found")


def test_round_trip(api):
    """a full create, list, get, update, delete round trip"""
    created = api.post(TASKS, json={"title": "round trip"}).json()
    url = f"{TASKS}/{created['id']}"
    assert [t["id"] for t in api.get(TASKS).json()["items"]] == [created["id"]]
    assert api.get(url).json()["title"] == "round trip"
    assert api.patch(url, json={"status": "done"}).json()["status"] == "done"
    assert api.delete(url).status_code == 204
    assert api.get(TASKS).json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_ids_and_offsets_bounded(api, assert_error_body):
    """ids outside PostgreSQL's INTEGER (1..2^31-1) and offsets past it answer 422, never 500"""
    for ident in [0, 2**31, 2**64]:
        for method in ["GET", "DELETE"]:
            assert_error_body(api.request(method, f"{TASKS}/{ident}"), 422, "validation_error")
        assert_error_body(api.patch(f"{TASKS}/{ident}", json={"title": "x"}), 422, "validation_error")
    assert_error_body(api.get(f"{TASKS}/{2**31 - 1}"), 404, "not_found")
    for offset in [2**31, 2**63]:
        assert_error_body(api.get(TASKS, params={"offset": offset}), 422, "validation_error")


def test_etag_and_if_match(api, assert_error_body):
    """every answer with a task carries its ETag; If-Match with another version answers 412"""
    created = api.post(TASKS, json={"title": "tagged"})
    url, first = f"{TASKS}/{created.json()['id']}", created.headers.get("etag")
    assert first and first.startswith('"'), f"POST answered ETag {first!r}: a quoted version"
    assert api.get(url).headers.get("etag") == first
    patched = api.patch(url, json={"status": "done"}, headers={"If-Match": first})
    assert patched.status_code == 200, patched.text
    second = patched.headers.get("etag")
    assert second and second != first, "a change must give the task a new ETag"
    for method, body in [("PATCH", {"title": "late"}), ("PUT", {"title": "late"}), ("DELETE", None)]:
        stale = api.request(method, url, json=body, headers={"If-Match": first})
        assert stale.status_code == 412, f"{method} with an outdated If-Match: {stale.status_code}"
        assert set(stale.json()) == {"error"}, stale.text
    assert api.get(url).json()["title"] == "tagged"
    assert second in stale.json()["error"]["message"], "the 412's message names the current version"
    for listed in [f"W/{second}", f'"999",{second}', f'"999", W/{second}']:
        kept = api.patch(url, json={"status": "done"}, headers={"If-Match": listed})
        assert kept.status_code == 200, f"If-Match: {listed} lists the current version: {kept.status_code}"
        second = kept.headers["etag"]
    replaced = api.put(url, json={"title": "any version"}, headers={"If-Match": "*"})
    assert replaced.status_code == 200 and replaced.headers.get("etag") not in (first, second)
    assert api.delete(url, headers={"If-Match": replaced.headers["etag"]}).status_code == 204


def test_lost_race_is_409_never_500(make_app, client, assert_error_body):
    """a write based on a read another request has since changed or deleted answers 409"""
    import importlib

    from sqlalchemy import event

    app = make_app("task-service")
    deps = importlib.import_module("src.api.dependencies")
    models = importlib.import_module("src.models.database")
    meanwhile = {}

    def sessions_that_lose_the_race():
        with app.state.session_factory() as session:

            @event.listens_for(session, "before_flush", once=True)
            def another_request_commits_first(session, flush_context, instances):
                ident = next(iter(session.dirty | session.deleted)).id  # this request read it...
                with app.state.session_factory() as other:  # ...then another one commits first
                    row = other.get(models.Task, ident)
                    other.delete(row) if meanwhile["delete"] else setattr(row, "title", "theirs")
                    other.commit()

            yield session
            session.commit()

    with client(app) as http:
        for method, body, delete in [("PUT", {"title": "mine"}, False), ("PATCH", {"title": "mine"}, False),
                                     ("DELETE", None, False), ("PATCH", {"title": "mine"}, True),
                                     ("DELETE", None, True)]:  # fmt: skip
            ident = http.post(TASKS, json={"title": "original"}).json()["id"]
            meanwhile["delete"] = delete
            app.dependency_overrides[deps.get_db] = sessions_that_lose_the_race
            response = http.request(method, f"{TASKS}/{ident}", json=body)
            app.dependency_overrides.clear()
            assert response.status_code in (404, 409), (
                f"{method} losing to a concurrent {'DELETE' if delete else 'update'} answered "
                f"{response.status_code}: {response.text}"
            )
            assert set(response.json()) == {"error"}, response.text
            if not delete:
                assert http.get(f"{TASKS}/{ident}").json()["title"] == "theirs", "the winner was overwritten"
