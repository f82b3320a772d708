"""Wrong variants of a non-Python answer, edited as text: the mistakes a learner makes in that kind
of file, one instruction, entry or line at a time. A Dockerfile loses an instruction, runs as root,
copies in the other order, takes an unpinned base image, lets pip keep its cache; a TOML or INI file
loses an entry or has a value changed; any other file (.gitignore, .dockerignore, requirements,
Makefile, YAML, Markdown) loses a line. `workbook.mutants.derive` dedupes, filters and orders them."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import PurePosixPath
from typing import Iterator

from .mutation import Mutation, short

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
        return Mutation(start + 1, column, operator, short(before), short(shown), source)

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


def parses(source: str, file_kind: str) -> bool:
    try:
        if file_kind == "toml":
            tomllib.loads(source)
        elif file_kind == "ini":
            configparser.ConfigParser(interpolation=None).read_string(source)
    except (tomllib.TOMLDecodeError, configparser.Error):
        return False
    return True


def text_mutations(source: str, first: int, last: int, filename: str, file_kind: str) -> Iterator[Mutation]:
    if file_kind == "dockerfile":
        yield from _dockerfile(source, first, last)
    elif file_kind == "toml":
        yield from _keyed_file(source, first, last, TOML_KEY)
    elif file_kind == "ini":
        yield from _keyed_file(source, first, last, INI_KEY)
    else:
        yield from _line_file(source, first, last, filename)
