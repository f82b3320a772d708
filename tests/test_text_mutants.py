"""The operators for exercise answers that are not Python: Dockerfiles, TOML/INI and line-based files."""

import textwrap

import pytest

from workbook import mutants


def variants(code, filename, first=1, last=None):
    source = textwrap.dedent(code)
    return mutants.derive(source, first, last or source.count("\n"), filename)


def changes(found, operator=None):
    return [(m.operator, m.before, m.after) for m in found if operator in (None, m.operator)]


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("src/a.py", "python"), ("<region>", "python"), ("Dockerfile", "dockerfile"),
        ("docker/Dockerfile.dev", "dockerfile"), ("Containerfile", "dockerfile"), ("pyproject.toml", "toml"),
        ("setup.cfg", "ini"), ("pytest.ini", "ini"), (".gitignore", "lines"), (".dockerignore", "lines"),
        ("requirements.txt", "lines"), ("Makefile", "lines"), ("compose.yaml", "lines"),
        ("README.md", "lines"),
    ],
)  # fmt: skip
def test_the_file_name_picks_the_operators(filename, kind):
    assert mutants.kind(filename) == kind


DOCKERFILE = """\
FROM python:3.11-slim AS builder
RUN python -m pip install --no-cache-dir \\
        -r /tmp/requirements.txt
# a comment is not an instruction
FROM python:3.11-slim AS runtime
ENV WORKERS=2 \\
    THREADS=4
COPY --from=builder /opt/venv /opt/venv
COPY gunicorn.conf.py ./
COPY src/ ./src/
USER 10001:10001
HEALTHCHECK --interval=30s \\
    CMD ["python", "-c", "pass"]
"""


def test_a_dockerfile_loses_each_instruction_with_its_continuation_lines():
    dropped = [m for m in variants(DOCKERFILE, "Dockerfile") if m.operator == "drop-line"]
    assert [m.line for m in dropped] == [1, 2, 5, 6, 8, 9, 10, 11, 12]
    healthcheck = dropped[-1]
    assert healthcheck.source == DOCKERFILE.replace(
        'HEALTHCHECK --interval=30s \\\n    CMD ["python", "-c", "pass"]\n', ""
    )
    assert not any(m.line == 4 for m in variants(DOCKERFILE, "Dockerfile"))  # comments stay


def test_a_dockerfile_runs_as_root_takes_an_unpinned_base_and_lets_pip_cache():
    found = variants(DOCKERFILE, "Dockerfile")
    assert changes(found, "run-as-root") == [("run-as-root", "USER 10001:10001", "USER root")]
    [root] = [m for m in found if m.operator == "run-as-root"]
    assert root.source == DOCKERFILE.replace("USER 10001:10001", "USER root")
    assert changes(found, "unpin-base") == [
        ("unpin-base", ":3.11-slim", ""),
        ("unpin-base", ":3.11-slim", ""),
    ]
    assert [m.source.splitlines()[m.line - 1] for m in found if m.operator == "unpin-base"] == [
        "FROM python AS builder", "FROM python AS runtime",
    ]  # fmt: skip
    [cache] = [m for m in found if m.operator == "drop-no-cache-dir"]
    assert cache.source == DOCKERFILE.replace(" --no-cache-dir", "")


def test_a_dockerfile_copies_from_the_context_and_in_the_other_order():
    found = variants(DOCKERFILE, "Dockerfile")
    [from_context] = [m for m in found if m.operator == "drop-from"]
    assert "\nCOPY /opt/venv /opt/venv\n" in from_context.source
    swaps = [m.source for m in found if m.operator == "swap-copy"]
    assert swaps == [
        DOCKERFILE.replace(
            "COPY --from=builder /opt/venv /opt/venv\nCOPY gunicorn.conf.py ./\n",
            "COPY gunicorn.conf.py ./\nCOPY --from=builder /opt/venv /opt/venv\n",
        ),
        DOCKERFILE.replace(
            "COPY gunicorn.conf.py ./\nCOPY src/ ./src/\n", "COPY src/ ./src/\nCOPY gunicorn.conf.py ./\n"
        ),
    ]


def test_an_env_instruction_loses_one_variable_at_a_time_and_its_numbers_change():
    found = variants(DOCKERFILE, "Dockerfile")
    dropped = [m.source for m in found if m.operator == "drop-env"]
    assert dropped == [
        DOCKERFILE.replace("ENV WORKERS=2 \\\n    THREADS=4\n", "ENV THREADS=4\n"),
        DOCKERFILE.replace("ENV WORKERS=2 \\\n    THREADS=4\n", "ENV WORKERS=2\n"),
    ]
    assert changes(found, "change-value") == [
        ("change-value", "2", "3"), ("change-value", "2", "1"),
        ("change-value", "4", "5"), ("change-value", "4", "3"),
    ]  # fmt: skip


