"""The proof that checkpoints reject wrong answers, not only missing ones.

For every exercise region of the solution notebooks, `mutants` derives wrong variants of the reference
answer. Each variant is laid out as the solutions leave the workspace at the checkpoint its notebook
ends with, with that one region changed, and the checkpoint runs on it: the variant is rejected when a
check that passes on the reference fails. A variant no check rejects is a missing check, or the same
program; instructors mark the latter in the checkpoint's registry file, with a reason:

    [equivalent]
    "03:03-004:L61:constant:1" = "the message is free text; no instruction fixes its wording"

Run as `python -m workbook.wrong_answers [CP ...] [--sample N] [--seed S]`."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import cells, check, mutants, registry, regions
from .errors import UserError
from .paths import checkpoints_dir, solutions_dir
from .text import plural, seconds, table
from .writer import write_all

GOAL = 0.95  # of the non-equivalent variants, per checkpoint
# Per variant, a multiple of the reference's own run (two run at once, and one checkpoint builds an
# image). A variant that runs past it is run once more with RETRY_FACTOR times as long: on a loaded
# machine a slow run is not a rejection. One that times out twice is neither rejected nor a survivor:
# it is reported apart, and `--require` fails on it, since no check said why it is wrong.
TIMEOUT_FACTOR, TIMEOUT_FLOOR, RETRY_FACTOR = 4, 120, 2
WORKERS = 2
# Checkpoints whose checks use one shared thing (the PostgreSQL database the learner's suite runs on,
# the image tag and container the export builds): two variants at once would fail each other.
SERIAL = ("task-tests", "task-shipped", "user-tests", "user-docker")


class EquivalentTableError(UserError, ValueError):
    """A registry file's `[equivalent]` table is not a table of variant names to reasons."""


@dataclass(frozen=True)
class Variant:
    name: str  # stable: notebook number, cell id, cell line, operator, ordinal on that line
    checkpoint: str
    notebook: str
    cell_id: str
    path: str
    line: int  # in the cell, counting its %%service line
    operator: str
    before: str
    after: str
    body: str  # the cell's body with the variant in place of the reference

    def diff(self) -> str:
        new = f"`{self.after}`" if self.after else "(removed)"
        return (
            f"{self.path} (cell {self.cell_id}, line {self.line}) {self.operator}: `{self.before}` -> {new}"
        )


@dataclass(frozen=True)
class Outcome:
    variant: Variant
    rejected: bool
    by: tuple[str, ...]  # the checks that failed on it
    timed_out: tuple[float, ...] = ()  # the timeouts of the runs that ran past them, in order


@dataclass
class Proof:
    checkpoint: registry.Checkpoint
    variants: list[Variant]  # those run (the whole set, or the sample)
    total: int  # the whole set's size
    equivalent: dict[str, str]  # name -> reason, from the registry
    without_variants: list[str] = field(default_factory=list)  # region files no operator changes
    outcomes: list[Outcome] = field(default_factory=list)
    baseline_failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def counted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.variant.name not in self.equivalent]

    @property
    def rejected(self) -> int:
        return sum(o.rejected for o in self.counted())

    @property
    def rate(self) -> float | None:
        counted = self.counted()
        return self.rejected / len(counted) if counted else None

    def survivors(self) -> list[Variant]:
        return [o.variant for o in self.counted() if not o.rejected and not self._undecided(o)]

    @staticmethod
    def _undecided(outcome: Outcome) -> bool:
        return not outcome.rejected and len(outcome.timed_out) > 1

    def timeouts(self) -> list[Outcome]:
        """Variants that ran past the timeout twice: neither rejected nor proven to survive."""
        return [o for o in self.counted() if self._undecided(o)]

    def rejected_by(self) -> str:
        """Which checks reject how many variants: a check that rejects all of them hides the others."""
        tally: dict[str, int] = {}
        for outcome in self.counted():
            for name in outcome.by:
                tally[name] = tally.get(name, 0) + 1
        return ", ".join(f"{name} {count}" for name, count in sorted(tally.items(), key=lambda i: -i[1]))

    def stale_marks(self) -> list[str]:
        names = {v.name for v in self.variants} if len(self.variants) == self.total else None
        return sorted(set(self.equivalent) - names) if names is not None else []


