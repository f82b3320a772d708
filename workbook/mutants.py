"""Wrong variants of a reference answer: small mutations of the code inside an exercise region.

In Python, each operator edits the source text of one syntax-tree node found with `ast`, so everything
outside the edited node (the rest of the region, the rest of the cell, comments and layout) stays
byte-equal: a variant differs from the reference by the wrong answer alone, not by formatting. A variant
that does not compile is dropped, and so is one whose text equals an earlier variant's.

Other files get the mistakes a learner makes in them, edited as text (workbook.mutants_text; `derive`
picks by the file's name), and a TOML or INI variant that does not parse is dropped."""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath
from typing import Iterator

from .mutants_text import parses, text_mutations
from .mutation import OPERATORS, Mutation, short

FLIPPED = {
    ast.Lt: (r"<(?!=)", "<="),
    ast.LtE: (r"<=", "<"),
    ast.Gt: (r">(?!=)", ">="),
    ast.GtE: (r">=", ">"),
    ast.Eq: (r"==", "!="),
    ast.NotEq: (r"!=", "=="),
    ast.In: (r"\bin\b", "not in"),
    ast.NotIn: (r"\bnot\s+in\b", "in"),
    ast.Is: (r"\bis\b", "is not"),
    ast.IsNot: (r"\bis\s+not\b", "is"),
}
SIMPLE = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)


class _Text:
    """The source as lines, with ast's (line, UTF-8 byte column) positions turned into offsets."""

    def __init__(self, source: str):
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, byte_column: int) -> int:
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end]

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]

    def whole_lines(self, first: int, last: int, start: int, end: int) -> tuple[int, int] | None:
        """The offsets of lines first..last when [start, end) covers them but for indentation and a
        trailing comment; None when the span shares a line with other code."""
        before = self.source[self.line_start(first) : start]
        after = self.source[end : self.starts[last]]
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            return None
        return self.line_start(first), self.starts[last]


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _wrapped(text: str, node: ast.expr) -> str:
    return text if isinstance(node, SIMPLE) else f"({text})"


