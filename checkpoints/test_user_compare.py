"""Checkpoint user-compare (notebook 23): the profiles endpoint of playground/profiles_fastapi.py,
written again in Flask (playground/profiles_flask.py), answers the same requests the same way:
a Werkzeug converter for the handle, every Werkzeug error as the JSON body, validation by calling
Pydantic, 201 with Location, 409 for a taken handle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import pytest

APP = "profiles_flask"
REFERENCE = "profiles_fastapi"
ADA = {"handle": "Ada-L", "display_name": "Ada Lovelace"}
JSON = {"Content-Type": "application/json"}

# Requests both versions answer alike, in order (later ones see what earlier ones created).
SAME: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/profiles", {"json": ADA}),
    ("POST", "/profiles", {"json": {"handle": "ADA-l", "display_name": "Another Ada"}}),
    ("POST", "/profiles", {"json": {"handle": "-x-", "display_name": "", "admin": True}}),
    ("POST", "/profiles", {"json": {"handle": "grace"}}),
    ("POST", "/profiles", {"content": b"{oops", "headers": JSON}),
    ("POST", "/profiles", {"json": {"handle": "Grace-H", "display_name": "Grace Hopper"}}),
    ("GET", "/profiles/ADA-L", {}),
    ("GET", "/profiles/grace-h", {}),
    ("GET", "/profiles/linus", {}),
]


@pytest.fixture
def flask_app(load_service: Callable[[str, str], Any]) -> Any:
    return load_service("playground", APP).create_app()


@pytest.fixture
def http(flask_app: Any, client: Callable[..., Any]) -> Iterator[Any]:
    with client(flask_app) as test_client:
        yield test_client


@pytest.fixture
def reference(load_service: Callable[[str, str], Any], client: Callable[..., Any]) -> Iterator[Any]:
    with client(
        load_service("playground", REFERENCE).create_app(), base_url="http://localhost"
    ) as test_client:
        yield test_client


def match(app: Any, path: str, method: str = "GET") -> tuple[str, dict[str, Any]]:
    endpoint, arguments = app.url_map.bind("localhost").match(path, method=method)
    return endpoint, arguments


def test_profile_apps_build(load_service: Callable[[str, str], Any]) -> None:
    """playground/profiles_fastapi.py and profiles_flask.py import and build their apps"""
    assert hasattr(load_service("playground", REFERENCE).create_app(), "openapi")
    flask = load_service("playground", APP).create_app()
    rules = {rule.rule for rule in flask.url_map.iter_rules()}
    assert {"/profiles", "/profiles/<handle:handle>"} <= rules, f"the app's rules: {sorted(rules)}"


def test_the_converter_refuses_what_is_no_handle(flask_app: Any) -> None:
    """a segment that is no handle matches no rule (404), before any view runs"""
    from werkzeug.exceptions import NotFound

    for segment in ["a_b", "ab", "-ada", "ada-", "x" * 31, "ada.l"]:
        with pytest.raises(NotFound):
            match(flask_app, f"/profiles/{segment}")
            pytest.fail(f"/profiles/{segment} matched a rule")


def test_the_converter_lowers_the_handle(flask_app: Any) -> None:
    """/profiles/Ada-L reaches get_profile with handle="ada-l" """
    for path, handle in [
        ("/profiles/Ada-L", "ada-l"),
        ("/profiles/GRACE", "grace"),
        ("/profiles/x9z", "x9z"),
    ]:
        assert match(flask_app, path) == ("get_profile", {"handle": handle}), path


def test_url_for_writes_the_handle_lower_case(flask_app: Any) -> None:
    """url_for("get_profile", handle="ADA-L") is /profiles/ada-l"""
    from flask import url_for

    with flask_app.test_request_context():
        assert url_for("get_profile", handle="ADA-L") == "/profiles/ada-l"
        assert url_for("get_profile", handle="Grace") == "/profiles/grace"


def test_werkzeug_errors_are_the_json_body(http: Any, assert_error_body: Any) -> None:
    """404, 405 (with Allow) and 415 are the JSON error body, not Flask's HTML pages"""
    missing = http.get("/nowhere")
    assert missing.headers["Content-Type"] == "application/json", missing.text[:200]
    assert_error_body(missing, 404, "not_found")
    assert "not found" in missing.json()["error"]["message"].lower()
    wrong_method = http.delete("/profiles/ada-l")
    assert_error_body(wrong_method, 405, "method_not_allowed")
    allowed = {method.strip() for method in wrong_method.headers.get("Allow", "").split(",")}
    assert "GET" in allowed and "DELETE" not in allowed, f"Allow: {wrong_method.headers.get('Allow')!r}"
    assert wrong_method.json()["error"]["message"], "the message is the error's description"
    other_type = http.post("/profiles", content=b"handle=x", headers={"Content-Type": "text/plain"})
    assert other_type.headers["Content-Type"] == "application/json", other_type.text[:200]
    assert_error_body(other_type, 415, "unsupported_media_type")


