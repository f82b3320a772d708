"""Checkpoint user-crud: the users API, unique emails under concurrency, and every malformed request
answered with the JSON error body (step 2.17)."""

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from workbook.serving import Server
from workbook.services import profile

SERVICE = "user-service"
USERS = "/api/v1/users"


@pytest.fixture
def app(make_app):
    return make_app(SERVICE, log_level="ERROR")


@pytest.fixture
def http(app, client):
    with client(app) as test_client:
        yield test_client


def create(http, email, name="Someone"):
    response = http.post(USERS, json={"email": email, "name": name})
    assert response.status_code == 201, f"POST {email}: {response.status_code} {response.text}"
    return response.json()


def details(error):
    return {detail.get("field"): detail for detail in error["details"]}


def test_create_is_201_with_location_and_etag(http):
    """POST answers 201, Location of the new user, ETag, and the email normalized"""
    response = http.post(USERS, json={"email": "  Ada@Example.COM ", "name": " Ada Lovelace "})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {"id", "email", "name", "created_at", "updated_at"}, body
    assert body["email"] == "ada@example.com", f"emails are stored trimmed and lower-case: {body['email']!r}"
    assert body["name"] == "Ada Lovelace"
    assert response.headers.get("Location", "").endswith(f"{USERS}/{body['id']}"), response.headers.get(
        "Location"
    )
    assert response.headers.get("ETag") == '"1"', response.headers.get("ETag")
    assert http.get(f"{USERS}/{body['id']}").json()["email"] == "ada@example.com"


def test_invalid_bodies_are_422_with_one_detail_per_field(http, assert_error_body):
    """invalid email, blank name, unknown field, NUL, a JSON list: 422 naming each body field"""
    error = assert_error_body(
        http.post(USERS, json={"email": "not-an-email", "name": "  ", "admin": True}), 422, "validation_error"
    )
    assert {"body.email", "body.name", "body.admin"} <= set(details(error)), error["details"]
    error = assert_error_body(http.post(USERS, json={"email": "a@example.com"}), 422, "validation_error")
    assert details(error)["body.name"]["type"] == "missing", error["details"]
    assert_error_body(
        http.post(USERS, json={"email": "a@example.com", "name": "x\u0000y"}), 422, "validation_error"
    )
    assert_error_body(
        http.post(USERS, json=[{"email": "a@example.com", "name": "A"}]), 422, "validation_error"
    )
    assert_error_body(
        http.post(USERS, json={"email": "a@" + "b" * 260 + ".com", "name": "A"}), 422, "validation_error"
    )
    assert http.get(f"{USERS}?limit=100").json()["total"] == 0, "nothing invalid may be stored"


def test_malformed_json_is_400_and_another_content_type_415(http, assert_error_body):
    """malformed JSON: 400; a form body: 415; both with the error body"""
    assert_error_body(http.post(USERS, data="{not json", content_type="application/json"), 400, "bad_request")
    assert_error_body(
        http.post(USERS, data="email=a@b.c", content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )


def test_duplicate_email_in_any_case_is_409(http, assert_error_body):
    """a second user with the same email, in any case, is 409 email_taken; the first is kept"""
    first = create(http, "grace@example.com", "Grace")
    error = assert_error_body(
        http.post(USERS, json={"email": "GRACE@Example.com", "name": "Other"}), 409, "email_taken"
    )
    assert "grace@example.com" in error["message"], error
    listed = http.get(f"{USERS}?email=grace@example.com").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == first["id"]
    create(http, "grace2@example.com")  # the session is usable after the refusal


def test_concurrent_creates_of_one_email_give_one_201(service_dir, tmp_path):
    """eight creates of one email at once against gunicorn: one 201, seven 409, one user, no 500"""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'race.db'}", "USER_SERVICE_LOG_LEVEL": "ERROR"}
    with Server(profile(SERVICE), service_dir(SERVICE), env=env, log_path=tmp_path / "server.log") as server:

        def post(_):
            body = {"email": "race@example.com", "name": "Racer"}
            return httpx.post(f"{server.base_url}{USERS}", json=body, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(post, range(8)))
        total = httpx.get(f"{server.base_url}{USERS}?email=race@example.com", timeout=30).json()["total"]
    assert statuses == [201] + [409] * 7, f"answers: {statuses}"
    assert total == 1, f"{total} users stored with one email"


