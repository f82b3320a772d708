"""Reading a Dockerfile: the one reader that the image export, the doctor and the checkpoints share.

It follows Docker's own parser (BuildKit's) wherever the tooling looks: parser directives at the top
(`# escape=`), comments, continuation lines (comment and empty lines inside one are dropped, and the
lines are joined as written, as Docker joins them), heredocs (`RUN <<EOF`), the exec (JSON) and shell
forms, flags (`COPY --from=builder`), build stages (`FROM ... AS name`) and `$NAME`/`${NAME:-word}`
substitution from ARG and ENV in the instructions Docker substitutes in. It reads and never judges:
what makes a good Dockerfile is the doctor's and the checkpoints' business."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, NamedTuple

# The instructions whose arguments Docker expands with ARG and ENV values (RUN, CMD, ENTRYPOINT and
# HEALTHCHECK are left to the shell in the container).
SUBSTITUTED = frozenset("ADD ARG COPY ENV EXPOSE FROM LABEL ONBUILD STOPSIGNAL USER VOLUME WORKDIR".split())
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S*)\s*$")
FLAG = re.compile(r"--(\S+)\s*")
HEREDOC = re.compile(r"\d*<<(-?)([\"']?)([A-Za-z0-9_.-]+)\2$")
VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|(?P<plain>[A-Za-z_]\w*))"
)


class Instruction(NamedTuple):
    """One instruction: the line it starts on, its keyword in capitals and its arguments as written
    (continuation lines joined; a heredoc's lines follow after newlines). Unpacks as a triple."""

    line: int
    keyword: str
    arguments: str

    @property
    def flags(self) -> dict[str, str]:
        """The leading options: `COPY --from=builder --chown=1:1 ...` gives from and chown ("" for a
        bare `--link`)."""
        return _split_flags(self.arguments)[0]

    @property
    def rest(self) -> str:
        """The arguments after the flags; for HEALTHCHECK, the command after `CMD`."""
        rest = _split_flags(self.arguments)[1]
        if self.keyword == "HEALTHCHECK":
            parts = rest.split(None, 1)
            return parts[1].strip() if len(parts) == 2 and parts[0].upper() == "CMD" else ""
        return rest

    @property
    def exec_form(self) -> list[str] | None:
        """`CMD ["python", "app.py"]` as a list; None for the shell form (`CMD python app.py`)."""
        return json_list(self.rest)

    @property
    def operands(self) -> list[str]:
        """The words after the flags: the JSON list in exec form, else split on whitespace as Docker
        splits COPY, EXPOSE or USER."""
        listed = self.exec_form
        return listed if listed is not None else self.rest.split("\n", 1)[0].split()

    @property
    def sources(self) -> list[str]:
        """What a COPY or ADD copies (every operand but the destination); [] for a heredoc."""
        if self.keyword not in ("COPY", "ADD"):
            return []
        return [word for word in self.operands[:-1] if not HEREDOC.match(word)]

    @property
    def destination(self) -> str:
        operands = self.operands
        return operands[-1] if self.keyword in ("COPY", "ADD") and len(operands) > 1 else ""

    @property
    def disabled(self) -> bool:
        """`HEALTHCHECK NONE`: the image turns off a check its base defines."""
        return self.keyword == "HEALTHCHECK" and _split_flags(self.arguments)[1].upper() == "NONE"


@dataclass(frozen=True)
class Stage:
    """One build stage: its FROM, the instructions after it, and each one's arguments with ARG and
    ENV values substituted where Docker substitutes (as written elsewhere)."""

    index: int
    alias: str  # "" when the FROM names none
    base: str  # the image, or the earlier stage it starts from (ARGs declared before FROM expanded)
    from_line: int
    instructions: tuple[Instruction, ...]
    expanded: tuple[str, ...]
    parent: Stage | None = None  # the earlier stage named by FROM, whose settings this one inherits
    # ENV at the end of the stage: its own and its parent stage's (what a base image sets is unknown,
    # so `PATH=/opt/venv/bin:$PATH` reads as "/opt/venv/bin:")
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """What `COPY --from=` names it by: its alias, else its index."""
        return self.alias or str(self.index)

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def values(self, keyword: str) -> list[str]:
        """The substituted arguments of every `keyword` instruction of this stage."""
        return [
            text
            for instruction, text in zip(self.instructions, self.expanded)
            if instruction.keyword == keyword
        ]

    def effective(self, keyword: str) -> str | None:
        """The last `keyword` (substituted) of this stage, else of the stage it starts from: what the
        image ends up with for USER or EXPOSE."""
        stage: Stage | None = self
        while stage is not None:
            values = stage.values(keyword)
            if values:
                return values[-1]
            stage = stage.parent
        return None

    @property
    def exposed_port(self) -> int | None:
        """The first port of the last EXPOSE (`8000/tcp` is 8000), inherited from a parent stage."""
        exposed = self.effective("EXPOSE")
        for word in (exposed or "").split():
            number = word.split("/", 1)[0].split("-", 1)[0]
            if number.isdigit():
                return int(number)
        return None

    @property
    def user(self) -> str | None:
        """The USER the image runs as (substituted), inherited from a parent stage; None: root."""
        user = self.effective("USER")
        return user.strip() if user is not None else None

    @property
    def healthcheck(self) -> Instruction | None:
        stage: Stage | None = self
        while stage is not None:
            found = stage.last("HEALTHCHECK")
            if found is not None:
                return found
            stage = stage.parent
        return None


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]  # every one, FROM and the global ARGs included
    stages: tuple[Stage, ...]

    @property
    def final(self) -> Stage | None:
        """The stage the image is made of (the last), None when there is no FROM."""
        return self.stages[-1] if self.stages else None

    def stage(self, name: str) -> Stage | None:
        """A stage by its alias (case-insensitive, as Docker compares them) or its index."""
        return _find_stage(self.stages, name)

    @property
    def exposed_port(self) -> int | None:
        return self.final.exposed_port if self.final else None


