"""The checklist the workbook teaches, parsed: its implementation steps with their items and
"Questions to ask", its learning checkpoints, and its time-tracking table. Nothing about the
checklist is hard-coded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UserError

IMPLEMENTATION, LEARNING, TIME_TRACKING = "Implementation Checklist", "Learning Checkpoints", "Time Tracking"
SECTION = re.compile(r"^##\s+(?P<title>.+?)\s*$")
STEP = re.compile(r"^####\s+Step\s+(?P<number>\d+\.\d+):\s*(?P<title>.+?)\s*$")
SELF_CHECK = re.compile(r"^###\s+(?P<heading>.+?):?\s*$")
ITEM = re.compile(r"^(?P<indent>\s*)- \[[ xX]\]\s+(?P<text>.+?)\s*$")
QUESTIONS = re.compile(r"^\s*- \*\*Questions to ask:\*\*\s*(?P<text>.+?)\s*$")
QUESTION = re.compile(r"[^?]+\?")
DURATION = re.compile(r"^(?:(?P<hours>\d+)\s*h)?\s*(?:(?P<minutes>\d+)\s*min)?$")


class ChecklistError(UserError, ValueError):
    """The checklist lacks a section or row the report reads: named in one line."""


@dataclass(frozen=True)
class Item:
    text: str
    depth: int


@dataclass(frozen=True)
class Step:
    number: str
    title: str
    items: tuple[Item, ...]
    questions: tuple[str, ...] = ()  # its "Questions to ask", one question each


@dataclass(frozen=True)
class SelfCheck:
    heading: str
    prompt: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Milestone:
    name: str
    target: str
    target_minutes: float | None


@dataclass(frozen=True)
class Checklist:
    title: str
    steps: tuple[Step, ...]
    self_checks: tuple[SelfCheck, ...]
    milestones: tuple[Milestone, ...]
    total: Milestone


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        match = SECTION.match(line)
        if match:
            current = sections.setdefault(match.group("title"), [])
        else:
            current.append(line)
    return sections


def split_questions(text: str) -> tuple[str, ...]:
    """'What is a span? What is a trace?' -> ('What is a span?', 'What is a trace?')."""
    return tuple(q.strip() for q in QUESTION.findall(text) if q.strip() != "?") or (text.strip(),)


def _steps(lines: list[str]) -> tuple[Step, ...]:
    steps: list[Step] = []
    heading: re.Match[str] | None = None
    items: list[Item] = []
    questions: list[str] = []
    for line in [*lines, "#"]:
        step, item, asked = STEP.match(line), ITEM.match(line), QUESTIONS.match(line)
        if item and heading:
            items.append(Item(item.group("text"), len(item.group("indent")) // 2))
        elif asked and heading:
            questions += split_questions(asked.group("text"))
        elif line.startswith("#") or line.strip() == "---":
            if heading:
                number, title = heading.group("number"), heading.group("title")
                steps.append(Step(number, title, tuple(items), tuple(questions)))
            heading, items, questions = step, [], []
    return tuple(steps)


def _self_checks(lines: list[str]) -> tuple[SelfCheck, ...]:
    found: list[SelfCheck] = []
    for line in lines:
        heading, item = SELF_CHECK.match(line), ITEM.match(line)
        if heading:
            found.append(SelfCheck(heading.group("heading"), "", ()))
        elif found and item:
            last = found[-1]
            found[-1] = SelfCheck(last.heading, last.prompt, (*last.questions, item.group("text")))
        elif found and line.strip() and not found[-1].prompt:
            found[-1] = SelfCheck(found[-1].heading, line.strip(), ())
    return tuple(found)


def parse_minutes(target: str) -> float | None:
    """'15 min' -> 15, '2h 20min' -> 140; None when the text is no duration."""
    match = DURATION.match(target.strip())
    if not target.strip() or not match:
        return None
    return float(int(match.group("hours") or 0) * 60 + int(match.group("minutes") or 0))


def _milestones(lines: list[str]) -> tuple[tuple[Milestone, ...], Milestone]:
    rows = [
        [cell.strip().strip("*").strip() for cell in line.strip().strip("|").split("|")] for line in lines
    ]
    rows = [row for row in rows if len(row) >= 2 and not set("".join(row)) <= set("-: ")]
    milestones = [Milestone(row[0], row[1], parse_minutes(row[1])) for row in rows[1:]]  # rows[0]: header
    totals = [m for m in milestones if m.name.upper() == "TOTAL"]
    if not totals:
        raise ChecklistError(f"the checklist's {TIME_TRACKING} table has no TOTAL row")
    return tuple(m for m in milestones if m not in totals), totals[0]


def parse_checklist(text: str) -> Checklist:
    sections = _sections(text)
    missing = [name for name in (IMPLEMENTATION, LEARNING, TIME_TRACKING) if name not in sections]
    if missing:
        raise ChecklistError(f"the checklist has no section {', '.join(missing)}")
    time_lines = [line for line in sections[TIME_TRACKING] if line.lstrip().startswith("|")]
    milestones, total = _milestones(time_lines)
    title = next((line.lstrip("# ") for line in text.splitlines() if line.startswith("# ")), "the checklist")
    title = re.sub(r"^\W+", "", title).strip()
    steps, self_checks = _steps(sections[IMPLEMENTATION]), _self_checks(sections[LEARNING])
    return Checklist(title, steps, self_checks, milestones, total)
