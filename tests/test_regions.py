import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbook.regions import RegionError, drop_markers, has_regions, strip_solutions, stub_for

SOLVED = """def greet(name: str) -> str:
    ### BEGIN SOLUTION
    cleaned = name.strip()
    return f"Hello, {cleaned}!"
    ### END SOLUTION
"""


def test_python_region_becomes_an_indented_stub():
    assert strip_solutions(SOLVED, "src/greet.py") == (
        "def greet(name: str) -> str:\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    )


def test_a_notebook_cell_is_python():
    assert strip_solutions("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n") == (
        "x = 1\n# YOUR CODE HERE\nraise NotImplementedError\n"
    )


@pytest.mark.parametrize(
    "path, stub",
    [
        ("Dockerfile", ("# YOUR CODE HERE",)),
        ("requirements.txt", ("# YOUR CODE HERE",)),
        ("README.md", ("<!-- YOUR CODE HERE -->",)),
        ("src/x.py", ("# YOUR CODE HERE", "raise NotImplementedError")),
    ],
)
def test_the_stub_fits_the_files_language(path, stub):
    assert stub_for(path) == stub


def test_a_markdown_region_uses_html_comments():
    source = "# Title\n<!-- ### BEGIN SOLUTION -->\nSecret\n<!-- ### END SOLUTION -->\n"
    assert strip_solutions(source, "README.md") == "# Title\n<!-- YOUR CODE HERE -->\n"


def test_written_solution_keeps_the_code_and_drops_the_markers():
    assert drop_markers(SOLVED) == (
        'def greet(name: str) -> str:\n    cleaned = name.strip()\n    return f"Hello, {cleaned}!"\n'
    )


def test_several_regions_are_all_stubbed():
    source = "a\n### BEGIN SOLUTION\nb\n### END SOLUTION\nc\n  ### BEGIN SOLUTION\n  d\n  ### END SOLUTION\n"
    stripped = strip_solutions(source, "x.sh")
    assert stripped == "a\n# YOUR CODE HERE\nc\n  # YOUR CODE HERE\n"
    assert has_regions(source) and not has_regions(stripped)


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx\n", "never closed"),
        ("x\n### END SOLUTION\n", "without BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
    ],
)
def test_unbalanced_regions_are_refused_with_the_line(source, message):
    with pytest.raises(RegionError, match=message):
        strip_solutions(source)


code_lines = st.lists(
    st.text(
        alphabet=st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=30
    ).filter(lambda s: "SOLUTION" not in s),
    max_size=12,
)


@given(code_lines)
def test_code_without_regions_is_untouched(lines):
    source = "\n".join(lines) + "\n"
    assert strip_solutions(source) == source
    assert drop_markers(source) == source
