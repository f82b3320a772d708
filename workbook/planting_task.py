"""The bugs planted into copies of task-service (notebook 12 and checkpoints task-planted-bugs,
task-tests).

Each is a `workbook.planting.Mutation`: the file it edits, the bug in words, and a pure function
from the file's source to the source with the bug, raising CannotPlant when the code is shaped
differently from what it looks for. Running them is `workbook.planting.run_mutants`, as for
user-service (`workbook.planting_user`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from .planting import CannotPlant, Mutation, argument, first_statement, insert_before, route


def delete_deletes_nothing(source: str) -> str:
    function = route(ast.parse(source), "delete")
    start, end = first_statement(function), function.body[-1]
    if start is function.body[0] and isinstance(start, ast.Expr):
        raise CannotPlant(f"a body in {function.name}()")
    lines = source.splitlines(keepends=True)
    first = lines[start.lineno - 1]
    indent = first[: len(first) - len(first.lstrip())]
    assert end.end_lineno is not None
    lines[start.lineno - 1 : end.end_lineno] = [f"{indent}return None  # planted: nothing is deleted\n"]
    return "".join(lines)


def _status_filter(source: str) -> tuple[ast.FunctionDef, str]:
    function = route(ast.parse(source), "get", collection=True)
    name = argument(
        function,
        lambda arg, described: arg.arg in ("status", "status_filter")
        or re.search(r"alias\s*=\s*['\"]status['\"]", described) is not None,
        'the status filter (named status, or with alias="status")',
    )
    return function, name


def status_filter_ignored(source: str) -> str:
    function, name = _status_filter(source)
    return insert_before(source, first_statement(function), f"{name} = None  # planted")


def _patch_body(source: str) -> tuple[ast.FunctionDef, str]:
    function = route(ast.parse(source), "patch")
    name = argument(
        function,
        lambda arg, described: "Update" in described.split("=")[0] or arg.arg == "payload",
        "the PATCH body (annotated with TaskUpdate, or named payload)",
    )
    return function, name


def patch_changes_nothing(source: str) -> str:
    function, name = _patch_body(source)
    return insert_before(source, first_statement(function), f"{name} = {name}.model_construct()  # planted")


def patch_ignores_null(source: str) -> str:
    """PATCH {"description": null} leaves the description as it was: the nulls sent are dropped."""
    function, name = _patch_body(source)
    rebuilt = f"type({name}).model_validate({name}.model_dump(exclude_unset=True, exclude_none=True))"
    return insert_before(source, first_statement(function), f"{name} = {rebuilt}  # planted")


def _parameters(function: ast.FunctionDef) -> list[str]:
    return [arg.arg for arg in function.args.args + function.args.kwonlyargs]


def call_route(function: ast.FunctionDef, **overrides: str) -> str:
    """A call of the route function itself, each parameter passed by name (overrides: name -> code)."""
    wait = "await " if isinstance(function, ast.AsyncFunctionDef) else ""
    arguments = ", ".join(f"{name}={overrides.get(name, name)}" for name in _parameters(function))
    return f"{wait}{function.name}({arguments})"


def rewrite_answer(source: str, function: ast.FunctionDef, then: list[str]) -> str:
    """The route's final `return <answer>` becomes `planted_answer = <answer>` followed by `then`
    (lines that end in a return): the bug is in what the client is told, not in what is stored."""
    last = function.body[-1]
    if not isinstance(last, ast.Return) or last.value is None or last.end_lineno is None:
        raise CannotPlant(f"a `return ...` that ends {function.name}()")
    lines = source.splitlines(keepends=True)
    first = lines[last.lineno - 1]
    indent = first[: len(first) - len(first.lstrip())]
    answer = ast.get_source_segment(source, last.value)
    planted = [f"{indent}planted_answer = ({answer})  # planted\n", *(f"{indent}{line}\n" for line in then)]
    lines[last.lineno - 1 : last.end_lineno] = planted
    return "".join(lines)


def patch_answers_old_value_for_null(source: str) -> str:
    """PATCH {"description": null} stores the null but answers the description it had: only a test
    that reads the answer (not only the database) sees it."""
    tree = ast.parse(source)
    function, name = _patch_body(source)
    read = route(tree, "get", collection=False)
    missing = sorted(set(_parameters(read)) - set(_parameters(function)))
    if missing:
        raise CannotPlant(f"the GET /{{id}} route's parameters {missing} among the PATCH route's")
    planted = rewrite_answer(source, function, [
        f"return planted_answer.model_copy(update={{field: getattr(planted_before, field) for field in "
        f"{name}.model_fields_set if getattr({name}, field) is None}})"
    ])  # fmt: skip
    function, _ = _patch_body(planted)
    return insert_before(
        planted, first_statement(function), f"planted_before = {call_route(read)}  # planted"
    )


def patch_answers_null_but_keeps_the_value(source: str) -> str:
    """PATCH {"description": null} answers the null but stores nothing: the nulls sent are dropped
    before the update and put back into the answer, so only a test that reads the database sees it."""
    planted = rewrite_answer(source, _patch_body(source)[0], [
        "return planted_answer.model_copy(update=dict.fromkeys(planted_nulls))"
    ])  # fmt: skip
    function, name = _patch_body(planted)
    nulls = f"planted_nulls = [f for f in {name}.model_fields_set if getattr({name}, f) is None]  # planted"
    return insert_before(patch_ignores_null(planted), first_statement(function), nulls)


def patch_null_empties_the_tags(source: str) -> str:
    """A PATCH that sends a null also empties the tags, a field it left out: only a test that checks
    what the PATCH should leave alone sees it."""
    function, name = _patch_body(source)
    sent = f"{name}.model_dump(exclude_unset=True)"
    emptied = f'{name} = type({name}).model_validate({{**{sent}, "tags": []}})'
    return insert_before(
        source, first_statement(function), f"if None in {sent}.values(): {emptied}  # planted"
    )


def _filtered_list(source: str, keep: str) -> str:
    """GET /tasks?status=... answers the unfiltered list's `keep` (its items or its total) in place of
    the filtered one's: the route asks itself again without the status."""
    function, name = _status_filter(source)
    return rewrite_answer(source, function, [
        f"if {name} is not None:",
        f"    planted_unfiltered = {call_route(function, **{name: 'None'})}",
        f"    planted_answer = planted_answer.model_copy(update={{{keep!r}: planted_unfiltered.{keep}}})",
        "return planted_answer",
    ])  # fmt: skip


