"""The bugs planted into copies of user-service (notebook 21, checkpoint user-planted-bugs).

Each is a `workbook.planting.Mutation`: the file it edits, the bug in words, and a pure function
from the file's source to the source with the bug, raising CannotPlant when the code is shaped
differently from what it looks for. Running them is `workbook.planting.run_mutants`, as for
task-service: only the bugs are Flask's."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from .planting import CannotPlant, Mutation, first_statement, insert_before, route

Edit = tuple[int, int, int, str]  # (line, start column, end column, replacement), one line each


def apply(source: str, edits: list[Edit], what: str) -> str:
    """`source` with each edit made (right to left, so earlier columns stay valid)."""
    if not edits:
        raise CannotPlant(what)
    lines = source.splitlines(keepends=True)
    for number, start, end, replacement in sorted(edits, reverse=True):
        line = lines[number - 1]
        lines[number - 1] = line[:start] + replacement + line[end:]
    return "".join(lines)


def on_one_line(node: ast.AST, replacement: str) -> Edit:
    lineno, end_lineno = getattr(node, "lineno"), getattr(node, "end_lineno")
    start, end = getattr(node, "col_offset"), getattr(node, "end_col_offset")
    if end_lineno != lineno or end is None:
        raise CannotPlant(f"{ast.unparse(node)} written on one line")
    return lineno, start, end, replacement


def calls(tree: ast.AST, method: str) -> Iterator[ast.Call]:
    """Every call of `<something>.<method>(...)` in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == method:
                yield node


def function(tree: ast.Module, name: str) -> ast.FunctionDef:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise CannotPlant(f"a function named {name}()")


def created_is_200(source: str) -> str:
    """The POST view answers 200 where it answered 201."""
    view = route(ast.parse(source), "post")
    edits = [
        on_one_line(node, "200")
        for node in ast.walk(view)
        if isinstance(node, ast.Constant) and node.value == 201
    ]
    return apply(source, edits, f"the status 201 written in {view.name}()")


def index_not_unique(source: str) -> str:
    """Every `Index(..., unique=True)` loses its uniqueness: the database accepts duplicates."""
    edits = [
        on_one_line(keyword.value, "False")
        for call in ast.walk(ast.parse(source))
        if isinstance(call, ast.Call) and ast.unparse(call.func).split(".")[-1] == "Index"
        for keyword in call.keywords
        if keyword.arg == "unique"
    ]
    return apply(source, edits, "Index(..., unique=True) (the unique index on the email)")


def email_keeps_its_case(source: str) -> str:
    """normalize_email stops lower-casing: `Ada@example.com` is stored as it was sent."""
    normalize = function(ast.parse(source), "normalize_email")
    edits = [
        on_one_line(call, ast.unparse(call.func.value))
        for call in calls(normalize, "lower")
        if isinstance(call.func, ast.Attribute)
    ]
    return apply(source, edits, ".lower() in normalize_email()")


def http_errors_are_html(source: str) -> str:
    """The handler of Werkzeug's HTTP errors hands them back: Flask renders its HTML page."""
    tree = ast.parse(source)
    handlers = [
        call.args[1].id
        for call in calls(tree, "register_error_handler")
        if len(call.args) == 2
        and ast.unparse(call.args[0]).endswith("HTTPException")
        and isinstance(call.args[1], ast.Name)
    ]
    if not handlers:
        raise CannotPlant("register_error_handler(HTTPException, <the handler>)")
    handler = function(tree, handlers[0])
    if not handler.args.args:
        raise CannotPlant(f"a parameter of {handler.name}() (the error it answers)")
    error = handler.args.args[0].arg
    return insert_before(source, first_statement(handler), f"return {error}  # planted")


def patch_resets_the_rest(source: str) -> str:
    """PATCH writes every field of its model: those not sent become null."""
    view = route(ast.parse(source), "patch")
    edits = [
        on_one_line(call, f"{ast.unparse(call.func)}()")
        for call in calls(view, "model_dump")
        if any(keyword.arg == "exclude_unset" for keyword in call.keywords)
    ]
    return apply(source, edits, f".model_dump(exclude_unset=True) in {view.name}()")


def session_call_dropped(method: str) -> Callable[[str], str]:
    """Every statement `<session>.<method>()` replaced by `pass`."""

    def plant(source: str) -> str:
        edits = [
            on_one_line(node.value, "pass  # planted")
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == method
        ]
        return apply(source, edits, f"a statement <session>.{method}()")

    return plant


USER_SERVICE: dict[str, Mutation] = {
    "created-200": Mutation("src/api/users.py", "POST answers 200 instead of 201", created_is_200),
    "duplicate-email": Mutation(
        "src/models/database.py",
        "a second user with the same email is accepted (the index is not unique)",
        index_not_unique,
    ),
    "html-errors": Mutation(
        "src/api/errors.py", "404, 405, 400 and 415 are Flask's HTML pages", http_errors_are_html
    ),
    "patch-resets": Mutation(
        "src/api/users.py", "PATCH sets the fields it was not sent to null", patch_resets_the_rest
    ),
    "never-committed": Mutation(
        "src/database/session.py",
        "the request's session is never committed: a 201 for a user never stored",
        session_call_dropped("commit"),
    ),
    "email-case": Mutation(
        "src/models/user.py",
        "emails keep their case: Ada@example.com is stored as sent",
        email_keeps_its_case,
    ),
    "never-closed": Mutation(
        "src/database/session.py",
        "the request's session is never closed: its connection is never given back",
        session_call_dropped("close"),
    ),
}
