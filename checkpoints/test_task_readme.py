"""Checkpoint task-readme: the service's README agrees with the code it documents (step 2.13)."""

import json
import re
import shlex
from urllib.parse import urlsplit

import pytest

from workbook.lesson import env_names
from workbook.suites import run_pytest

SECTIONS = ["configuration", "api", "examples", "testing", "docker"]
VOLATILE = {"created_at", "updated_at"}


@pytest.fixture(scope="module")
def readme(service_dir):
    path = service_dir("task-service") / "README.md"
    assert path.is_file(), "no task-service/README.md"
    return path.read_text(encoding="utf-8")


def section(text, title):
    """The text under the `## title` heading (any level-2 heading that starts with it)."""
    match = re.search(rf"^## +{re.escape(title)}\b.*?$(.*?)(?=^## |\Z)", text, re.M | re.S | re.I)
    assert match, f"the README has no '## {title}' section"
    return match.group(1)


def table(text):
    """The rows of the first Markdown table in `text`, cells without backticks, header and rule dropped."""
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip().strip("`").strip() for cell in row.strip("|").split("|")] for row in rows]
    rule = [row for row in cells if all(set(cell) <= set("-: ") for cell in row)]
    if cells:
        # Without a header row and the |---| rule right under it, Markdown shows the rows as text.
        assert len(cells) > 1 and cells[1] in rule and cells[0] not in rule, (
            f"the table starting `{rows[0][:50]}` needs a header row, then a rule such as |---|---|, then its"
            " rows: without them Markdown shows plain text, not a table"
        )
    return [row for row in cells[1:] if row not in rule]


def shown(value):
    """A default as the README writes it: what you would put in the environment variable."""
    value = getattr(value, "get_secret_value", lambda: value)()
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(item) for item in value)
    return str(getattr(value, "value", value))


@pytest.fixture
def settings_class(load_service, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    return load_service("task-service", "src.config.settings").Settings


@pytest.fixture
def app(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_app("task-service")


def test_readme_has_its_sections(readme):
    """the README says what the service does, how to set it up, and has every section"""
    title = re.search(r"^# +(.+)$", readme, re.M)
    assert title and "task-service" in title.group(1), "the README starts with '# task-service'"
    intro = readme[title.end() : readme.find("\n## ")]
    assert len(intro.split()) >= 20, "say in a paragraph what the service does, before the first section"
    setup = section(readme, "Quick start")
    for needed in ("requirements-dev.txt", "uvicorn", "/docs"):
        assert needed in setup, f"the Quick start does not mention {needed}"
    for title_ in SECTIONS:
        section(readme, title_)


def test_configuration_table_matches_settings(readme, settings_class):
    """the Configuration table lists every variable Settings reads, with its default"""
    rows = table(section(readme, "Configuration"))
    assert rows, "the Configuration section has no table"
    documented = {row[0].upper(): row[1] if len(row) > 1 else "" for row in rows}
    names = env_names(settings_class)
    expected = {names[name]: shown(field.get_default(call_default_factory=True))
                for name, field in settings_class.model_fields.items()}  # fmt: skip
    missing, unknown = sorted(set(expected) - set(documented)), sorted(set(documented) - set(expected))
    assert not missing and not unknown, f"missing: {missing}, not read by Settings: {unknown}"
    wrong = {
        name: (documented[name], default) for name, default in expected.items() if documented[name] != default
    }
    assert not wrong, "defaults (README, Settings): " + ", ".join(f"{n}: {v}" for n, v in wrong.items())


def test_endpoint_table_matches_openapi(readme, app):
    """the API table lists exactly the OpenAPI schema's operations, with their success status"""
    rows = table(section(readme, "API"))
    assert rows, "the API section has no table"
    documented = {(row[0].upper(), row[1], row[2] if len(row) > 2 else "") for row in rows}
    schema = app.openapi()
    expected = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            success = sorted(code for code in operation.get("responses", {}) if code.startswith("2"))
            expected.add((method.upper(), path, success[0] if success else ""))
    missing, extra = sorted(expected - documented), sorted(documented - expected)
    assert not missing and not extra, f"in the schema, not the README: {missing}; in the README only: {extra}"


def examples(readme):
    """(method, path, body, expected status, expected JSON or None) per curl example, in order."""
    text = section(readme, "Examples")
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    found = []
    for language, block in blocks:
        if language in ("bash", "sh", "shell") and "curl" in block:
            status = re.search(r"#\s*->\s*(\d{3})", block)
            assert status, f"the example `{block.strip()[:60]}` has no '# -> STATUS' comment"
            argv = shlex.split(block.replace("\\\n", " "), comments=True)
            method = argv[argv.index("-X") + 1] if "-X" in argv else ("POST" if "-d" in argv else "GET")
            body = json.loads(argv[argv.index("-d") + 1]) if "-d" in argv else None
            url = next(word for word in argv if word.startswith("http"))
            target = urlsplit(url)
            path = target.path + (f"?{target.query}" if target.query else "")
            found.append([method, path, body, int(status.group(1)), None])
        elif language == "json" and found and found[-1][4] is None:
            found[-1][4] = json.loads(block)
    return found


def without_volatile(value):
    if isinstance(value, dict):
        return {key: without_volatile(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


def test_examples_run_as_documented(readme, app, client):
    """every curl example in the README, run in order on a fresh database, answers what the README shows"""
    steps = examples(readme)
    assert len(steps) >= 3, "show at least three curl examples (create, list, update or delete)"
    with client(app, base_url="http://localhost:8000") as http:
        for method, path, body, status, expected in steps:
            response = http.request(method, path, json=body)
            assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
            if expected is not None:
                got = without_volatile(response.json())
                assert got == without_volatile(expected), f"{method} {path} answered {got}"


def test_service_tests_guard_the_readme(service_dir):
    """the service's own tests check the README against Settings and the OpenAPI schema"""
    service = service_dir("task-service")
    found = sorted(service.glob("tests/**/test_readme.py"))
    assert found, "no tests/**/test_readme.py in task-service"
    done = run_pytest(service, "-q", "-o", "addopts=", str(found[0].relative_to(service)), timeout=120)
    assert done.returncode == 0, done.tail(60)
