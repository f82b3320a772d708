"""Text a person reads: one table renderer, one plural, one size, one duration.

Every table the workbook prints (the image export, the bench, the doctor, the progress report) goes
through `table`, so columns line up the same way everywhere and numbers are right-aligned."""

from __future__ import annotations

from typing import Literal, Sequence

Style = Literal["text", "markdown"]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """'1 file', '2 files'; `many` for nouns whose plural is not noun + s ('1 entry', '3 entries')."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def size(count: int | float) -> str:
    """A byte count as a person says it: '512 B', '1.5 KB', '283.7 MB' (powers of 1024)."""
    value, units = float(count), ["B", "KB", "MB", "GB", "TB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{int(count)} B" if units[0] == "B" else f"{value:.1f} {units[0]}"


def megabytes(count: int | float) -> str:
    """A byte count in MB with one decimal, for columns that are all MB."""
    return f"{float(count) / 1024 / 1024:.1f}"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _numeric(cell: str) -> bool:
    stripped = cell.strip().rstrip("%x").replace(".", "", 1).replace(",", "").lstrip("+-")
    return stripped.isdigit()


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    style: Style = "text",
    right: Sequence[int] | None = None,
) -> str:
    """Aligned columns. `right`: the columns to right-align; default, those whose every cell is a number.

    The last column of a text table is not padded, so a long note does not widen every line."""
    cells = [[str(cell) for cell in row] for row in rows]
    columns = len(header)
    if right is None:
        right = [
            i for i in range(columns) if cells and all(_numeric(row[i]) or row[i] == "-" for row in cells)
        ]
    widths = [max(len(str(line[i])) for line in [list(header), *cells]) for i in range(columns)]
    if style == "markdown":
        widths = [max(width, 3) for width in widths]  # room for a rule such as --:

    def line(values: Sequence[str], last_padded: bool) -> list[str]:
        out = []
        for i, value in enumerate(values):
            if i == columns - 1 and not last_padded:
                out.append(value)
            else:
                out.append(value.rjust(widths[i]) if i in right else value.ljust(widths[i]))
        return out

    if style == "markdown":
        rule = ["-" * (w - 1) + (":" if i in right else "-") for i, w in enumerate(widths)]
        lines = [line(list(header), True), rule, *(line(row, True) for row in cells)]
        return "\n".join("| " + " | ".join(parts) + " |" for parts in lines)
    rendered = [line(list(header), False), *(line(row, False) for row in cells)]
    return "\n".join("  ".join(parts).rstrip() for parts in rendered)