def test_create_answers_201_with_location(http: Any) -> None:
    """POST /profiles answers 201, the profile (handle lower-cased) and its URL in Location"""
    created = http.post("/profiles", json=ADA)
    assert created.status_code == 201, f"{created.status_code}: {created.text[:300]}"
    assert created.json() == {"handle": "ada-l", "display_name": "Ada Lovelace"}
    assert created.headers.get("Location") == "http://localhost/profiles/ada-l"
    read = http.get("/profiles/ADA-L")
    assert read.status_code == 200 and read.json() == created.json(), read.text[:300]
    other = http.post("/profiles", json={"handle": "grace", "display_name": "Grace"})
    assert other.status_code == 201 and http.get("/profiles/grace").json()["display_name"] == "Grace"


def test_create_validates_by_calling_pydantic(http: Any, assert_error_body: Any) -> None:
    """an invalid body is 422 with one detail per field (body.handle, ...), nothing stored"""
    refused = http.post("/profiles", json={"handle": "-x-", "display_name": "", "admin": True})
    error = assert_error_body(refused, 422, "validation_error")
    fields = sorted(detail["field"] for detail in error["details"])
    assert fields == ["body.admin", "body.display_name", "body.handle"], error["details"]
    missing = assert_error_body(http.post("/profiles", json={"handle": "grace"}), 422, "validation_error")
    assert [d["field"] for d in missing["details"]] == ["body.display_name"], missing["details"]
    assert_error_body(http.post("/profiles", json=["grace", "Grace"]), 422, "validation_error")
    assert_error_body(http.get("/profiles/grace"), 404, "not_found")


def test_create_refuses_a_taken_handle(http: Any, assert_error_body: Any) -> None:
    """a handle already stored, in any case, is 409 and the first profile stays"""
    assert http.post("/profiles", json=ADA).status_code == 201
    error = assert_error_body(
        http.post("/profiles", json={"handle": "ADA-l", "display_name": "Another"}), 409, "conflict"
    )
    assert error["message"] == "The handle ada-l is taken."
    assert http.get("/profiles/ada-l").json()["display_name"] == "Ada Lovelace"


def test_create_refuses_a_body_that_is_not_json(http: Any, assert_error_body: Any) -> None:
    """malformed JSON is 400 with the JSON error body"""
    error = assert_error_body(http.post("/profiles", content=b"{oops", headers=JSON), 400, "bad_request")
    assert error["message"] == "The request body is not valid JSON."


def test_flask_answers_as_fastapi_does(http: Any, reference: Any) -> None:
    """the notebook's requests get the same statuses, bodies and Location from both versions"""
    for method, path, options in SAME:
        theirs = reference.request(method, path, **options)
        ours = http.request(method, path, **options)
        shown = f"{method} {path} {options}"
        assert (
            ours.status_code == theirs.status_code
        ), f"{shown}: {ours.status_code}, FastAPI {theirs.status_code}"
        assert ours.json() == theirs.json(), f"{shown}: {ours.json()}, FastAPI {theirs.json()}"
        assert ours.headers.get("Location") == theirs.headers.get("Location"), shown