def test_a_dockerfile_variant_changes_only_the_region():
    source = 'FROM python:3.11-slim\n# BEGIN\nUSER app\n# END\nCMD ["x"]\n'
    found = mutants.derive(source, 3, 3, "Dockerfile")
    assert changes(found) == [("drop-line", "USER app", ""), ("run-as-root", "USER app", "USER root")]
    assert mutants.derive("USER root\n", 1, 1, "Dockerfile")[0].operator == "drop-line"
    assert len(mutants.derive("USER root\n", 1, 1, "Dockerfile")) == 1  # already root: nothing to make worse


PYPROJECT = """\
[project]
name = "svc"
dependencies = [
    "fastapi>=0.115",
    "SQLAlchemy[asyncio]>=2.0,<3",  # the engine
]

[tool.coverage.report]
fail_under = 85.1  # more than 85%
show_missing = true
exclude_also = [
    "if TYPE_CHECKING:",
]
"""


def test_toml_entries_are_dropped_whole_and_array_items_one_at_a_time():
    found = variants(PYPROJECT, "pyproject.toml")
    dropped = [(m.line, m.before) for m in found if m.operator == "drop-line"]
    assert dropped == [
        (1, "[project]"), (2, 'name = "svc"'), (3, "dependencies = [ ..."), (4, '"fastapi>=0.115",'),
        (5, '"SQLAlchemy[asyncio]>=2.0,<3",  # the engine'), (8, "[tool.coverage.report]"),
        (9, "fail_under = 85.1  # more than 85%"), (10, "show_missing = true"), (11, "exclude_also = [ ..."),
        (12, '"if TYPE_CHECKING:",'),
    ]  # fmt: skip
    [array] = [m for m in found if m.operator == "drop-line" and m.line == 11]
    assert array.source == PYPROJECT.replace('exclude_also = [\n    "if TYPE_CHECKING:",\n]\n', "")


def test_toml_values_change_and_requirements_lose_their_bounds():
    found = variants(PYPROJECT, "pyproject.toml")
    assert changes(found, "change-value") == [
        ("change-value", '"svc"', '""'), ("change-value", "85.1", "86.1"), ("change-value", "85.1", "84.1"),
        ("change-value", "true", "false"),
    ]  # fmt: skip
    [lower] = [m for m in found if m.operator == "change-value" and m.after == "84.1"]
    assert "\nfail_under = 84.1  # more than 85%\n" in lower.source
    bounds = [m for m in found if m.operator == "drop-bound"]
    assert [(m.before, m.after) for m in bounds] == [(">=0.115", ""), (">=2.0,<3", "")]
    assert '    "SQLAlchemy[asyncio]",  # the engine\n' in bounds[1].source


def test_a_toml_variant_that_does_not_parse_is_dropped():
    source = "[a]\nx = 1\n[b]\nx = 2\n"
    # Dropping `[b]` would give [a] two x keys: not TOML, so no such variant.
    assert ("drop-line", "[b]", "") not in changes(mutants.derive(source, 3, 4, "pyproject.toml"))


def test_ini_entries_are_dropped_and_their_values_changed():
    source = "[flake8]\nmax-line-length = 100\nexclude = .venv\n"
    found = mutants.derive(source, 2, 3, "setup.cfg")
    assert changes(found) == [
        ("drop-line", "max-line-length = 100", ""), ("change-value", "100", "101"),
        ("change-value", "100", "99"), ("drop-line", "exclude = .venv", ""),
    ]  # fmt: skip


def test_a_line_based_file_loses_one_line_at_a_time_but_keeps_comments_and_blank_lines():
    source = "*\n# let back in\n!src\n\n**/__pycache__\n"
    found = mutants.derive(source, 1, 5, ".dockerignore")
    assert [(m.line, m.before) for m in found] == [(1, "*"), (3, "!src"), (5, "**/__pycache__")]
    assert found[1].source == "*\n# let back in\n\n**/__pycache__\n"
    markdown = "| a | b |\n|---|---|\n<!-- note -->\n| 1 | 2 |\n"
    assert [m.line for m in mutants.derive(markdown, 1, 4, "README.md")] == [1, 2, 4]


def test_requirements_files_also_lose_their_pins():
    source = "fastapi==0.115.0  # via -r requirements.in\nuvicorn[standard]>=0.30,<1\n"
    found = mutants.derive(source, 1, 2, "requirements.txt")
    assert [(m.operator, m.before) for m in found] == [
        ("drop-line", "fastapi==0.115.0  # via -r requirements.in"), ("drop-bound", "==0.115.0"),
        ("drop-line", "uvicorn[standard]>=0.30,<1"), ("drop-bound", ">=0.30,<1"),
    ]  # fmt: skip
    assert found[1].source.startswith("fastapi  # via -r requirements.in\n")
    assert mutants.derive("-r base.txt\n", 1, 1, "requirements.txt")[0].operator == "drop-line"


def test_text_variants_are_stable_and_unique():
    first = variants(DOCKERFILE, "Dockerfile")
    assert first == variants(DOCKERFILE, "Dockerfile")
    assert len({m.source for m in first}) == len(first)
    order = {name: index for index, name in enumerate(mutants.OPERATORS)}
    assert first == sorted(first, key=lambda m: (m.line, m.column, order[m.operator]))
