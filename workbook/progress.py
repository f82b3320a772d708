"""The learner's progress report: the checklist's implementation steps ticked from the checkpoints
that pass, its questions (a step's "Questions to ask", the learning checkpoints) ticked when the
checkpoint that answers them by demonstration passes and left to self-assess otherwise, and its
time tracking table with actual minutes.

`python -m workbook progress` prints it and writes it as `progress.md` and a printable, self-contained
`progress.html` (with a bar chart of actual against target minutes) in the state folder. Everything is
read from the checklist, the registry and the progress file: nothing about the checklist is hard-coded."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import paths, record, registry
from .checklist import Checklist, Milestone, SelfCheck, Step, parse_checklist
from .text import table

TIME_NOTE = "Actual: minutes from starting a notebook to first passing its checkpoint"


@dataclass(frozen=True)
class Question:
    text: str
    checkpoints: tuple[str, ...]  # the checkpoints whose registry entry `answers` it
    done: bool  # every one of them passes; a question none answers is the learner's to tick


@dataclass(frozen=True)
class StepStatus:
    step: Step
    checkpoints: tuple[str, ...]
    done: bool
    regressed: bool  # a covering checkpoint passed once and fails on its last run
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class SelfCheckStatus:
    check: SelfCheck
    questions: tuple[Question, ...]

    @property
    def checkpoints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cp for q in self.questions for cp in q.checkpoints))


@dataclass(frozen=True)
class MilestoneTime:
    milestone: Milestone
    actual_minutes: float | None
    passed: int
    checkpoints: int


@dataclass(frozen=True)
class Report:
    title: str
    generated_at: datetime
    steps: tuple[StepStatus, ...]
    self_checks: tuple[SelfCheckStatus, ...]
    times: tuple[MilestoneTime, ...]
    total: MilestoneTime
    elsewhere: tuple[tuple[str, float], ...]  # measured checkpoints outside the table's milestones
    passed: int
    checkpoint_count: int


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def minutes_to_pass(checkpoint: registry.Checkpoint, state: record.Progress) -> float | None:
    """Minutes from the start of the checkpoint's notebook to its first pass; None if unmeasured."""
    result = state.checkpoints.get(checkpoint.id)
    started = state.notebooks.get(checkpoint.notebook.removesuffix(".ipynb"))
    if result is None or result.passed_at is None or started is None:
        return None
    seconds = (_utc(result.passed_at) - _utc(started.started_at)).total_seconds()
    return seconds / 60 if seconds >= 0 else None


def _sum(values: list[float | None]) -> float | None:
    measured = [value for value in values if value is not None]
    return sum(measured) if measured else None


def build_report(
    checklist: Checklist, checkpoints: list[registry.Checkpoint], state: record.Progress, now: datetime
) -> Report:
    def passing(cp: registry.Checkpoint) -> bool:
        result = state.checkpoints.get(cp.id)
        return bool(result and result.passed)

    def question(text: str, *also: str) -> Question:
        """`text`, answered by the checkpoints that name it (or `also`: its learning checkpoint)."""
        answering = [cp for cp in checkpoints if {text, *also} & set(cp.answers)]
        done = bool(answering) and all(passing(cp) for cp in answering)
        return Question(text, tuple(cp.id for cp in answering), done)

    steps = []
    for step in checklist.steps:
        covering = [cp for cp in checkpoints if step.number in cp.steps]
        results = [state.checkpoints[cp.id] for cp in covering if cp.id in state.checkpoints]
        regressed = any(result.passed_at and not result.passed for result in results)
        done = bool(covering) and all(passing(cp) for cp in covering)
        questions = tuple(question(text) for text in step.questions)
        steps.append(StepStatus(step, tuple(cp.id for cp in covering), done, regressed, questions))
    self_checks = tuple(
        SelfCheckStatus(check, tuple(question(text, check.heading) for text in check.questions))
        for check in checklist.self_checks
    )
    minutes = {cp.id: minutes_to_pass(cp, state) for cp in checkpoints}
    times = []
    for milestone in checklist.milestones:
        mine = [cp for cp in checkpoints if cp.milestone == milestone.name]
        actual = _sum([minutes[cp.id] for cp in mine])
        times.append(MilestoneTime(milestone, actual, sum(passing(cp) for cp in mine), len(mine)))
    names = {m.name for m in checklist.milestones}
    elsewhere = tuple(
        (cp.id, measured)
        for cp in checkpoints
        if cp.milestone not in names and (measured := minutes[cp.id]) is not None
    )
    total = MilestoneTime(
        checklist.total,
        _sum([t.actual_minutes for t in times]),
        sum(t.passed for t in times),
        sum(t.checkpoints for t in times),
    )
    passed = sum(passing(cp) for cp in checkpoints)
    return Report(
        f"Your progress: {checklist.title}",
        now,
        tuple(steps),
        self_checks,
        tuple(times),
        total,
        elsewhere,
        passed,
        len(checkpoints),
    )


