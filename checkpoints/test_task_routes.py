"""Checkpoint task-routes: the task API from outside, over HTTP (step 2.5)."""

import pytest

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


def test_list_filters_and_pages(api):
    """GET list filters by status and priority, pages newest first and counts the total"""
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
