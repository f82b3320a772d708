"""An honest estimate of a notebook's time, computed from the notebook itself: its words at a stated
reading speed, plus a stated time per exercise. The checklist's targets are for a guided session
(09: 3 minutes for about 2,100 words and 4 exercises), so `%begin` shows both, and says which is which."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .regions import BEGIN

WORDS_PER_MINUTE = 150  # technical prose with code in it, read to be understood, not skimmed
MINUTES_PER_EXERCISE = 5  # write the answer, run it, read the demonstration under it
WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


class NotebookUnreadable(UserError, ValueError):
    pass


@dataclass(frozen=True)
class Estimate:
    words: int  # in markdown cells: what the learner reads
    exercises: int  # exercise regions in code cells: what the learner writes

    @property
    def minutes(self) -> int:
        return math.ceil(self.words / WORDS_PER_MINUTE + self.exercises * MINUTES_PER_EXERCISE)

    def describe(self) -> str:
        """'about 24 min: 2,100 words at 150 a minute, 4 exercises at 5 min each'"""
        exercises = f"{self.exercises} exercise{'s' if self.exercises != 1 else ''}"
        return (
            f"about {self.minutes} min: {self.words:,} words at {WORDS_PER_MINUTE} a minute, "
            f"{exercises} at {MINUTES_PER_EXERCISE} min each"
        )


def estimate(notebook: Path) -> Estimate:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NotebookUnreadable(f"{notebook.name} is not a readable notebook ({error})") from error
    words = exercises = 0
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            words += len(WORD.findall(text))
        elif cell.get("cell_type") == "code":
            exercises += sum(1 for line in text.splitlines() if BEGIN.match(line))
    return Estimate(words, exercises)