def format_minutes(minutes: float | None) -> str:
    return "-" if minutes is None else f"{minutes:.1f}".removesuffix(".0") + " min"


def _step_suffix(status: StepStatus) -> str:
    if not status.checkpoints:
        return " (no checkpoint yet)"
    label = "checkpoint" if len(status.checkpoints) == 1 else "checkpoints"
    suffix = f" ({label} {', '.join(status.checkpoints)})"
    return suffix + (" - passed once, failing on its last run" if status.regressed else "")


def _answered_by(checkpoints: tuple[str, ...]) -> str:
    if not checkpoints:
        return ""
    return (
        f" (answered by {'checkpoint' if len(checkpoints) == 1 else 'checkpoints'} {', '.join(checkpoints)})"
    )


def _box(done: bool) -> str:
    return "[x]" if done else "[ ]"


LEARNING = "Learning checkpoints"
LEARNING_NOTE = "Ticked when the checkpoint that answers them passes; tick the others yourself"


def _notes(time: MilestoneTime) -> str:
    return (
        f"{time.passed} of {time.checkpoints} checkpoints passed" if time.checkpoints else "no checkpoint yet"
    )


def time_rows(report: Report) -> list[tuple[str, str, str, str]]:
    """(milestone, target, actual, notes) for every row of the checklist's table, the total last."""
    return [
        (t.milestone.name, t.milestone.target, format_minutes(t.actual_minutes), _notes(t))
        for t in (*report.times, report.total)
    ]


def summary(report: Report) -> str:
    return f"Checkpoints passed: {report.passed} of {report.checkpoint_count}."