def equivalents(checkpoint: registry.Checkpoint, folder: Path | None = None) -> dict[str, str]:
    """The registry file's `[equivalent]` table: variant name -> why it is the same program."""
    folder = folder or checkpoints_dir() / "registry"
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if data.get("id") != checkpoint.id:
            continue
        table_ = data.get("equivalent", {})
        if not isinstance(table_, dict) or not all(
            isinstance(reason, str) and reason.strip() for reason in table_.values()
        ):
            raise EquivalentTableError(f"{path.name}: [equivalent] maps each variant name to a reason")
        return {str(name): str(reason) for name, reason in table_.items()}
    return {}


def _writes(checkpoint: registry.Checkpoint, folder: Path) -> list[cells.Write]:
    try:
        return cells.writes_until(folder, checkpoint.id)
    except KeyError:
        raise UserError(f"no solution notebook runs `%checkpoint {checkpoint.id}`") from None


def derive(checkpoint: registry.Checkpoint, folder: Path | None = None) -> tuple[list[Variant], list[str]]:
    """Every variant of the regions of the checkpoint's notebook, and the regions given none."""
    folder = folder or solutions_dir()
    writes = _writes(checkpoint, folder)
    number = checkpoint.notebook.split("-", 1)[0]
    variants: list[Variant] = []
    skipped: list[str] = []
    for index, write in enumerate(writes):
        if write.notebook != checkpoint.notebook or not regions.has_regions(write.body):
            continue
        later = [w for w in writes[index + 1 :] if (w.service, w.path) == (write.service, write.path)]
        if later:
            skipped.append(f"{write.path} (cell {write.cell_id}): rewritten by cell {later[-1].cell_id}")
            continue
        seen: dict[tuple[int, str], int] = {}
        found = 0
        for start, end, _ in regions._regions(write.body.splitlines()):
            for mutation in mutants.derive(write.body, start + 2, end, write.path):
                found += 1
                line = mutation.line + 1  # the %%service line comes first in the cell
                ordinal = seen[(line, mutation.operator)] = seen.get((line, mutation.operator), 0) + 1
                name = f"{number}:{write.cell_id}:L{line}:{mutation.operator}:{ordinal}"
                variants.append(
                    Variant(name, checkpoint.id, write.notebook, write.cell_id, write.path, line,
                            mutation.operator, mutation.before, mutation.after, mutation.source)  # fmt: skip
                )
        if not found:
            kind = mutants.kind(write.path)
            skipped.append(
                f"{write.path} (cell {write.cell_id}): the {kind} operators find nothing to change"
            )
    return variants, skipped


def sample(variants: list[Variant], size: int | None, seed: int, checkpoint_id: str) -> list[Variant]:
    """The whole set (size None), or `size` of them chosen by (seed, checkpoint): the same every run."""
    if size is None or size >= len(variants):
        return variants
    chosen = random.Random(f"{seed}:{checkpoint_id}").sample(range(len(variants)), size)
    return [variants[i] for i in sorted(chosen)]


def _run(
    checkpoint: registry.Checkpoint, writes: list[cells.Write], timeout: float = check.TIMEOUT_SECONDS
) -> check.CheckpointResult:
    with tempfile.TemporaryDirectory(prefix=f"workbook-wrong-{checkpoint.id}-") as scratch:
        root = Path(scratch) / "services"
        root.mkdir()
        write_all(writes, root)
        # Behaviour only: a mutant flake8 happens to flag (an unused name) is not a check catching it.
        return check.run_checkpoint(checkpoint, root, timeout, style=False)


