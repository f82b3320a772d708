import pytest

from notebook_factory import make_notebook
from workbook import estimate as estimating
from workbook.estimate import MINUTES_PER_EXERCISE, WORDS_PER_MINUTE, NotebookUnreadable, estimate
from workbook.paths import solutions_dir


def test_words_are_read_and_exercises_written(tmp_path):
    words = " ".join(["word"] * (WORDS_PER_MINUTE * 2 - 1))  # the heading's "#" is not a word
    path = make_notebook(
        tmp_path / "05-x.ipynb",
        f"# {words}",
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
        "x = 1  # no exercise here: words in code are not counted as reading",
        "### BEGIN SOLUTION\ny = 2\n### END SOLUTION",
    )
    found = estimate(path)
    assert (found.words, found.exercises) == (WORDS_PER_MINUTE * 2 - 1, 2)
    assert found.minutes == 2 + 2 * MINUTES_PER_EXERCISE
    assert found.describe() == (
        f"about {found.minutes} min: {found.words:,} words at {WORDS_PER_MINUTE} a minute, "
        f"2 exercises at {MINUTES_PER_EXERCISE} min each"
    )


def test_one_exercise_is_singular(tmp_path):
    path = make_notebook(
        tmp_path / "01-x.ipynb", "# one two three", "### BEGIN SOLUTION\na = 1\n### END SOLUTION"
    )
    assert "1 exercise at" in estimate(path).describe() and estimate(path).minutes == 1 + MINUTES_PER_EXERCISE


def test_an_unreadable_notebook_is_one_clear_error(tmp_path):
    (tmp_path / "bad.ipynb").write_text("{oops")
    with pytest.raises(NotebookUnreadable, match="bad.ipynb is not a readable notebook"):
        estimate(tmp_path / "bad.ipynb")


def test_the_estimate_of_a_long_notebook_is_not_the_guided_target():
    """09 reads about 2,100 words and has 4 exercises: far more than its checklist target of 3 minutes."""
    found = estimating.estimate(solutions_dir() / "09-observability.ipynb")
    assert found.words > 1500 and found.exercises >= 3 and found.minutes > 20
