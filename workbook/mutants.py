"""Wrong variants of a reference answer: small mutations of the code inside an exercise region.

In Python, each operator edits the source text of one syntax-tree node found with `ast`, so everything
outside the edited node (the rest of the region, the rest of the cell, comments and layout) stays
byte-equal: a variant differs from the reference by the wrong answer alone, not by formatting. A variant
that does not compile is dropped, and so is one whose text equals an earlier variant's.

Other files get the mistakes a learner makes in them, edited as text one instruction, entry or line at
a time (`derive` picks by the file's name): a Dockerfile loses an instruction, runs as root, copies in
the other order, takes an unpinned base image, lets pip keep its cache; a TOML or INI file loses an entry
or has a value changed (a TOML variant that does not parse is dropped); any other file (.gitignore,
.dockerignore, requirements, Makefile, YAML, Markdown) loses a line."""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Iterator

# The order operators are tried in on one line; part of every variant's stable name.
OPERATORS = (
    "compare",
    "constant",
    "drop-statement",
    "drop-argument",
    "swap-branches",
    "remove-not",
    "add-not",
    "return-none",
    "drop-decorator",
    # Not Python: Dockerfiles, TOML and INI files, and line-based files.
    "drop-line",
    "drop-env",
    "run-as-root",
    "unpin-base",
    "drop-no-cache-dir",
    "drop-from",
    "swap-copy",
    "change-value",
    "drop-bound",
)

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


@dataclass(frozen=True)
class Mutation:
    line: int  # 1-based line of the source where the edit starts
    column: int  # character column there, for a stable order
    operator: str
    before: str  # the reference's text of the edited span (its first line, shortened)
    after: str  # the variant's text in its place
    source: str  # the whole source with the edit applied


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


def _short(text: str, width: int = 70) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    more = len(text.strip().splitlines()) > 1
    if len(first) > width:
        return first[: width - 3] + "..."
    return first + (" ..." if more else "")


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
            line, column, operator, _short(before or old), _short(new), source[:start] + new + source[end:]
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


