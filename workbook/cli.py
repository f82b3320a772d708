"""`python -m workbook COMMAND`: the commands behind the Makefile's targets.

Bad input (an unknown checkpoint, a corrupt progress file, a missing tool) raises a `UserError`,
which gets one line on stderr and exit status 2; nothing is changed. Any other exception is a bug in
the workbook and keeps its traceback."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from . import record, registry, wrong_answers
from .errors import UserError
from .text import plural


def cmd_notebooks(args: argparse.Namespace) -> int:
    from .notebooks import generate

    differing = generate(check=args.check)
    if args.check:
        if differing:
            names = ", ".join(p.name for p in differing)
            print(f"notebooks/ is stale ({names}): run `make notebooks`", file=sys.stderr)
            return 1
        print("notebooks/ is fresh: every learner notebook matches its solution")
        return 0
    print(
        f"regenerated {plural(len(differing), 'learner notebook')}"
        if differing
        else "notebooks/ was already fresh"
    )
    return 0


def cmd_checkpoints(args: argparse.Namespace) -> int:
    for cp in registry.load():
        steps = ",".join(cp.steps) or "-"
        print(f"{cp.id:24} {cp.notebook:34} steps {steps:16} {cp.title}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .check import render, run_checkpoint, summary

    state = record.load()  # corrupt: stop before running anything
    if args.checkpoint:
        wanted = [registry.get(args.checkpoint)]
    else:
        reached = set(state.checkpoints) | set(reached_by_reset(state.reset_to))
        wanted = [cp for cp in registry.load() if cp.id in reached]
        if not wanted:
            print("no checkpoint reached yet: run one with `make check CP=id` (see `make checkpoints`)")
            return 0
    results = []
    for checkpoint in wanted:
        result = run_checkpoint(checkpoint)
        record.record_result(checkpoint.id, result.passed, result.outcomes())
        print(render(result), end="\n\n", flush=True)
        results.append(result)
    print(summary(results))
    return 0 if all(result.passed for result in results) else 1


def reached_by_reset(checkpoint: str | None) -> list[str]:
    """The checkpoints whose files a reset to `checkpoint` wrote: it and every one before it."""
    from .cells import checkpoint_order
    from .paths import solutions_dir

    order = checkpoint_order(solutions_dir())
    return order[: order.index(checkpoint) + 1] if checkpoint in order else []


def cmd_reset(args: argparse.Namespace) -> int:
    from .reset import START, reset_to

    record.load()  # a corrupt progress file is reported before anything is touched
    print(reset_to(args.checkpoint).summary())
    record.record_reset(None if args.checkpoint == START else args.checkpoint)
    return 0


def cmd_backups(args: argparse.Namespace) -> int:
    from .backups import list_backups

    backups = list_backups()
    if not backups:
        print("no backups yet")
    for backup in backups:
        print(backup.summary())
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from .backups import restore

    print(restore(args.backup).summary())
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from .progress import write_report

    text, written = write_report()
    print(text)
    print(f"\nwritten: {', '.join(str(p) for p in written)}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import render, run_checks

    findings = run_checks()
    print(render(findings))
    return 1 if any(f.status == "fail" for f in findings) else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .replay import replay

    return replay(args.notebooks, workers=args.workers)


def cmd_prove(args: argparse.Namespace) -> int:
    from .prove import prove

    return prove(args.checkpoints)


def cmd_outputs(args: argparse.Namespace) -> int:
    from .outputs import chosen, execute_in_place, require_prerequisites

    paths = chosen(args.notebooks, onward=args.onward)
    require_prerequisites()
    for path in paths:
        execute_in_place(path)
        print(f"refreshed the stored outputs of {path.name}", flush=True)
    return 0


def cmd_docker(args: argparse.Namespace) -> int:
    from .docker import export_images

    return int(export_images(reference=args.reference))


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    return run_bench()


def cmd_wrong_answers(args: argparse.Namespace) -> int:
    from .wrong_answers import run

    return run(args)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="workbook", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help, description=help)
        command.set_defaults(handler=handler)
        return command

    add("notebooks", cmd_notebooks, "regenerate the learner notebooks from solutions/").add_argument(
        "--check", action="store_true", help="only report whether notebooks/ is stale"
    )
    add("checkpoints", cmd_checkpoints, "list checkpoint ids and titles")
    add("check", cmd_check, "run a checkpoint (or every one reached so far)").add_argument(
        "checkpoint", nargs="?", help="checkpoint id; omitted: all reached so far"
    )
    add("reset", cmd_reset, "back up services/, then rebuild it as the solutions leave it").add_argument(
        "checkpoint", help="checkpoint id, or 'start' for the empty workspace"
    )
    add("backups", cmd_backups, "list backups of services/")
    add("restore", cmd_restore, "restore a backup (the current state is backed up first)").add_argument(
        "backup", help="backup id (see `make backups`)"
    )
    add("progress", cmd_progress, "the checklist ticked from your checkpoints, and your times")
    add("doctor", cmd_doctor, "diagnose the checklist's common issues, with their fixes")
    replay_cmd = add("replay", cmd_replay, "replay every solution notebook under nbval into scratch folders")
    replay_cmd.add_argument("notebooks", nargs="*", help="notebook names (default: all)")
    replay_cmd.add_argument("--workers", type=int, default=1)
    add(
        "prove", cmd_prove, "prove each checkpoint passes on solutions and fails on learner code"
    ).add_argument("checkpoints", nargs="*", help="checkpoint ids (default: all)")
    outputs_cmd = add("outputs", cmd_outputs, "run solution notebooks and store their outputs (instructors)")
    outputs_cmd.add_argument("notebooks", nargs="+", help="solution notebook names, or their numbers (04)")
    outputs_cmd.add_argument(
        "--onward", action="store_true", help="also every notebook after the first one named, in order"
    )
    add("docker", cmd_docker, "build and smoke-test a container image for every service").add_argument(
        "--reference", action="store_true", help="build the solutions' services instead of yours"
    )
    add("bench", cmd_bench, "time check, reset and replay; print a table")
    wrong = add(
        "wrong-answers", cmd_wrong_answers, "count the wrong variants of each answer a checkpoint rejects"
    )
    wrong_answers.add_arguments(wrong)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UserError as error:
        print(f"workbook {args.command}: {error}", file=sys.stderr)
        return 2
