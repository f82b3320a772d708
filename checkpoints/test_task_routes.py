"""Checkpoint task-routes: the task API from outside, over HTTP (step 2.5)."""

import warnings

import pytest

warnings.filterwarnings("ignore", message="Using .httpx.")

from fastapi.testclient import TestClient  # noqa: E402

TASKS = "/api/v1/tasks"


@pytest.fixture
def client(make_task_app):
    with TestClient(make_task_app()) as test_client:
        yield test_client


def assert_error_body(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["details"], list)
    return body["error"]


def test_create_201_with_location(client):
    """POST creates a task: 201, a Location header, the stored task"""
    response = client.post(TASKS, json={"title": "  Write docs ", "tags": ["Docs"]})
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["title"] == "Write docs" and task["status"] == "todo" and task["tags"] == ["docs"]
    assert response.headers["location"].endswith(f"{TASKS}/{task['id']}")
    assert client.get(response.headers["location"]).json() == task


def test_invalid_body_422_error_body(client):
    """invalid input answers 422 with the error body, one detail per field"""
    response = client.post(TASKS, json={"title": " ", "priority": "someday", "id": 3})
    error = assert_error_body(response, 422, "validation_error")
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"body.title", "body.priority", "body.id"}


def test_missing_task_404(client):
    """GET, PUT, PATCH and DELETE on a missing task answer 404 with the error body"""
    assert_error_body(client.get(f"{TASKS}/999"), 404, "not_found")
    assert_error_body(client.put(f"{TASKS}/999", json={"title": "x"}), 404, "not_found")
    assert_error_body(client.patch(f"{TASKS}/999", json={"title": "x"}), 404, "not_found")
    assert_error_body(client.delete(f"{TASKS}/999"), 404, "not_found")


def test_put_replaces(client):
    """PUT replaces the whole task: omitted optional fields go back to their defaults"""
    task = client.post(TASKS, json={"title": "a", "priority": "high", "tags": ["x"]}).json()
    response = client.put(f"{TASKS}/{task['id']}", json={"title": "b", "status": "done"})
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert (replaced["title"], replaced["status"], replaced["priority"], replaced["tags"]) == (
        "b", "done", "medium", [],
    )  # fmt: skip
    assert replaced["created_at"] == task["created_at"]


def test_pagination_bounds(client):
    """limit must be 1..100 and offset >= 0, else 422"""
    for params in [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}]:
        assert_error_body(client.get(TASKS, params=params), 422, "validation_error")


def test_list_filters_and_pages(client):
    """GET list filters by status and priority, pages newest first and counts the total"""
    for i in range(7):
        client.post(
            TASKS,
            json={
                "title": f"t{i}",
                "status": "done" if i % 2 else "todo",
                "priority": "high" if i < 3 else "low",
            },
        )
    page = client.get(TASKS, params={"limit": 3}).json()
    assert page["total"] == 7 and (page["limit"], page["offset"]) == (3, 0)
    assert [t["title"] for t in page["items"]] == ["t6", "t5", "t4"]
    page = client.get(TASKS, params={"limit": 3, "offset": 6}).json()
    assert [t["title"] for t in page["items"]] == ["t0"] and page["total"] == 7
    done = client.get(TASKS, params={"status": "done"}).json()
    assert done["total"] == 3 and {t["title"] for t in done["items"]} == {"t1", "t3", "t5"}
    both = client.get(TASKS, params={"status": "todo", "priority": "high"}).json()
    assert [t["title"] for t in both["items"]] == ["t2", "t0"] and both["total"] == 2


def test_patch_is_partial(client):
    """PATCH changes only the fields sent"""
    task = client.post(TASKS, json={"title": "a", "priority": "high", "description": "keep"}).json()
    response = client.patch(f"{TASKS}/{task['id']}", json={"status": "in_progress"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["status"] == "in_progress"
    assert (patched["title"], patched["priority"], patched["description"]) == ("a", "high", "keep")
    cleared = client.patch(f"{TASKS}/{task['id']}", json={"description": None}).json()
    assert cleared["description"] is None and cleared["status"] == "in_progress"


def test_delete_204_then_404(client):
    """DELETE answers 204 with no body; the task is gone and a second DELETE answers 404"""
    task = client.post(TASKS, json={"title": "a"}).json()
    response = client.delete(f"{TASKS}/{task['id']}")
    assert response.status_code == 204 and response.content == b""
    assert_error_body(client.get(f"{TASKS}/{task['id']}"), 404, "not_found")
    assert_error_body(client.delete(f"{TASKS}/{task['id']}"), 404, "not_found")


def test_round_trip(client):
    """a full create, list, get, update, delete round trip"""
    created = client.post(TASKS, json={"title": "round trip"}).json()
    url = f"{TASKS}/{created['id']}"
    assert [t["id"] for t in client.get(TASKS).json()["items"]] == [created["id"]]
    assert client.get(url).json()["title"] == "round trip"
    assert client.patch(url, json={"status": "done"}).json()["status"] == "done"
    assert client.delete(url).status_code == 204
    assert client.get(TASKS).json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
