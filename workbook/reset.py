"""Resetting the learner's workspace to a checkpoint, with no kernel and no stored snapshot.

The solution notebooks are the snapshot: replaying every `%%service` cell up to the end of checkpoint
K, in order, rebuilds the workspace as the reference leaves it at K (a later write of a file wins, as
it would in a kernel). Everything that can be wrong with the request is found before anything is
touched, and the workspace is backed up before it is cleared. The progress file is not read here;
the `reset` command refuses to run while it is corrupt, so the learner hears of it first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import cells, paths, registry, snapshot, writer
from .backups import Backup, create_backup, kept_in_place
from .errors import UserError
from .text import plural

START = "start"  # the empty workspace, before the first notebook
KEPT = ("README.md",)  # the workspace's own guide is not the learner's work


class ResetError(UserError, ValueError):
    """The registry names a checkpoint that no solution notebook reaches (an authoring slip), or
    writing the solution files failed after the workspace was cleared (the backup holds the state)."""


@dataclass(frozen=True)
class ResetOutcome:
    checkpoint: str
    written: tuple[Path, ...]  # distinct files, in the order first written
    backup: Backup  # the state just before the reset
    environments: tuple[str, ...] = ()  # virtual environments left in place

    def summary(self) -> str:
        saved = f"the state before was saved as backup {self.backup.id}"
        if self.backup.skipped:  # said here: the reset clears the caches, and they are in no backup
            saved += f" ({self.backup.left_out})"
        files = plural(len(self.written), "file")
        kept = kept_in_place(self.environments)
        return f"reset to {self.checkpoint}: {files} written from the solutions; {saved}{kept}"


def planned_writes(checkpoint: str, root: Path) -> list[cells.Write]:
    """The `%%service` cells to replay for `checkpoint`, checked (ids, paths, exercise regions)
    so that a bad request fails here, before the workspace is touched."""
    if checkpoint == START:
        return []
    registry.get(checkpoint)  # UnknownCheckpoint, listing the known ids
    try:
        writes = cells.writes_until(paths.solutions_dir(), checkpoint)
    except KeyError:
        raise ResetError(
            f"checkpoint {checkpoint!r} is in the registry but no solution notebook runs "
            f"`%checkpoint {checkpoint}`; nothing was changed"
        ) from None
    for write in writes:
        writer.target_path(write.service, write.path, root)  # ServicePathError
        writer.file_text(write.body)  # RegionError
    return writes


def reset_to(checkpoint: str, root: Path | None = None) -> ResetOutcome:
    """Back up the services root, clear it (except its README), and write the solutions' files up to
    the end of `checkpoint` ("start": none)."""
    root = root or paths.services_root()
    writes = planned_writes(checkpoint, root)
    backup = create_backup(root, reason=f"before reset to {checkpoint}")
    try:
        environments = snapshot.clear(root, keep=KEPT)
        written = writer.write_all(writes, root)
    except OSError as error:
        raise ResetError(
            f"reset to {checkpoint} stopped midway ({error}); the state before is backup {backup.id}"
        ) from error
    return ResetOutcome(checkpoint, tuple(dict.fromkeys(written)), backup, tuple(environments))
