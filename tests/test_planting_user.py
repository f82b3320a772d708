"""workbook.planting_user: user-service's mutations on the shapes of code notebooks 18 and 19 write."""

from __future__ import annotations

import ast

import pytest

from workbook.planting import CannotPlant
from workbook.planting_user import USER_SERVICE, apply, on_one_line

VIEWS = '''
from flask import Blueprint

blueprint = Blueprint("users", __name__)


@blueprint.post("")
def create_user():
    """Create a user; 201."""
    response = answer(user, 201)
    return response


@blueprint.patch(USER)
def update_user(user_id):
    for field, value in payload.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    return answer(user)
'''

DATABASE = """
from sqlalchemy import Index, func

Index("uq_users_email_lower", func.lower(User.email), unique=True)
Index("ix_users_name", "name")
"""

MODELS = """
def normalize_email(value):
    checked = validate_email(value)
    return checked.normalized.lower()


def other(value):
    return value.lower()
"""

ERRORS = '''
from werkzeug.exceptions import HTTPException


def http_error(error):
    """Werkzeug's errors as the error body."""
    return error_response(error.code, error.description)


def install_error_handlers(app):
    app.register_error_handler(HTTPException, http_error)
'''

SESSION = """
def commit_session(response):
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    return response


def close_session(error):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
"""


def planted(name: str, source: str) -> str:
    result = USER_SERVICE[name].plant(source)
    ast.parse(result)
    return result


def test_created_is_200() -> None:
    result = planted("created-200", VIEWS)
    assert "answer(user, 200)" in result and '"""Create a user; 201."""' in result


def test_index_not_unique() -> None:
    result = planted("duplicate-email", DATABASE)
    assert "unique=False" in result and "unique=True" not in result


def test_email_keeps_its_case_only_in_normalize_email() -> None:
    result = planted("email-case", MODELS)
    assert "return checked.normalized\n" in result and "return value.lower()" in result


def test_http_errors_are_html() -> None:
    result = planted("html-errors", ERRORS)
    lines = result.splitlines()
    docstring = lines.index('    """Werkzeug\'s errors as the error body."""')
    assert lines[docstring + 1] == "    return error  # planted"


def test_patch_resets_the_rest() -> None:
    result = planted("patch-resets", VIEWS)
    assert "payload.model_dump().items()" in result and "exclude_unset" not in result


@pytest.mark.parametrize(("name", "method"), [("never-committed", "commit"), ("never-closed", "close")])
def test_session_call_dropped(name: str, method: str) -> None:
    result = planted(name, SESSION)
    assert f"session.{method}()" not in result and "pass  # planted" in result
    assert "session.rollback()" in result


@pytest.mark.parametrize(
    ("name", "source", "looked_for"),
    [
        ("created-200", VIEWS.replace("201)", "status)"), "the status 201"),
        ("duplicate-email", "Index('ix', 'name')\n", "unique=True"),
        ("email-case", "def validate(value):\n    return value\n", "normalize_email()"),
        ("email-case", "def normalize_email(value):\n    return value\n", ".lower()"),
        ("html-errors", "def http_error(error):\n    return error\n", "register_error_handler"),
        (
            "html-errors",
            "def http_error():\n    return 1\n\napp.register_error_handler(HTTPException, http_error)\n",
            "a parameter of http_error()",
        ),
        ("html-errors", "app.register_error_handler(HTTPException, missing)\n", "missing()"),
        ("patch-resets", VIEWS.replace("exclude_unset=True", ""), "model_dump(exclude_unset=True)"),
        ("never-committed", "def f():\n    return 1\n", "commit()"),
    ],
)
def test_code_shaped_otherwise_cannot_be_planted(name: str, source: str, looked_for: str) -> None:
    with pytest.raises(CannotPlant, match=looked_for.replace("(", r"\(").replace(")", r"\)")):
        USER_SERVICE[name].plant(source)


def test_an_edit_spanning_lines_cannot_be_planted() -> None:
    node = ast.parse("x = [\n    1,\n]\n").body[0].value  # type: ignore[attr-defined]
    with pytest.raises(CannotPlant, match="on one line"):
        on_one_line(node, "2")


def test_edits_on_one_line_are_applied_right_to_left() -> None:
    assert apply("a b c\n", [(1, 0, 1, "x"), (1, 4, 5, "yy")], "nothing") == "x b yy\n"