# A requirement with its version specifiers, in requirements.txt or a TOML string: "name[extra]>=1,<2".
REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?)\s*(?P<bound>(===?|[<>!~]=?)[^\s;#\"']*)"
)
TOML_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.\-\"' ]+?)\s*=\s*(?P<rest>.*)$")
INI_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[^=:#;\[\s][^=:]*?)\s*[=:]\s*(?P<rest>.*)$")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _comment(line: str) -> bool:
    text = line.strip()
    return not text or text.startswith(("#", "<!--", ";", "//"))


def _code_and_comment(text: str) -> tuple[str, str]:
    """A TOML/INI value split before its `#` comment, strings respected."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == "\\" and quote == '"':
                continue
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return text[:index], text[index:]
    return text, ""


def _depth(text: str) -> int:
    """How many brackets `text` leaves open (strings and comments skipped)."""
    code, _ = _code_and_comment(text)
    code = re.sub(r"\"(\\.|[^\"\\])*\"|'[^']*'", "", code)
    return sum(code.count(c) for c in "[{") - sum(code.count(c) for c in "]}")


def _changed(value: str) -> list[str]:
    """A scalar value's wrong neighbours: a number one up and one down, a flipped boolean, an empty string."""
    text = value.strip()
    if text in ("true", "false"):
        return ["false" if text == "true" else "true"]
    if NUMBER.match(text):
        decimals = len(text.partition(".")[2])
        found = []
        for step in (1, -1):
            number = float(text) + step
            if number < 0 and not text.startswith("-"):
                continue  # a count or a size below zero is refused, not a plausible answer
            found.append(f"{number:.{decimals}f}")
        return found
    if len(text) > 2 and text[0] == text[-1] and text[0] in "\"'":
        return [text[0] * 2]
    return []


class _Lines:
    """The source as lines, edited one line range at a time."""

    def __init__(self, source: str, first: int, last: int):
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.first, self.last = first, min(last, len(self.lines))  # 1-based, inclusive

    def indexes(self) -> range:
        return range(self.first - 1, self.last)

    def edit(
        self,
        operator: str,
        start: int,
        end: int,
        new: list[str],
        before: str,
        column: int = 0,
        after: str | None = None,
    ) -> Mutation:
        """Lines start..end (0-based, end excluded) replaced by `new`."""
        source = "".join(self.lines[:start] + new + self.lines[end:])
        shown = "".join(new) if after is None else after
        return Mutation(start + 1, column, operator, _short(before), _short(shown), source)

    def drop(self, start: int, end: int) -> Mutation:
        return self.edit("drop-line", start, end, [], "".join(self.lines[start:end]))

    def substitute(self, operator: str, index: int, span: tuple[int, int], new: str) -> Mutation:
        line = self.lines[index]
        return self.edit(operator, index, index + 1, [line[: span[0]] + new + line[span[1] :]],
                         line[span[0] : span[1]], span[0], new)  # fmt: skip


def _requirement_bound(lines: _Lines, index: int, text_start: int, text: str) -> Iterator[Mutation]:
    """`name>=1,<2` without its bounds: the dependency unpinned."""
    match = REQUIREMENT.match(text)
    if match:
        spec = re.match(r"[^;#\"'\s]*(\s*,\s*(===?|[<>!~]=?)[^\s;#\"',]*)*", text[match.start("bound") :])
        end = match.start("bound") + (spec.end() if spec else 0)
        start = match.end("name")
        yield lines.substitute("drop-bound", index, (text_start + start, text_start + end), "")


def _line_file(source: str, first: int, last: int, path: str) -> Iterator[Mutation]:
    lines = _Lines(source, first, last)
    requirements = PurePosixPath(path).name.startswith("requirements") and path.endswith((".txt", ".in"))
    for index in lines.indexes():
        line = lines.lines[index]
        if _comment(line):
            continue
        yield lines.drop(index, index + 1)
        if requirements:
            indent = len(line) - len(line.lstrip())
            yield from _requirement_bound(lines, index, indent, line[indent:])


def _keyed_file(source: str, first: int, last: int, key: re.Pattern[str]) -> Iterator[Mutation]:
    lines = _Lines(source, first, last)
    depth = sum(_depth(line) for line in lines.lines[: lines.first - 1])  # a region may open in an array
    for index in lines.indexes():
        line = lines.lines[index]
        opened, depth = depth, depth + _depth(line)
        stripped = line.strip()
        if _comment(line) or stripped.startswith(("]", "}")):
            continue
        match = key.match(line.rstrip("\n"))
        if opened > 0:  # one item of an array
            yield lines.drop(index, index + 1)
            if stripped[:1] in "\"'":
                yield from _requirement_bound(lines, index, len(line) - len(line.lstrip()) + 1, stripped[1:])
        elif match and not stripped.startswith("["):
            end, inner = index + 1, _depth(line)
            while inner > 0 and end < len(lines.lines):  # an array or table written over several lines
                inner += _depth(lines.lines[end])
                end += 1
            yield lines.drop(index, end)
            if end == index + 1:
                value, _ = _code_and_comment(match.group("rest"))
                value = value.rstrip()
                start = match.start("rest")
                for new in _changed(value):
                    yield lines.substitute("change-value", index, (start, start + len(value)), new)
        else:
            yield lines.drop(index, index + 1)  # a [table] header


def _dockerfile(source: str, first: int, last: int) -> Iterator[Mutation]:
    lines = _Lines(source, first, last)
    instructions: list[tuple[int, int]] = []  # line ranges, 0-based, end excluded
    index = lines.first - 1
    while index < lines.last:
        if _comment(lines.lines[index]):
            index += 1
            continue
        end = index + 1
        while lines.lines[end - 1].rstrip().endswith("\\") and end < lines.last:
            end += 1
        instructions.append((index, end))
        index = end
    for number, (start, end) in enumerate(instructions):
        text = "".join(lines.lines[start:end])
        keyword, _, arguments = text.strip().partition(" ")
        keyword = keyword.upper()
        yield lines.drop(start, end)
        if keyword == "ENV":
            yield from _env(lines, start, end)
        indent = text[: len(text) - len(text.lstrip())]
        if keyword == "USER" and arguments.strip().split(":")[0] not in ("root", "0"):
            yield lines.edit("run-as-root", start, end, [f"{indent}USER root\n"], text)
        if keyword == "FROM":
            image = re.search(
                r"(?<=\s)(?!--)(?P<name>[^\s:@]+(:[0-9]+)?/?[^\s:@]*)(?P<tag>[:@][^\s]+)", lines.lines[start]
            )
            if image and image.group("tag") != ":latest":
                yield lines.substitute("unpin-base", start, image.span("tag"), "")
        for offset in range(start, end):
            flag = re.search(r" --no-cache-dir\b", lines.lines[offset])
            if keyword == "RUN" and flag:
                yield lines.substitute("drop-no-cache-dir", offset, flag.span(), "")
            copied_from = re.search(r"--from=\S+\s+", lines.lines[offset])
            if keyword == "COPY" and copied_from:
                yield lines.substitute("drop-from", offset, copied_from.span(), "")
        if keyword == "COPY" and number + 1 < len(instructions):
            next_start, next_end = instructions[number + 1]
            if lines.lines[next_start].strip().upper().startswith("COPY "):
                between = lines.lines[end:next_start]
                swapped = lines.lines[next_start:next_end] + between + lines.lines[start:end]
                yield lines.edit("swap-copy", start, next_end, swapped, text)


def _env(lines: _Lines, start: int, end: int) -> Iterator[Mutation]:
    """An ENV instruction that sets several variables, one per line: each dropped, each number changed."""
    physical = lines.lines[start:end]
    pairs = []
    for offset, line in enumerate(physical):
        body = line.rstrip("\n").rstrip().removesuffix("\\").rstrip()
        if offset == 0:
            body = re.sub(r"^\s*ENV\s+", "", body, flags=re.IGNORECASE)
        pairs.append(body.strip())
        for match in re.finditer(r"(?<![^\s])[A-Za-z_][A-Za-z0-9_]*=(?P<value>\d+)(?=\s|$)", line):
            for new in _changed(match.group("value")):
                yield lines.substitute("change-value", start + offset, match.span("value"), new)
    if len(physical) < 2 or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S+", pair) for pair in pairs):
        return
    head = physical[0][: len(physical[0]) - len(physical[0].lstrip())] + "ENV "
    continuation = physical[1][: len(physical[1]) - len(physical[1].lstrip())]
    for dropped in range(len(pairs)):
        kept = pairs[:dropped] + pairs[dropped + 1 :]
        rebuilt = [(head if i == 0 else continuation) + pair + (" \\\n" if i + 1 < len(kept) else "\n")
                   for i, pair in enumerate(kept)]  # fmt: skip
        yield lines.edit("drop-env", start, end, rebuilt, pairs[dropped])


def _parses(source: str, file_kind: str) -> bool:
    try:
        if file_kind == "toml":
            tomllib.loads(source)
        elif file_kind == "ini":
            configparser.ConfigParser(interpolation=None).read_string(source)
    except (tomllib.TOMLDecodeError, configparser.Error):
        return False
    return True


def _text_mutations(source: str, first: int, last: int, filename: str, file_kind: str) -> Iterator[Mutation]:
    if file_kind == "dockerfile":
        yield from _dockerfile(source, first, last)
    elif file_kind == "toml":
        yield from _keyed_file(source, first, last, TOML_KEY)
    elif file_kind == "ini":
        yield from _keyed_file(source, first, last, INI_KEY)
    else:
        yield from _line_file(source, first, last, filename)


def derive(source: str, first: int, last: int, filename: str = "<region>") -> list[Mutation]:
    """The variants of `source` that each change one thing inside lines first..last (1-based,
    inclusive), in a stable order: by line, then column, then operator. Python variants compile;
    TOML and INI variants parse (when the reference does)."""
    file_kind = kind(filename)
    found: dict[str, Mutation] = {}
    if file_kind != "python":
        check = _parses(source, file_kind)
        for mutation in _text_mutations(source, first, last, filename, file_kind):
            if mutation.source == source or mutation.source in found:
                continue
            if check and not _parses(mutation.source, file_kind):
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