def test_list_pages_filters_and_counts(http):
    """GET lists in id order with limit/offset and total; filters by email (exact) and name (contains)"""
    ids = [
        create(http, f"user{n}@example.com", name)["id"]
        for n, name in enumerate(["Ada Lovelace", "Grace Hopper", "Alan Turing", "Margaret 100% Hamilton"])
    ]
    page = http.get(USERS, params={"limit": 2}).json()
    assert [u["id"] for u in page["items"]] == ids[:2] and page["total"] == 4, page
    assert page["limit"] == 2 and page["offset"] == 0
    page = http.get(USERS, params={"limit": 2, "offset": 2}).json()
    assert [u["id"] for u in page["items"]] == ids[2:], page
    assert http.get(USERS).json()["limit"] == 20, "the default page size is 20"
    found = http.get(USERS, params={"name": "hOPPER"}).json()
    assert [u["id"] for u in found["items"]] == [ids[1]] and found["total"] == 1, found
    found = http.get(USERS, params={"name": "a"}).json()
    assert found["total"] == 4, "name finds every name containing the text, any case"
    found = http.get(USERS, params={"email": "USER2@example.com"}).json()
    assert [u["id"] for u in found["items"]] == [ids[2]], found
    assert http.get(USERS, params={"email": "user@example.com"}).json()["total"] == 0, "email is exact"
    assert http.get(USERS, params={"name": "100%"}).json()["total"] == 1
    assert http.get(USERS, params={"name": "%"}).json()["total"] == 1, "% is a literal, not a wildcard"
    assert http.get(USERS, params={"name": "_"}).json()["total"] == 0, "_ is a literal, not a wildcard"


def test_list_bounds_are_422(http, assert_error_body):
    """limit outside 1..100 and a negative or huge offset are 422 naming query.<field>"""
    for params, field in [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"offset": 2**31}, "query.offset"),
        ({"limit": "ten"}, "query.limit"),
    ]:
        error = assert_error_body(http.get(USERS, params=params), 422, "validation_error")
        assert field in details(error), f"{params}: {error['details']}"
    assert http.get(USERS, params={"limit": 100, "offset": 2**31 - 1}).status_code == 200


def test_get_one_and_404(http, assert_error_body):
    """GET /users/<id> answers the user with its ETag, or 404 for an id no user has"""
    user = create(http, "linus@example.com", "Linus")
    response = http.get(f"{USERS}/{user['id']}")
    assert response.status_code == 200 and response.json() == user
    assert response.headers.get("ETag") == '"1"'
    error = assert_error_body(http.get(f"{USERS}/{user['id'] + 1000}"), 404, "not_found")
    assert str(user["id"] + 1000) in error["message"], error