def title_keyword(source: str, keyword: str, change: Callable[[str], str]) -> str:
    """Rewrite `keyword=<value>` wherever the title's type or field is declared."""
    tree = ast.parse(source)
    edits: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        if not any(name.lower() == "title" for name in names):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.keyword) and inner.arg == keyword:
                edits.append(inner.value)
    if not edits:
        raise CannotPlant(f"{keyword}=... where the title is declared (Title = Annotated[...] or title: ...)")
    lines = source.splitlines(keepends=True)
    for value in sorted(edits, key=lambda v: (v.lineno, v.col_offset), reverse=True):
        if value.end_lineno != value.lineno or value.end_col_offset is None:
            raise CannotPlant(f"{keyword}=... written on one line")
        line = lines[value.lineno - 1]
        old = line[value.col_offset : value.end_col_offset]
        lines[value.lineno - 1] = line[: value.col_offset] + change(old) + line[value.end_col_offset :]
    return "".join(lines)


def empty_title_accepted(source: str) -> str:
    """min_length=0 on the title, and its not-blank pattern (when it has one) dropped: the pattern
    refuses "" too, so lowering the length alone would plant no bug."""
    planted = title_keyword(source, "min_length", lambda old: "0")
    try:
        return title_keyword(planted, "pattern", lambda old: "None")
    except CannotPlant:
        return planted


TASK_SERVICE: dict[str, Mutation] = {
    "delete": Mutation("src/api/routes.py", "DELETE answers 204 but deletes nothing", delete_deletes_nothing),
    "status": Mutation(
        "src/api/routes.py", "GET /tasks?status=... ignores the status", status_filter_ignored
    ),
    "patch": Mutation("src/api/routes.py", "PATCH answers 200 but changes nothing", patch_changes_nothing),
    "patch-null": Mutation(
        "src/api/routes.py", "PATCH ignores a null: a field sent as null keeps its value", patch_ignores_null
    ),
    "patch-null-answer": Mutation(
        "src/api/routes.py",
        "PATCH stores a null but answers the old value",
        patch_answers_old_value_for_null,
    ),
    "patch-null-unsaved": Mutation(
        "src/api/routes.py",
        "PATCH answers a null but keeps the old value stored",
        patch_answers_null_but_keeps_the_value,
    ),
    "patch-null-tags": Mutation(
        "src/api/routes.py",
        "PATCH sending a null also empties the tags",
        patch_null_empties_the_tags,
    ),
    "empty-title": Mutation(
        "src/models/task.py",
        "an empty title is accepted",
        lambda source: empty_title_accepted(source),
    ),
    "long-title": Mutation(
        "src/models/task.py",
        "a title one character too long is accepted",
        lambda source: title_keyword(source, "max_length", lambda old: f"({old}) + 1"),
    ),
}

# Half of a status filter: notebook 10's test of the filter must check the items and the total.
LIST_STATUS: dict[str, Mutation] = {
    "status-items": Mutation(
        "src/api/routes.py",
        "GET /tasks?status=... counts the filtered tasks but lists every task",
        lambda source: _filtered_list(source, "items"),
    ),
    "status-total": Mutation(
        "src/api/routes.py",
        "GET /tasks?status=... lists the filtered tasks but counts every task",
        lambda source: _filtered_list(source, "total"),
    ),
}
