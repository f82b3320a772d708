"""What a wrong variant is: one edit of a reference answer, named by where it is and which operator
made it. Python's operators (workbook.mutants) and the other files' (workbook.mutants_text) both
make these."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Mutation:
    line: int  # 1-based line of the source where the edit starts
    column: int  # character column there, for a stable order
    operator: str
    before: str  # the reference's text of the edited span (its first line, shortened)
    after: str  # the variant's text in its place
    source: str  # the whole source with the edit applied


def short(text: str, width: int = 70) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    more = len(text.strip().splitlines()) > 1
    if len(first) > width:
        return first[: width - 3] + "..."
    return first + (" ..." if more else "")