def judge(
    variant: Variant,
    checkpoint: registry.Checkpoint,
    writes: list[cells.Write],
    passing: set[str],
    timeout: float = check.TIMEOUT_SECONDS,
) -> Outcome:
    """Run the checkpoint on the workspace with `variant` in place of its cell's reference."""
    swapped = [
        replace(w, body=variant.body) if (w.notebook, w.cell_id) == (variant.notebook, variant.cell_id) else w
        for w in writes
    ]
    timed_out: tuple[float, ...] = ()
    result = _run(checkpoint, swapped, timeout)
    if result.timed_out:
        timed_out += (timeout,)
        result = _run(checkpoint, swapped, timeout * RETRY_FACTOR)
        if result.timed_out:
            return Outcome(variant, False, (), timed_out + (timeout * RETRY_FACTOR,))
    outcomes = result.outcomes()
    failed = tuple(sorted(name for name in passing if outcomes.get(name) != "passed"))
    failed += tuple(sorted(n for n, o in outcomes.items() if n not in passing and o in ("failed", "error")))
    return Outcome(variant, bool(failed), failed, timed_out)


def prove(
    checkpoint: registry.Checkpoint,
    size: int | None = None,
    seed: int = 0,
    workers: int = WORKERS,
    folder: Path | None = None,
) -> Proof:
    started = time.monotonic()
    folder = folder or solutions_dir()
    every, skipped = derive(checkpoint, folder)
    proof = Proof(checkpoint, sample(every, size, seed, checkpoint.id), len(every), equivalents(checkpoint))
    proof.without_variants = skipped
    if proof.variants:
        writes = _writes(checkpoint, folder)
        baseline = _run(checkpoint, writes)  # make test's prove has usually run it already
        timeout = max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * baseline.seconds)
        proof.baseline_failed = sorted(c.name for c in baseline.checks if c.outcome in ("failed", "error"))
        if not proof.baseline_failed:
            passing = {c.name for c in baseline.checks if c.passed}
            # The runner's timeout suits a learner's one run; a variant that hangs the checks (a
            # dropped loop step) must not hold a worker for fifteen minutes.
            serial = checkpoint.id in SERIAL
            with ThreadPoolExecutor(max_workers=1 if serial else workers) as pool:
                proof.outcomes = list(
                    pool.map(lambda v: judge(v, checkpoint, writes, passing, timeout), proof.variants)
                )
    proof.seconds = time.monotonic() - started
    return proof


def _rate(proof: Proof) -> str:
    rate = proof.rate
    return "-" if rate is None else f"{100 * rate:.0f}%"


def summary_table(proofs: list[Proof], style: str = "text") -> str:
    header = [
        "checkpoint",
        "rejected",
        "non-equivalent",
        "timed out",
        "equivalent",
        "run",
        "whole set",
        "rate",
        "time",
        "note",
    ]
    rows = []
    for proof in proofs:
        counted = proof.counted()
        notes = []
        if proof.baseline_failed:
            notes.append(f"fails on the reference ({', '.join(proof.baseline_failed)})")
        elif proof.rate is not None and proof.rate < GOAL:
            notes.append(f"below {100 * GOAL:.0f}%")
        if proof.without_variants:
            notes.append(plural(len(proof.without_variants), "region file") + " without variants")
        if proof.timeouts():
            notes.append(plural(len(proof.timeouts()), "variant") + " timed out twice")
        if not proof.total:
            notes.append("no exercise region")
        rows.append([
            proof.checkpoint.id, proof.rejected, len(counted), len(proof.timeouts()),
            len(proof.outcomes) - len(counted), len(proof.variants), proof.total, _rate(proof),
            seconds(proof.seconds), "; ".join(notes) or "-",
        ])  # fmt: skip
    return table(
        header, rows, style="markdown" if style == "markdown" else "text", right=[1, 2, 3, 4, 5, 6, 7, 8]
    )


