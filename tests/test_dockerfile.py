"""The one Dockerfile reader: instructions as Docker's parser splits them, stages, substitution."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbook import dockerfile
from workbook.dockerfile import Instruction, expand, parse

TASK_SERVICE = """\
# syntax=docker/dockerfile:1
# A comment before anything.

FROM python:3.11-slim AS builder
RUN python -m venv --without-pip /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN python -m pip --python /opt/venv/bin/python install --no-cache-dir \\
        -r /tmp/requirements.txt

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONUNBUFFERED=1
COPY --from=builder /opt/venv /opt/venv
COPY src/ ./src/
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \\
    CMD ["python", "-c", "print('ok')"]
CMD ["uvicorn", "src.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""


def keywords(text: str) -> list[str]:
    return [instruction.keyword for instruction in parse(text).instructions]


# Lines, comments and continuations -------------------------------------------------------------


def test_instructions_have_their_line_keyword_and_arguments(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(TASK_SERVICE)
    found = dockerfile.instructions(path)
    assert [(line, keyword) for line, keyword, _ in found] == [
        (4, "FROM"),
        (5, "RUN"),
        (6, "COPY"),
        (7, "RUN"),
        (10, "FROM"),
        (11, "ENV"),
        (13, "COPY"),
        (14, "COPY"),
        (15, "USER"),
        (16, "EXPOSE"),
        (17, "HEALTHCHECK"),
        (19, "CMD"),
    ]
    assert found[3].arguments == (
        "python -m pip --python /opt/venv/bin/python install --no-cache-dir         -r /tmp/requirements.txt"
    )
    assert found[0] == Instruction(4, "FROM", "python:3.11-slim AS builder")


def test_comments_and_blank_lines_inside_a_continuation_are_dropped_as_docker_drops_them() -> None:
    text = "RUN apt-get update && \\\n    # a comment in the middle\n\n    apt-get install -y curl\nUSER 1\n"
    found = parse(text).instructions
    assert found == (
        Instruction(1, "RUN", "apt-get update &&     apt-get install -y curl"),
        Instruction(5, "USER", "1"),
    )


def test_a_continuation_may_have_trailing_blanks_and_may_end_the_file() -> None:
    assert parse("run echo a \\  \t\n  b\\").instructions == (Instruction(1, "RUN", "echo a   b"),)
    assert keywords("\\\nFROM x\n") == ["FROM"]  # a lone continuation character is no instruction
    assert keywords("FROM x\n  \\") == ["FROM"]


def test_keywords_are_case_insensitive_and_indented_lines_count() -> None:
    assert keywords("  from x\n\tuser 10001\nExpose\t8000\n") == ["FROM", "USER", "EXPOSE"]
    assert parse("USER\n").instructions[0].arguments == ""


def test_the_escape_directive_makes_the_backtick_the_continuation_character() -> None:
    text = "# escape=`\nFROM x\nRUN dir c:\\ `\n    /b\n"
    assert parse(text).instructions[1] == Instruction(3, "RUN", "dir c:\\     /b")


def test_a_directive_after_a_comment_is_only_a_comment() -> None:
    text = "# a comment\n# escape=`\nFROM x\nRUN a `\nUSER 1\n"
    assert keywords(text) == ["FROM", "RUN", "USER"]


def test_heredocs_are_part_of_their_instruction() -> None:
    text = (
        "FROM x\n"
        "RUN <<EOF\n"
        "apt-get update\n"
        "USER root\n"
        "EOF\n"
        "COPY <<-'CONF' /etc/app.conf\n"
        "\tkey = value\n"
        "\tCONF\n"
        "USER 10001\n"
    )
    found = parse(text).instructions
    assert [i.keyword for i in found] == ["FROM", "RUN", "COPY", "USER"]
    assert found[1].arguments == "<<EOF\napt-get update\nUSER root\nEOF"
    assert found[2].sources == [] and found[2].destination == "/etc/app.conf"
    assert found[3].line == 9


# Forms and flags -------------------------------------------------------------------------------


def test_exec_and_shell_forms() -> None:
    final = parse(TASK_SERVICE).final
    assert final is not None
    cmd = final.last("CMD")
    assert cmd is not None and cmd.exec_form == [
        "uvicorn",
        "src.main:app",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    shell = Instruction(1, "CMD", "python app.py")
    assert shell.exec_form is None and shell.operands == ["python", "app.py"]
    broken = Instruction(1, "CMD", '["python", app.py]')  # not JSON: Docker runs it as a shell command
    assert broken.exec_form is None
    assert Instruction(1, "CMD", '["python", 3]').exec_form is None


def test_flags_sources_and_destination() -> None:
    copy = Instruction(1, "COPY", "--from=builder  --chown=10001:10001\t--link /opt/venv /opt/venv")
    assert copy.flags == {"from": "builder", "chown": "10001:10001", "link": ""}
    assert (copy.sources, copy.destination) == (["/opt/venv"], "/opt/venv")
    listed = Instruction(1, "COPY", '--chown=1 ["my file.txt", "b.txt", "/app/"]')
    assert (listed.sources, listed.destination) == (["my file.txt", "b.txt"], "/app/")
    assert Instruction(1, "COPY", "only-one").sources == [] and Instruction(1, "RUN", "a b").sources == []
    assert Instruction(1, "RUN", "a b").destination == ""


def test_a_healthcheck_has_options_and_a_command() -> None:
    final = parse(TASK_SERVICE).final
    assert final is not None and final.healthcheck is not None
    check = final.healthcheck
    assert check.flags == {"interval": "30s", "timeout": "3s", "retries": "3"}
    assert check.exec_form == ["python", "-c", "print('ok')"] and not check.disabled
    assert Instruction(1, "HEALTHCHECK", "NONE").disabled
    assert Instruction(1, "HEALTHCHECK", "--interval=5s").rest == ""
    assert Instruction(1, "HEALTHCHECK", "cmd\tpython -c pass").rest == "python -c pass"


# Stages ----------------------------------------------------------------------------------------


def test_stages_by_alias_or_index() -> None:
    parsed = parse(TASK_SERVICE)
    assert [(s.index, s.name, s.base, s.from_line) for s in parsed.stages] == [
        (0, "builder", "python:3.11-slim", 4),
        (1, "runtime", "python:3.11-slim", 10),
    ]
    assert parsed.stage("BUILDER") is parsed.stages[0] and parsed.stage("1") is parsed.final
    assert parsed.stage("nope") is None
    assert [i.keyword for i in parsed.stages[0].instructions] == ["RUN", "COPY", "RUN"]
    assert parse("FROM a\nFROM --platform=linux/amd64 b\n").stages[1].name == "1"
    assert parse("FROM --platform=linux/amd64 b as Build\n").stages[0].alias == "Build"


def test_no_from_means_no_stage_and_no_port() -> None:
    parsed = parse("ARG VERSION=3.11\n")
    assert parsed.stages == () and parsed.final is None and parsed.exposed_port is None


def test_a_stage_inherits_from_the_stage_it_is_built_from() -> None:
    text = (
        "FROM python:3.11-slim AS base\nENV PORT=9000\nUSER 10001\nEXPOSE 9000\n"
        "HEALTHCHECK CMD python -c pass\n"
        "FROM base AS app\nEXPOSE ${PORT}1\n"
        "FROM python:3.11-slim\nCMD x\n"
    )
    base, app, plain = parse(text).stages
    assert app.parent is base and app.user == "10001" and app.exposed_port == 90001
    assert app.healthcheck is base.healthcheck and app.env == {"PORT": "9000"}
    assert plain.parent is None and plain.user is None and plain.exposed_port is None
    assert plain.healthcheck is None
    assert parse("FROM x AS a\nUSER 1\nFROM 0\n").stages[1].parent is None  # an image called 0


@pytest.mark.parametrize(
    ("text", "port"),
    [
        ("FROM python:3.11-slim\nCMD python app.py\n", None),
        ("FROM python:3.11-slim\nEXPOSE 5000\n", 5000),
        ("FROM a AS build\nEXPOSE 1234\nFROM b\nexpose 8001/tcp 9000\n", 8001),
        ("FROM a AS build\nEXPOSE 1234\nFROM b\n", None),  # the builder's EXPOSE is not the image's
        ("FROM b\nARG PORT=7000\nEXPOSE $PORT\n", 7000),
        ("FROM b\nENV PORT 7001\nEXPOSE ${PORT}\n", 7001),
        ("FROM b\nEXPOSE ${UNKNOWN}\n", None),
        ("FROM b\nEXPOSE 8000-8010/udp\n", 8000),
        ("FROM b\nEXPOSE ${PORT:-8080}\n", 8080),
    ],
)
def test_the_exposed_port(text: str, port: int | None) -> None:
    assert parse(text).exposed_port == port


# Substitution ----------------------------------------------------------------------------------


def test_arg_before_from_serves_from_lines_and_only_a_redeclared_one_serves_the_stage() -> None:
    text = (
        "ARG BASE=python:3.11-slim\nARG PORT=7000\nFROM ${BASE} AS app\nEXPOSE $PORT\nARG PORT\nUSER $PORT\n"
    )
    app = parse(text).stages[0]
    assert app.base == "python:3.11-slim"
    assert app.values("EXPOSE") == [""] and app.values("USER") == ["7000"]


def test_env_wins_over_arg_and_one_env_line_sees_the_values_before_it() -> None:
    text = "FROM x\nARG U=1\nENV U=2\nARG U=3\nUSER $U\nENV A=old\nENV A=new B=$A\nLABEL b=$B\n"
    stage = parse(text).stages[0]
    assert stage.user == "2" and stage.values("LABEL") == ["b=old"]
    assert stage.env == {"U": "2", "A": "new", "B": "old"}


def test_run_and_cmd_are_left_to_the_shell() -> None:
    stage = parse("FROM x\nENV A=1\nRUN echo $A\nCMD echo $A\n").stages[0]
    assert stage.values("RUN") == ["echo $A"] and stage.values("CMD") == ["echo $A"]


def test_an_arg_without_a_default_and_none_before_from_is_unset() -> None:
    stage = parse('FROM x\nARG NAME\nARG QUOTED="a b"\nUSER ${NAME:-nobody}\nLABEL q=$QUOTED\n').stages[0]
    assert stage.user == "nobody" and stage.values("LABEL") == ["q=a b"]


def test_an_unbalanced_quote_is_read_as_far_as_it_goes() -> None:
    assert parse("FROM x\nENV A='open B=2\n").stages[0].env == {"A": "'open", "B": "2"}
    assert parse("FROM x\nENV\nARG\n").stages[0].env == {}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("$A-${A}", "1-1"),
        ("${MISSING}x", "x"),
        ("${MISSING:-def}", "def"),
        ("${EMPTY:-def}|${EMPTY-def}", "def|"),
        ("${MISSING-def}", "def"),
        ("${A:+set}|${EMPTY:+set}|${EMPTY+set}|${MISSING+set}", "set||set|"),
        ("${MISSING:-$A}", "1"),
        ("\\$A costs $A", "$A costs 1"),
        ("$1 and $", "$1 and $"),
    ],
)
def test_expand(text: str, expanded: str) -> None:
    assert expand(text, {"A": "1", "EMPTY": ""}) == expanded


# Properties ------------------------------------------------------------------------------------

WORD = st.text(alphabet=st.sampled_from("abcdefgxyz0123456789-_./:="), min_size=1, max_size=8)
KEYWORD = st.sampled_from(["RUN", "COPY", "ENV", "LABEL", "WORKDIR", "CMD", "ENTRYPOINT", "USER"])


@st.composite
def dockerfiles(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A Dockerfile written with random comments, blank lines and continuations, and what it says."""
    lines, expected = ["FROM python:3.11-slim"], [("FROM", "python:3.11-slim")]
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# a comment", "   # indented comment", "  "])))
        keyword, words = draw(KEYWORD), draw(st.lists(WORD, min_size=1, max_size=6))
        expected.append((keyword, " ".join(words)))
        text = keyword.lower() if draw(st.booleans()) else keyword
        for word in words:
            if draw(st.booleans()):
                lines.append(text + " \\")
                if draw(st.booleans()):
                    lines.append(draw(st.sampled_from(["", "# inside", "    # inside"])))
                text = "    " + word
            else:
                text += " " + word
        lines.append(text)
    return "\n".join(lines) + "\n", expected


@given(dockerfiles())
def test_whatever_the_layout_the_instructions_are_the_same(case: tuple[str, list[tuple[str, str]]]) -> None:
    text, expected = case
    found = parse(text).instructions
    assert [(i.keyword, " ".join(i.arguments.split())) for i in found] == expected


@given(st.integers(1, 65535), st.sampled_from(["", "/tcp", "/udp"]), st.booleans())
def test_any_exposed_port_is_read_back(port: int, protocol: str, through_arg: bool) -> None:
    text = (
        f"FROM x\nARG P={port}\nEXPOSE $P{protocol}\n"
        if through_arg
        else f"FROM x\nEXPOSE {port}{protocol}\n"
    )
    assert parse(text).exposed_port == port


@given(st.text(alphabet=st.characters(blacklist_characters="$\\"), max_size=40))
def test_text_without_a_dollar_is_left_alone(text: str) -> None:
    assert expand(text, {"A": "1"}) == text