def test_put_replaces_and_patch_changes_only_what_is_sent(http, assert_error_body):
    """PUT needs every field and replaces them; PATCH changes only the fields sent, null refused"""
    user = create(http, "ken@example.com", "Ken")
    path = f"{USERS}/{user['id']}"
    assert_error_body(http.put(path, json={"name": "Ken T"}), 422, "validation_error")
    replaced = http.put(path, json={"email": "KEN@example.org", "name": "Ken Thompson"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["email"] == "ken@example.org" and replaced.json()["name"] == "Ken Thompson"
    assert replaced.headers.get("ETag") == '"2"'
    patched = http.patch(path, json={"name": "Kenneth"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["email"] == "ken@example.org", "PATCH must keep the fields it was not sent"
    assert patched.json()["name"] == "Kenneth" and patched.headers.get("ETag") == '"3"'
    assert_error_body(http.patch(path, json={"name": None}), 422, "validation_error")
    assert_error_body(http.patch(path, json={"role": "admin"}), 422, "validation_error")
    assert http.get(path).json()["name"] == "Kenneth"


def test_stale_if_match_is_412(http, assert_error_body):
    """a write with If-Match naming an old version is 412 and changes nothing; the current one works"""
    user = create(http, "dennis@example.com", "Dennis")
    path = f"{USERS}/{user['id']}"
    assert http.patch(path, json={"name": "D"}, headers={"If-Match": '"1"'}).status_code == 200
    assert_error_body(
        http.patch(path, json={"name": "stale"}, headers={"If-Match": '"1"'}), 412, "precondition_failed"
    )
    assert_error_body(
        http.put(path, json={"email": "dennis@example.com", "name": "stale"}, headers={"If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert_error_body(http.delete(path, headers={"If-Match": '"1"'}), 412, "precondition_failed")
    assert http.get(path).json()["name"] == "D"
    assert http.patch(path, json={"name": "Dennis R"}, headers={"If-Match": '"2"'}).status_code == 200
    assert http.patch(path, json={"name": "any"}, headers={"If-Match": "*"}).status_code == 200


def test_taking_another_users_email_is_409(http, assert_error_body):
    """PUT or PATCH to an email another user has (any case) is 409 email_taken; nothing changes"""
    create(http, "barbara@example.com", "Barbara")
    other = create(http, "frances@example.com", "Frances")
    path = f"{USERS}/{other['id']}"
    assert_error_body(http.patch(path, json={"email": "BARBARA@example.com"}), 409, "email_taken")
    assert_error_body(http.put(path, json={"email": "barbara@example.com", "name": "F"}), 409, "email_taken")
    assert http.get(path).json()["email"] == "frances@example.com"
    assert (
        http.patch(path, json={"email": "frances@example.com"}).status_code == 200
    ), "one's own email is fine"


def test_lost_race_is_409(http, load_service, assert_error_body, monkeypatch):
    """a write whose row changed or went since it was read (StaleDataError, ObjectDeletedError) is 409"""
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

    User = load_service(SERVICE, "src.models.database").User
    user = create(http, "edsger@example.com", "Edsger")
    real_flush = Session.flush
    lost_races = [
        StaleDataError("UPDATE statement on table 'users' expected to update 1 row(s); 0 were matched."),
        ObjectDeletedError(inspect(User(email="gone@example.com", name="Gone"))),
    ]
    for error in lost_races:

        def flush(self, *args, error=error, **kwargs):
            if self.dirty or self.deleted:  # the request's own write: another one got there first
                raise error
            return real_flush(self, *args, **kwargs)

        monkeypatch.setattr(Session, "flush", flush)
        response = http.patch(f"{USERS}/{user['id']}", json={"name": "late"})
        monkeypatch.setattr(Session, "flush", real_flush)
        error_body = assert_error_body(response, 409, "conflict")
        assert str(user["id"]) in error_body["message"], error_body
    assert http.get(f"{USERS}/{user['id']}").json()["name"] == "Edsger"


def test_delete_is_204_then_404(http, assert_error_body):
    """DELETE answers 204 with no body, the user is gone, a second DELETE is 404"""
    user = create(http, "alan@example.com", "Alan")
    path = f"{USERS}/{user['id']}"
    response = http.delete(path)
    assert response.status_code == 204 and response.content == b"", (response.status_code, response.text)
    assert_error_body(http.get(path), 404, "not_found")
    assert_error_body(http.delete(path), 404, "not_found")
    assert http.get(USERS).json()["total"] == 0
    create(http, "alan@example.com", "Alan again")  # the email is free again


def test_ids_out_of_bounds_are_422(http, assert_error_body):
    """ids 0 and 2**31 are 422 naming path.user_id for GET, PUT, PATCH and DELETE"""
    for ident in [0, 2**31, 2**64]:
        path = f"{USERS}/{ident}"
        for response in [
            http.get(path),
            http.put(path, json={"email": "a@example.com", "name": "A"}),
            http.patch(path, json={"name": "A"}),
            http.delete(path),
        ]:
            error = assert_error_body(response, 422, "validation_error")
            assert "path.user_id" in details(error), error["details"]


def test_openapi_documents_every_user_route(app, http):
    """/openapi.json documents every users route and method, with POST 201 and DELETE 204"""
    document = http.get("/openapi.json").json()
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(USERS):
            path = rule.rule.replace(f"<int(min=1, max={2**31 - 1}):user_id>", "{user_id}")
            path = path.replace("<int:user_id>", "{user_id}")
            served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == {(USERS, "GET"), (USERS, "POST")} | {
        (f"{USERS}/{{user_id}}", m) for m in ("GET", "PUT", "PATCH", "DELETE")
    }, f"served: {sorted(served)}"
    assert served <= documented, f"served but not documented: {sorted(served - documented)}"
    operations = document["paths"]
    assert "201" in operations[USERS]["post"]["responses"]
    assert "409" in operations[USERS]["post"]["responses"]
    assert "204" in operations[f"{USERS}/{{user_id}}"]["delete"]["responses"]
    assert "412" in operations[f"{USERS}/{{user_id}}"]["patch"]["responses"]


def body_schema(document, path, method):
    """The properties of an operation's JSON body, its `$ref` followed."""
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    while "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema["properties"]


# Addresses the document and the service must judge alike: some email-validator refuses, some it
# accepts, some only a pattern that promises too little or too much would misjudge.
ADDRESSES = [
    "ada@example.com",
    "O'Neil+tag@Mail.Example.ORG",
    "a@b.co",
    "x@1.example.io",
    "a@b",
    "a@example.test",
    "a@mail.LOCAL",
    "a@ab--c.com",
    "a@-b.com",
    "a..b@example.com",
    "a@" + "b" * 64 + ".com",
    '"quoted"@example.com',
    "ñ@example.com",
    "a@example.c1",
]


def test_the_document_states_the_rules_the_service_enforces(http, load_service):
    """every email the document's pattern allows is accepted, every other refused; PATCH never takes null"""
    from pydantic import ValidationError

    UserCreate = load_service(SERVICE, "src.models.user").UserCreate
    document = http.get("/openapi.json").json()
    email = body_schema(document, USERS, "post")["email"]
    assert "pattern" in email, f"the email's schema states no pattern beside its format: {email}"
    for address in ADDRESSES:
        promised = re.search(email["pattern"], address) is not None
        try:
            UserCreate.model_validate({"email": address, "name": "Someone"})
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == promised, (
            f"{address!r}: the document's pattern {'allows' if promised else 'refuses'} it, "
            f"the service {'accepts' if accepted else 'refuses'} it"
        )
    update = body_schema(document, f"{USERS}/{{user_id}}", "patch")
    for field in ("email", "name"):
        options = update[field].get("anyOf", [update[field]])
        assert all(
            option.get("type") != "null" for option in options
        ), f"PATCH's {field} may be null in the document, and the service refuses null: {update[field]}"