def survivors_text(proofs: list[Proof], style: str = "text") -> str:
    out: list[str] = []
    for proof in proofs:
        survivors = proof.survivors()
        stale = proof.stale_marks()
        if not (proof.outcomes or proof.without_variants or stale):
            continue
        heading = f"{proof.checkpoint.id} ({proof.checkpoint.notebook}): " + plural(
            len(survivors), "survivor"
        )
        out += ["", f"### {heading}" if style == "markdown" else heading]
        bullet = "- " if style == "markdown" else "  "
        if proof.rejected:
            out.append(f"{bullet}rejected by: {proof.rejected_by()}")
        out += [f"{bullet}{v.name}  {v.diff()}" for v in survivors]
        out += [
            f"{bullet}timed out ({' s, then '.join(f'{t:.0f}' for t in o.timed_out)} s): "
            f"{o.variant.name}  {o.variant.diff()}"
            for o in proof.timeouts()
        ]
        out += [f"{bullet}no variants: {note}" for note in proof.without_variants]
        out += [f"{bullet}marked equivalent, but no such variant (stale mark): {name}" for name in stale]
    return "\n".join(out)


def render(proofs: list[Proof], style: str = "text") -> str:
    lines = [summary_table(proofs, style)]
    total = sum(len(p.counted()) for p in proofs)
    rejected = sum(p.rejected for p in proofs)
    below = [p.checkpoint.id for p in proofs if p.rate is not None and p.rate < GOAL]
    timeouts = sum(len(p.timeouts()) for p in proofs)
    lines.append("")
    lines.append(
        f"{rejected} of {plural(total, 'non-equivalent variant')} rejected; "
        + (
            f"below the {100 * GOAL:.0f}% goal: {', '.join(below)}"
            if below
            else f"every checkpoint at {100 * GOAL:.0f}% or more"
        )
    )
    if timeouts:
        lines[-1] += f"; {plural(timeouts, 'variant')} timed out twice, neither rejected nor survived"
    spent = sum(p.seconds for p in proofs)
    lines[-1] += f" ({plural(sum(len(p.outcomes) for p in proofs), 'variant')} run in {seconds(spent)})"
    survivors = survivors_text(proofs, style)
    return "\n".join(lines) + ("\n" + survivors if survivors else "")


def add_arguments(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command's arguments, for this module's own parser and for the workbook's CLI."""
    command.add_argument("checkpoints", nargs="*", help="checkpoint ids (default: all)")
    command.add_argument("--sample", type=int, default=None, help="N variants per checkpoint (default: all)")
    command.add_argument(
        "--seed", type=int, default=0, help="which N variants (the same seed, the same sample)"
    )
    command.add_argument("--workers", type=int, default=WORKERS, help=f"at most {WORKERS}")
    command.add_argument(
        "--skip", action="append", default=[], metavar="CP", help="leave this checkpoint out (repeatable)"
    )
    command.add_argument(
        "--markdown", type=Path, default=None, help="also write the report, as Markdown, here"
    )
    command.add_argument(
        "--require",
        action="store_true",
        help=f"exit 1 when a checkpoint is below {100 * GOAL:.0f}%% or a variant timed out twice",
    )
    return command


def run(args: argparse.Namespace) -> int:
    """Prove the checkpoints named (all by default) and print the report; a `UserError` propagates."""
    checkpoints = [registry.get(i) for i in args.checkpoints] if args.checkpoints else registry.load()
    skipped = {registry.get(i).id for i in args.skip}  # a mistyped id is refused, not ignored
    checkpoints = [c for c in checkpoints if c.id not in skipped]
    proofs = []
    for checkpoint in checkpoints:
        proofs.append(prove(checkpoint, args.sample, args.seed, max(1, min(args.workers, WORKERS))))
        print(f"{checkpoint.id}: {len(proofs[-1].outcomes)} variants run", file=sys.stderr, flush=True)
    print(render(proofs))
    if args.markdown:
        args.markdown.write_text(render(proofs, "markdown") + "\n", encoding="utf-8")
    failing = any(p.baseline_failed for p in proofs)
    below = any(p.rate is not None and p.rate < GOAL for p in proofs)
    undecided = any(p.timeouts() for p in proofs)
    return 1 if failing or (args.require and (below or undecided)) else 0


def main(argv: list[str] | None = None) -> int:
    command = argparse.ArgumentParser(prog="workbook wrong-answers", description=__doc__.splitlines()[0])
    args = add_arguments(command).parse_args(argv)
    try:
        return run(args)
    except UserError as error:
        print(f"workbook wrong-answers: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