def render_text(report: Report) -> str:
    """The report as Markdown that also reads well as plain text in a terminal."""
    lines = [f"# {report.title}", ""]
    lines += [f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.", "", "## Implementation steps", ""]
    for status in report.steps:
        box = "[x]" if status.done else "[ ]"
        lines.append(f"- {box} Step {status.step.number}: {status.step.title}{_step_suffix(status)}")
        lines += [f"{'  ' * (item.depth + 1)}- {box} {item.text}" for item in status.step.items]
        lines += [
            f"  - {_box(q.done)} Question to ask: {q.text}{_answered_by(q.checkpoints)}"
            for q in status.questions
        ]
    lines += ["", f"## {LEARNING}", "", f"{LEARNING_NOTE}."]
    for check in report.self_checks:
        lines += ["", f"### {check.check.heading}{_answered_by(check.checkpoints)}", check.check.prompt]
        lines += [f"- {_box(q.done)} {q.text}" for q in check.questions]
    lines += ["", "## Time tracking", "", f"{TIME_NOTE}.", ""]
    lines += table(
        ("Milestone", "Target", "Actual", "Notes"), time_rows(report), "markdown", right=[]
    ).splitlines()
    if report.elsewhere:
        measured = ", ".join(f"{cp} {format_minutes(m)}" for cp, m in report.elsewhere)
        lines += ["", f"Also measured, outside the checklist's milestones: {measured}."]
    return "\n".join([*lines, "", summary(report)])


CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
h3 { font-size: 1rem; } ul { list-style: none; padding-left: 1.2rem; } .done { color: #17692f; }
code { font-size: .92em; background: #f2f2f2; padding: 0 .2em; }
.note { color: #666; font-size: .9em; } .regressed { color: #a33; }
table { border-collapse: collapse; width: 100%; } tr.total { font-weight: bold; }
th, td { border: 1px solid #bbb; padding: .3rem .6rem; text-align: left; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
@media print {
  body { margin: 0; font-size: 11pt; } h2 { break-after: avoid; } li, tr, figure { break-inside: avoid; }
}
"""


def _inline(text: str) -> str:
    """Escaped text, with the checklist's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _html_question(question: Question, label: str = "") -> str:
    box, css = ("\u2611", "done") if question.done else ("\u2610", "todo")
    note = html.escape(_answered_by(question.checkpoints).strip())
    note = f' <span class="note">{note}</span>' if note else ""
    return f'<li class="{css}">{box} {html.escape(label)}{_inline(question.text)}{note}</li>'


def _html_step(status: StepStatus) -> str:
    box, css = ("\u2611", "done") if status.done else ("\u2610", "todo")
    note = html.escape(_step_suffix(status).strip())
    items = "".join(
        f'<li style="margin-left:{item.depth * 1.2}rem">{box} {_inline(item.text)}</li>'
        for item in status.step.items
    )
    items += "".join(_html_question(q, "Question to ask: ") for q in status.questions)
    title = _inline(f"Step {status.step.number}: {status.step.title}")
    note_css = "note regressed" if status.regressed else "note"
    heading = f'{box} <strong>{title}</strong> <span class="{note_css}">{note}</span>'
    return f'<li class="{css}">{heading}<ul>{items}</ul></li>'


def chart_svg(report: Report) -> str:
    """A horizontal bar chart of target and actual minutes per milestone, as inline SVG."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [t.milestone.name for t in report.times][::-1]
    targets = [t.milestone.target_minutes or 0 for t in report.times][::-1]
    actuals = [t.actual_minutes or 0 for t in report.times][::-1]
    with matplotlib.rc_context({"svg.hashsalt": "workbook-progress", "svg.fonttype": "none"}):
        figure = Figure(figsize=(7, 0.42 * len(names) + 1.2))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        rows = range(len(names))
        axes.barh([r + 0.2 for r in rows], targets, height=0.4, color="#c7c7c7", label="target")
        axes.barh([r - 0.2 for r in rows], actuals, height=0.4, color="#2b6cb0", label="actual")
        axes.set_yticks(list(rows), names)
        axes.set_xlabel("minutes")
        axes.legend(loc="lower right")
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _html_table(rows: list[tuple[str, str, str, str]]) -> str:
    """The time tracking table; its last row is the total."""
    head = "".join(f"<th>{h}</th>" for h in ("Milestone", "Target", "Actual", "Notes"))
    cells = ["".join(f"<td>{html.escape(cell)}</td>" for cell in row) for row in rows]
    body = "".join(f"<tr>{c}</tr>" for c in cells[:-1]) + f'<tr class="total">{cells[-1]}</tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    """A printable page with the same content as the text, styles inline, the chart inline."""
    e = html.escape
    parts = [f"<h1>{e(report.title)}</h1><p>{e(summary(report))} "]
    parts.append(f'<span class="note">Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.</span></p>')
    parts.append("<h2>Implementation steps</h2><ul>" + "".join(map(_html_step, report.steps)) + "</ul>")
    parts.append(f'<h2>{LEARNING}</h2><p class="note">{LEARNING_NOTE}.</p>')
    for check in report.self_checks:
        questions = "".join(_html_question(q) for q in check.questions)
        heading = e(check.check.heading + _answered_by(check.checkpoints))
        parts.append(f"<h3>{heading}</h3><p>{e(check.check.prompt)}</p><ul>{questions}</ul>")
    parts.append(f'<h2>Time tracking</h2><p class="note">{TIME_NOTE}.</p>')
    parts.append(_html_table(time_rows(report)))
    if report.elsewhere:
        measured = ", ".join(f"{cp} {format_minutes(m)}" for cp, m in report.elsewhere)
        parts.append(
            f'<p class="note">Also measured, outside the checklist\'s milestones: {e(measured)}.</p>'
        )
    parts.append(
        f"<figure>{chart_svg(report)}<figcaption>Actual against target minutes</figcaption></figure>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        f"{e(report.title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def write_report(
    now: datetime | None = None, registry_folder: Path | None = None, checklist_file: Path | None = None
) -> tuple[str, list[Path]]:
    """Render the report, write progress.md and progress.html to the state folder, return the text
    and the two paths. A corrupt progress file raises ProgressError before anything is written."""
    state = record.load()
    checkpoints = registry.load(registry_folder)
    checklist = parse_checklist((checklist_file or paths.checklist_file()).read_text(encoding="utf-8"))
    report = build_report(checklist, checkpoints, state, _utc(now or record.now()).astimezone(timezone.utc))
    text = render_text(report)
    folder = paths.state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    markdown, page = folder / "progress.md", folder / "progress.html"
    markdown.write_text(text + "\n", encoding="utf-8")
    page.write_text(render_html(report), encoding="utf-8")
    return text, [markdown, page]