class _Deriver:
    def __init__(self, source: str, first: int, last: int):
        self.text = _Text(source)
        self.tree = ast.parse(source)
        self.parents = _parents(self.tree)
        self.first, self.last = first, last  # the region's lines, 1-based, inclusive

    def inside(self, node: ast.AST) -> bool:
        lineno = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None)
        return lineno is not None and end is not None and self.first <= lineno and end <= self.last

    def edit(self, operator: str, start: int, end: int, new: str, before: str | None = None) -> Mutation:
        source = self.text.source
        line = source.count("\n", 0, start) + 1
        column = start - self.text.line_start(line)
        old = source[start:end]
        return Mutation(
            line, column, operator, short(before or old), short(new), source[:start] + new + source[end:]
        )

    def nodes(self) -> Iterator[ast.AST]:
        for node in ast.walk(self.tree):
            if self.inside(node) and not self._in_fstring(node):
                yield node

    def _in_fstring(self, node: ast.AST) -> bool:
        parent = self.parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.JoinedStr):
                return True
            parent = self.parents.get(parent)
        return False

    def all(self) -> Iterator[Mutation]:
        for node in self.nodes():
            if isinstance(node, ast.Compare):
                yield from self.compare(node)
            elif isinstance(node, ast.Constant):
                yield from self.constant(node)
            elif isinstance(node, ast.Call):
                yield from self.drop_argument(node)
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                yield self.edit(
                    "remove-not",
                    *self.text.span(node),
                    _wrapped(self.text.segment(node.operand), node.operand),
                )
            elif isinstance(node, ast.IfExp):
                body, test, orelse = (self.text.segment(part) for part in (node.body, node.test, node.orelse))
                yield self.edit("swap-branches", *self.text.span(node), f"{orelse} if {test} else {body}")
            elif isinstance(node, ast.Return) and node.value is not None:
                if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                    yield self.edit("return-none", *self.text.span(node.value), "None")
            if isinstance(node, (ast.If, ast.While, ast.Assert)) and self.inside(node.test):
                if not (isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)):
                    text = self.text.segment(node.test)
                    yield self.edit("add-not", *self.text.span(node.test), f"not {_wrapped(text, node.test)}")
            if isinstance(node, ast.If) and node.orelse:
                yield from self.swap_branches(node)
            if isinstance(node, ast.stmt):
                yield from self.drop_statement(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from self.drop_decorators(node)

    def compare(self, node: ast.Compare) -> Iterator[Mutation]:
        lefts = [node.left, *node.comparators[:-1]]
        for op, left, right in zip(node.ops, lefts, node.comparators):
            pattern, replacement = FLIPPED[type(op)]
            start, end = self.text.span(left)[1], self.text.span(right)[0]
            between = self.text.source[start:end]
            match = re.search(pattern, between)
            if match:
                yield self.edit("compare", start + match.start(), start + match.end(), replacement)

    def constant(self, node: ast.Constant) -> Iterator[Mutation]:
        if _is_docstring(self.parents.get(node, node)):
            return  # a changed docstring is the same program
        value = node.value
        start, end = self.text.span(node)
        replacements: list[str] = []
        if isinstance(value, bool):
            replacements = [repr(not value)]
        elif isinstance(value, int):
            replacements = [repr(value + 1), repr(value - 1)]
        elif isinstance(value, float):
            replacements = [repr(value + 1)]
        elif isinstance(value, (str, bytes)) and value:
            replacements = ['""' if isinstance(value, str) else 'b""']
        for new in replacements:
            yield self.edit("constant", start, end, new)

    def drop_argument(self, node: ast.Call) -> Iterator[Mutation]:
        items: list[ast.AST] = sorted([*node.args, *node.keywords], key=self.text.span)
        for index, item in enumerate(items):
            start, end = self.text.span(item)
            if index + 1 < len(items):
                cut = (start, self.text.span(items[index + 1])[0])
            elif index:
                cut = (self.text.span(items[index - 1])[1], end)
            else:
                cut = (start, end)
            yield self.edit("drop-argument", *cut, "", before=self.text.source[start:end])

    def swap_branches(self, node: ast.If) -> Iterator[Mutation]:
        start, end = self.text.span(node)
        if self.text.source[start:end].startswith("elif"):
            return  # the tail of an if/elif chain: its own `if` node swaps it
        indent = " " * node.col_offset
        swapped = ast.If(test=node.test, body=node.orelse, orelse=node.body)
        lines = ast.unparse(swapped).splitlines()
        new = "\n".join(lines[:1] + [indent + line for line in lines[1:]])
        yield self.edit(
            "swap-branches", start, end, new, before=f"if {ast.unparse(node.test)}: ... else: ..."
        )

    def drop_statement(self, node: ast.stmt) -> Iterator[Mutation]:
        parent = self.parents.get(node)
        if parent is None or _is_docstring(node) or isinstance(node, ast.Pass):
            return
        block = next(
            (
                getattr(parent, name)
                for name in ("body", "orelse", "finalbody", "handlers")
                if node in getattr(parent, name, [])
            ),
            None,
        )
        if not block or len(block) < 2:
            return  # the only statement of its block: dropping it does not parse
        decorators = getattr(node, "decorator_list", [])
        start, end = self.text.span(node)
        if decorators:
            start = self.text.source.rfind("@", 0, self.text.span(decorators[0])[0])
        first = self.text.source.count("\n", 0, start) + 1
        lines = self.text.whole_lines(first, node.end_lineno or node.lineno, start, end)
        if lines:
            yield self.edit("drop-statement", *lines, "", before=self.text.source[start:end])

    def drop_decorators(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> Iterator[Mutation]:
        for decorator in node.decorator_list:
            start, end = self.text.span(decorator)
            at = self.text.source.rfind("@", 0, start)
            lines = self.text.whole_lines(decorator.lineno, decorator.end_lineno or decorator.lineno, at, end)
            if at >= 0 and lines:
                yield self.edit("drop-decorator", *lines, "", before=self.text.source[at:end])


def kind(filename: str) -> str:
    """Which operators fit the file: "python", "dockerfile", "toml", "ini" or "lines"."""
    path = PurePosixPath(filename)
    if path.suffix in (".py", ".pyi") or path.name.startswith("<"):
        return "python"
    if path.name in ("Dockerfile", "Containerfile") or path.name.startswith(
        ("Dockerfile.", "Containerfile.")
    ):
        return "dockerfile"
    if path.suffix in (".dockerfile", ".containerfile"):
        return "dockerfile"
    if path.suffix == ".toml":
        return "toml"
    if path.suffix in (".ini", ".cfg"):
        return "ini"
    return "lines"


def derive(source: str, first: int, last: int, filename: str = "<region>") -> list[Mutation]:
    """The variants of `source` that each change one thing inside lines first..last (1-based,
    inclusive), in a stable order: by line, then column, then operator. Python variants compile;
    TOML and INI variants parse (when the reference does)."""
    file_kind = kind(filename)
    found: dict[str, Mutation] = {}
    if file_kind != "python":
        check = parses(source, file_kind)
        for mutation in text_mutations(source, first, last, filename, file_kind):
            if mutation.source == source or mutation.source in found:
                continue
            if check and not parses(mutation.source, file_kind):
                continue
            found[mutation.source] = mutation
        order = {name: index for index, name in enumerate(OPERATORS)}
        return sorted(found.values(), key=lambda m: (m.line, m.column, order[m.operator]))
    try:
        deriver = _Deriver(source, first, last)
    except SyntaxError:
        return []
    for mutation in deriver.all():
        if mutation.source == source or mutation.source in found:
            continue
        try:
            compile(mutation.source, filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            continue
        found[mutation.source] = mutation
    order = {name: index for index, name in enumerate(OPERATORS)}
    return sorted(found.values(), key=lambda m: (m.line, m.column, order[m.operator]))