def read(path: Path) -> Dockerfile:
    return parse(path.read_text(encoding="utf-8", errors="replace"))


def instructions(path: Path) -> list[Instruction]:
    """A file's instructions as (line, KEYWORD, arguments), for readers that need no stages."""
    return list(read(path).instructions)


def parse(text: str) -> Dockerfile:
    found = tuple(_instructions(text))
    return Dockerfile(found, tuple(_stages(found)))


def json_list(text: str) -> list[str] | None:
    """A JSON list of strings (the exec form), else None: Docker falls back to the shell form."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def expand(text: str, values: Mapping[str, str]) -> str:
    """`$NAME`, `${NAME}`, `${NAME:-word}` and `${NAME:+word}` (and their `-`/`+` forms) as Docker
    expands them; an unknown name is empty, `\\$` is a dollar sign."""

    def one(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        value, op = values.get(name), match.group("op")
        if op is None:
            return value or ""
        word = expand(match.group("word"), values)
        if op == ":-":
            return value if value else word
        if op == "-":
            return value if value is not None else word
        if op == ":+":
            return word if value else ""
        return word if value is not None else ""  # "+"

    parts = text.split("\\$")
    return "$".join(VARIABLE.sub(one, part) for part in parts)


def assignments(keyword: str, arguments: str) -> list[tuple[str, str | None]]:
    """ENV's and ARG's (name, value) pairs; ARG NAME without a default gives (NAME, None).
    Any other instruction has none."""
    if keyword not in ("ENV", "ARG"):
        return []
    try:
        words = shlex.split(arguments, posix=True)
    except ValueError:  # an unbalanced quote: Docker would refuse; read what is there
        words = arguments.split()
    if not words:
        return []
    if keyword == "ENV" and "=" not in words[0]:  # the legacy `ENV NAME value with spaces`
        name, _, value = arguments.strip().partition(" ")
        return [(name, value.strip().strip("\"'"))]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, equals, value = word.partition("=")
        pairs.append((name, value if equals else None))
    return pairs


def _split_flags(arguments: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = arguments
    while flag := FLAG.match(rest):
        name, _, value = flag.group(1).partition("=")
        flags[name.lower()] = value
        rest = rest[flag.end() :]
    return flags, rest


def _instructions(text: str) -> list[Instruction]:
    lines = text.removeprefix("\ufeff").splitlines()
    escape, number = "\\", 0
    while number < len(lines):  # parser directives: only before any comment, blank or instruction
        directive = DIRECTIVE.match(lines[number].strip())
        if not directive:
            break
        if directive.group(1).lower() == "escape" and directive.group(2) in ("\\", "`"):
            escape = directive.group(2)
        number += 1
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    found: list[Instruction] = []
    while number < len(lines):
        first = lines[number].lstrip()
        number += 1
        if not first or first.startswith("#"):
            continue
        start = number
        line, more = continued.sub("", first), bool(continued.search(first))
        while more and number < len(lines):
            raw = lines[number]
            number += 1
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue  # Docker drops both inside a continuation
            more = bool(continued.search(raw))
            line += continued.sub("", raw)
        words = line.split(None, 1)
        if not words:  # a lone continuation character
            continue
        keyword, arguments = words[0].upper(), words[1].strip() if len(words) > 1 else ""
        if keyword in HEREDOC_INSTRUCTIONS:
            bodies, number = _heredocs(arguments, lines, number)
            arguments += bodies
        found.append(Instruction(start, keyword, arguments))
    return found


def _heredocs(arguments: str, lines: list[str], number: int) -> tuple[str, int]:
    """The lines of each `<<WORD` in `arguments`, up to its WORD line, and where reading goes on."""
    body = ""
    for word in arguments.split():
        marker = HEREDOC.match(word)
        if not marker:
            continue
        strip_tabs, terminator = marker.group(1) == "-", marker.group(3)
        while number < len(lines):
            raw = lines[number]
            number += 1
            body += "\n" + raw
            if (raw.lstrip("\t") if strip_tabs else raw) == terminator:
                break
    return body, number


def _find_stage(stages: tuple[Stage, ...] | list[Stage], name: str) -> Stage | None:
    for stage in stages:
        if (stage.alias and stage.alias.lower() == name.lower()) or str(stage.index) == name:
            return stage
    return None


def _stages(found: tuple[Instruction, ...]) -> list[Stage]:
    """Split at each FROM. ARGs declared before the first FROM serve the FROM lines (a stage sees one
    only when it declares it again, as Docker scopes them)."""
    global_args: dict[str, str] = {}
    starts = [i for i, instruction in enumerate(found) if instruction.keyword == "FROM"]
    for instruction in found[: starts[0] if starts else len(found)]:
        if instruction.keyword == "ARG":
            for name, value in assignments("ARG", instruction.arguments):
                if value is not None:
                    global_args[name] = expand(value, global_args)
    stages: list[Stage] = []
    for n, begin in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(found)
        stages.append(_stage(len(stages), found[begin], found[begin + 1 : end], global_args, stages))
    return stages


def _stage(
    index: int,
    start: Instruction,
    body: tuple[Instruction, ...],
    global_args: Mapping[str, str],
    earlier: list[Stage],
) -> Stage:
    """One stage, its ARG and ENV values tracked line by line: each holds from its line to the end of
    the stage, ENV over ARG; a stage starts with the ENV of the earlier stage it is built FROM."""
    words = _split_flags(expand(start.arguments, global_args))[1].split()
    base = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
    # FROM names an earlier stage by its alias only (an index there would be an image name)
    parent = next((stage for stage in earlier if stage.alias and stage.alias.lower() == base.lower()), None)
    args: dict[str, str] = {}
    env: dict[str, str] = dict(parent.env) if parent else {}
    expanded: list[str] = []
    for instruction in body:
        scope = {**args, **env}  # one ENV line's values all see the values before it, as in Docker
        substituted = instruction.keyword in SUBSTITUTED
        expanded.append(expand(instruction.arguments, scope) if substituted else instruction.arguments)
        for name, value in assignments(instruction.keyword, instruction.arguments):
            if instruction.keyword == "ENV":
                env[name] = expand(value or "", scope)
            elif instruction.keyword == "ARG":
                default = expand(value, scope) if value is not None else global_args.get(name)
                if default is not None:
                    args[name] = default
    return Stage(index, alias, base, start.line, body, tuple(expanded), parent, env)
