"""Backups of the services root: what they hold, how they are listed, and restoring them byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbook import backups, cli, paths
from workbook import snapshot as snapshots
from workbook.backups import (
    BackupDamaged,
    BackupError,
    UnknownBackup,
    create_backup,
    list_backups,
    restore,
)

# ---------------------------------------------------------------- trees on disk, for every test


@dataclass(frozen=True)
class File:
    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Folder:
    children: dict[str, "Node"]
    mode: int = 0o755


Node = Union[File, Link, Folder]
Entry = tuple[object, ...]  # ("file", bytes, mode) | ("dir", mode) | ("link", target)


def build(base: Path, children: dict[str, Node]) -> None:
    base.mkdir(parents=True, exist_ok=True)
    for name, node in children.items():
        path = base / name
        if isinstance(node, File):
            path.write_bytes(node.data)
            os.chmod(path, node.mode)
        elif isinstance(node, Link):
            os.symlink(node.target, path)
        else:
            build(path, node.children)
            os.chmod(path, node.mode)  # after the children: a read-only folder is still filled


def snapshot(root: Path) -> dict[str, Entry]:
    """Everything under root: path -> bytes and mode, folder mode, or symlink target. Nothing followed."""
    found: dict[str, Entry] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir", mode)
        else:
            found[relative] = ("file", path.read_bytes(), mode)
    return found


def remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        for child in path.rglob("*"):
            if child.is_dir() and not child.is_symlink():
                os.chmod(child, 0o755)
        os.chmod(path, 0o755)
        shutil.rmtree(path)


def backup_ids() -> list[str]:
    return [b.id for b in list_backups()]


@pytest.fixture
def root(isolated_workspace: Path) -> Path:
    """The scratch services root every tooling test gets (tests/conftest.py)."""
    return isolated_workspace


SAMPLE: dict[str, Node] = {
    "README.md": File(b"# Your services\n"),
    "task-service": Folder(
        {
            "src": Folder({"main.py": File(b"app = 1\n"), "empty.py": File(b"")}),
            "run.sh": File(b"#!/bin/sh\necho hi\n", 0o755),
            "data.bin": File(bytes(range(256)) * 3, 0o600),
            "cache": Folder({}, 0o700),
        }
    ),
}


# ---------------------------------------------------------------- create_backup


def test_manifest_describes_every_file(root: Path) -> None:
    build(root, SAMPLE)
    made = create_backup(reason="before trying something")
    manifest = json.loads((paths.backups_dir() / made.id / "manifest.json").read_text())
    assert manifest["id"] == made.id
    assert manifest["reason"] == "before trying something"
    assert manifest["root"] == str(root)
    created = datetime.fromisoformat(manifest["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=1)
    on_disk = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    expected = {
        rel: {
            "path": rel,
            "size": p.stat().st_size,
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            "mode": f"{stat.S_IMODE(p.stat().st_mode):04o}",
        }
        for rel, p in on_disk.items()
    }
    assert {entry["path"]: entry for entry in manifest["files"]} == expected
    assert {d["path"]: d["mode"] for d in manifest["dirs"]} == {
        "task-service": "0755",
        "task-service/src": "0755",
        "task-service/cache": "0700",
    }
    stored = paths.backups_dir() / made.id / "files"
    assert {rel: e[1] for rel, e in snapshot(stored).items() if e[0] == "file"} == {
        rel: e[1] for rel, e in snapshot(root).items() if e[0] == "file"
    }
    assert (made.file_count, made.total_size) == (5, sum(p.stat().st_size for p in on_disk.values()))


def test_caches_are_skipped_and_nothing_else(root: Path) -> None:
    build(
        root,
        {
            "__pycache__": Folder({"main.cpython-311.pyc": File(b"\0")}),
            "svc": Folder(
                {
                    ".pytest_cache": Folder({"v": File(b"x")}),
                    ".mypy_cache": Folder({"3.11": Folder({"main.data.json": File(b"m" * 3000)})}),
                    ".ruff_cache": Folder({"0.5": File(b"r")}),
                    "htmlcov": Folder({"index.html": File(b"<html>")}),
                    ".coverage": File(b"c" * 100),
                    ".coverage.host.123.abc": File(b"p"),
                    ".venv": Folder({"bin": Folder({"python": Link("/usr/bin/python3")})}),
                    "env-of-mine": Folder({"pyvenv.cfg": File(b"home = /usr\n"), "lib": Folder({})}),
                    "old.pyc": File(b"\0"),
                    "notes.pyc.txt": File(b"kept"),
                    "pycache": Folder({"kept.py": File(b"")}),
                    "coverage.md": File(b"kept"),
                    ".coveragerc": File(b"[run]\n"),
                    "venvs.txt": File(b"kept"),
                    ".env": File(b"SECRET=1\n"),
                    "cache-link": Link(".mypy_cache"),  # a symlink is kept, never followed
                }
            ),
        },
    )
    made = create_backup()
    manifest = json.loads((made.folder / "manifest.json").read_text())
    assert sorted(f["path"] for f in manifest["files"]) == [
        "svc/.coveragerc",
        "svc/.env",
        "svc/coverage.md",
        "svc/notes.pyc.txt",
        "svc/pycache/kept.py",
        "svc/venvs.txt",
    ]
    assert [s["path"] for s in manifest["symlinks"]] == ["svc/cache-link"]
    left_out = {entry["path"]: entry["size"] for entry in manifest["skipped"]}
    assert left_out == {
        "__pycache__": 1,
        "svc/.coverage": 100,
        "svc/.coverage.host.123.abc": 1,
        "svc/.mypy_cache": 3000,
        "svc/.pytest_cache": 1,
        "svc/.ruff_cache": 1,
        "svc/.venv": len("/usr/bin/python3"),  # the symlink's own size, its target not followed
        "svc/env-of-mine": len("home = /usr\n"),
        "svc/htmlcov": 6,
        "svc/old.pyc": 1,
    }
    assert made.skipped_size == sum(left_out.values()) and len(made.skipped) == 10
    line = made.summary()
    assert "6 files, " in line and "left out 3.1 KB of tool caches and virtual environments" in line
    assert "(__pycache__, svc/.coverage, +8 more)" in line and "\n" not in line
    assert list_backups()[0].summary() == line, "the listing reads the same from the manifest"
    restore(made.id)
    assert not (root / "__pycache__").exists() and not (root / "svc" / "old.pyc").exists()
    assert not (root / "svc" / ".mypy_cache").exists() and (root / "svc" / "coverage.md").is_file()


def test_virtual_environments_stay_in_place_through_a_restore(root: Path) -> None:
    build(root, {"svc": Folder({"app.py": File(b"1")})})
    made = create_backup(reason="before the environments")
    environments = {
        "svc": Folder(
            {
                "app.py": File(b"2"),
                ".venv": Folder({"bin": Folder({"python": Link("/usr/bin/python3")})}),
                ".mypy_cache": Folder({"x.json": File(b"m")}),
                "tools": Folder({"env": Folder({"pyvenv.cfg": File(b"home = /usr\n")})}, 0o700),
            }
        ),
    }
    build(root, environments)
    outcome = restore(made.id)
    after = snapshot(root)
    assert after["svc/app.py"] == ("file", b"1", 0o644), "the backup's files come back byte for byte"
    assert after["svc/.venv/bin/python"] == ("link", "/usr/bin/python3")
    assert after["svc/tools"] == ("dir", 0o700) and "svc/tools/env/pyvenv.cfg" in after
    assert "svc/.mypy_cache" not in after, "caches are cleared: their tools rebuild them"
    line = outcome.summary()
    assert (
        line.endswith("; virtual environments kept in place: svc/.venv, svc/tools/env") and "\n" not in line
    )
    assert outcome.safety.skipped == ("svc/.mypy_cache", "svc/.venv", "svc/tools/env")


def test_a_restore_that_would_write_over_an_environment_changes_nothing(root: Path) -> None:
    build(root, {"svc": File(b"a file where a folder will be")})
    made = create_backup()
    remove(root / "svc")
    build(root, {"svc": Folder({".venv": Folder({"pyvenv.cfg": File(b"")})})})
    before, ids = snapshot(root), backup_ids()
    with pytest.raises(BackupError, match="has a file at svc, where the virtual environment svc/.venv is"):
        restore(made.id)
    assert snapshot(root) == before and backup_ids() == ids


def test_a_backup_without_skipped_entries_reads_as_before(root: Path) -> None:
    build(root, {"a.py": File(b"1")})
    made = create_backup(reason="plain")
    manifest = made.folder / "manifest.json"
    data = json.loads(manifest.read_text())
    assert data.pop("skipped") == []
    manifest.write_text(json.dumps(data))  # a manifest written before skipped entries were recorded
    [listed] = list_backups()
    assert listed.skipped == () and listed.summary().endswith("1 file, 1 B  plain")


def test_symlinks_are_stored_as_symlinks_never_followed(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    build(outside, {"big.bin": File(b"x" * 5000)})
    build(
        root,
        {
            "a.txt": File(b"a"),
            "to-a": Link("a.txt"),
            "loop": Link("."),  # followed, this would never end
            "out": Link(str(outside)),
            "dangling": Link("no/such/file"),
        },
    )
    made = create_backup()
    manifest = json.loads((made.folder / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["a.txt"]
    assert {s["path"]: s["target"] for s in manifest["symlinks"]} == {
        "to-a": "a.txt",
        "loop": ".",
        "out": str(outside),
        "dangling": "no/such/file",
    }
    assert os.readlink(made.folder / "files" / "out") == str(outside)
    remove(root / "out")
    restore(made.id)
    assert os.readlink(root / "out") == str(outside)


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_missing_or_empty_root_makes_an_empty_backup(root: Path, state: str) -> None:
    if state == "missing":
        root.rmdir()
    made = create_backup()
    assert (made.file_count, made.total_size) == (0, 0)
    build(root, {"later.py": File(b"1")})
    restore(made.id)
    assert root.is_dir() and snapshot(root) == {}


def test_ids_are_unique_and_chronological_within_one_second(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2026, 11, 26, 5, 15, 2, tzinfo=timezone.utc)
    monkeypatch.setattr(backups, "_now", lambda: moment)
    made = [create_backup(reason=str(n)).id for n in range(3)]
    assert len(set(made)) == 3 and all(i.startswith("20261126-051502") for i in made)
    assert sorted(made) == made == backup_ids()
    # A clock that goes backwards must not make a new backup sort before older ones.
    monkeypatch.setattr(backups, "_now", lambda: moment - timedelta(hours=1))
    later = create_backup(reason="clock went back")
    assert backup_ids() == made + [later.id]
    assert [b.reason for b in list_backups()] == ["0", "1", "2", "clock went back"]


def test_ids_past_99_within_a_second_still_sort(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backups, "_now", lambda: datetime(2026, 11, 26, 5, 15, 2, tzinfo=timezone.utc))
    (paths.backups_dir() / "20261126-051502-99").mkdir(parents=True)
    made = create_backup()
    assert made.id == "20261126-051502-100"
    assert backup_ids() == ["20261126-051502-99", made.id]


def test_state_dir_inside_the_root_is_refused(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBOOK_STATE_DIR", str(root / ".workbook"))
    build(root, {"a.py": File(b"1")})
    with pytest.raises(BackupError, match="inside"):
        create_backup()
    assert snapshot(root) == {"a.py": ("file", b"1", 0o644)}


def test_a_failed_backup_leaves_nothing_behind(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(root, SAMPLE)

    def disk_full(source: Path, target: Path) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshots, "_copy_hashing", disk_full)
    with pytest.raises(BackupError, match="No space left"):
        create_backup()
    assert list(paths.backups_dir().iterdir()) == []


def test_a_file_deleted_during_the_backup_is_left_out(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(root, {"app.py": File(b"1"), "tasks.db-journal": File(b"j")})
    copy = snapshots._copy_hashing

    def journal_gone(source: Path, target: Path) -> tuple[int, str]:
        if source.name == "tasks.db-journal":  # a running service's SQLite removes it at any time
            raise FileNotFoundError(2, "No such file or directory", str(source))
        return copy(source, target)

    monkeypatch.setattr(snapshots, "_copy_hashing", journal_gone)
    made = create_backup()
    manifest = json.loads((made.folder / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["app.py"] and made.file_count == 1


# ---------------------------------------------------------------- list_backups and summaries


def test_no_backups_lists_nothing(root: Path) -> None:
    assert list_backups() == []


def _break_manifest(folder: Path, how: str) -> None:
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text())
    if how == "missing":
        manifest.unlink()
    elif how == "not json":
        manifest.write_text("{ this is not json")
    elif how == "wrong shape":
        manifest.write_text(json.dumps({**data, "files": "everything"}))
    elif how == "escaping path":
        data["files"][0]["path"] = "../../etc/passwd"
        manifest.write_text(json.dumps(data))
    elif how == "bad mode":
        data["files"][0]["mode"] = "rwxr-xr-x"
        manifest.write_text(json.dumps(data))
    elif how == "newer format":
        manifest.write_text(json.dumps({**data, "format": 2}))
    elif how == "other id":
        manifest.write_text(json.dumps({**data, "id": "19990101-000000-00"}))


CORRUPTIONS = ["missing", "not json", "wrong shape", "escaping path", "bad mode", "newer format", "other id"]


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_damaged_backup_is_listed_as_damaged(root: Path, how: str) -> None:
    build(root, SAMPLE)
    good, bad = create_backup(reason="good"), create_backup(reason="bad")
    _break_manifest(bad.folder, how)
    listed = list_backups()
    assert [b.id for b in listed] == [good.id, bad.id]
    assert not listed[0].damaged and listed[1].damaged
    line = listed[1].summary()
    assert line.startswith(f"{bad.id}  damaged: ") and "\n" not in line


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_restore_of_a_corrupt_manifest_says_so_and_changes_nothing(root: Path, how: str) -> None:
    build(root, SAMPLE)
    bad = create_backup()
    _break_manifest(bad.folder, how)
    build(root, {"new.py": File(b"work in progress")})
    before, ids = snapshot(root), backup_ids()
    with pytest.raises(BackupDamaged) as raised:
        restore(bad.id)
    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert message.startswith(f"backup {bad.id} is damaged: ") and "\n" not in message
    assert message.endswith("nothing was changed")
    assert snapshot(root) == before and backup_ids() == ids


@pytest.mark.parametrize("tamper", ["edit", "delete", "relink"])
def test_restore_of_files_not_matching_the_manifest_changes_nothing(root: Path, tamper: str) -> None:
    build(root, {**SAMPLE, "link": Link("README.md")})
    made = create_backup()
    stored = made.folder / "files"
    if tamper == "edit":
        (stored / "task-service" / "src" / "main.py").write_bytes(b"app = 2\n")  # same size, other bytes
    elif tamper == "delete":
        (stored / "task-service" / "data.bin").unlink()
    else:
        (stored / "link").unlink()
        os.symlink("elsewhere", stored / "link")
    build(root, {"new.py": File(b"work in progress")})
    before, ids = snapshot(root), backup_ids()
    with pytest.raises(BackupDamaged, match="do not match its manifest"):
        restore(made.id)
    assert snapshot(root) == before and backup_ids() == ids


@pytest.mark.parametrize("wanted", ["20990101-000000-00", "../state", "", "."])
def test_restore_of_an_unknown_id_lists_the_known_ones_and_changes_nothing(root: Path, wanted: str) -> None:
    build(root, SAMPLE)
    known = [create_backup().id, create_backup().id]
    before = snapshot(root)
    with pytest.raises(UnknownBackup) as raised:
        restore(wanted)
    assert isinstance(raised.value, LookupError)
    message = str(raised.value)
    assert "\n" not in message and all(i in message for i in known)
    assert snapshot(root) == before and backup_ids() == known


def test_restore_of_an_unknown_id_with_no_backups(root: Path) -> None:
    with pytest.raises(UnknownBackup, match="known: none"):
        restore("20990101-000000-00")
    assert list_backups() == []


def test_restore_backs_up_first_then_replaces_everything(root: Path) -> None:
    build(root, SAMPLE)
    original = snapshot(root)
    made = create_backup(reason="good state")
    remove(root / "task-service" / "src")
    build(root, {"README.md": File(b"edited\n", 0o600), "extra": Folder({"x.py": File(b"x")})})
    os.chmod(root / "task-service" / "run.sh", 0o644)
    broken = snapshot(root)

    outcome = restore(made.id)
    assert snapshot(root) == original
    assert outcome.backup.id == made.id
    assert outcome.safety.reason == f"before restore of {made.id}"
    assert backup_ids() == [made.id, outcome.safety.id]
    # The safety backup really holds the state from just before: restoring it brings that back.
    restore(outcome.safety.id)
    assert snapshot(root) == broken


def test_a_restore_stopped_midway_names_the_safety_backup(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(root, SAMPLE)
    made = create_backup()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshots, "materialise", disk_full)
    with pytest.raises(BackupError, match="stopped midway") as raised:
        restore(made.id)
    safety = list_backups()[-1]
    assert safety.reason == f"before restore of {made.id}" and safety.id in str(raised.value)


def test_summaries_are_one_human_line(root: Path) -> None:
    build(root, {"a.py": File(b"x" * 1000), "b.bin": File(b"y" * 2048)})
    made = create_backup(reason="before reset to\nenvironment")
    line = made.summary()
    assert "\n" not in line
    assert made.id in line and made.when in line and "2 files" in line and "3.0 KB" in line
    assert "before reset to environment" in line
    outcome = restore(made.id)
    line = outcome.summary()
    assert "\n" not in line and made.id in line and outcome.safety.id in line and "2 files" in line


def test_names_that_are_not_utf8_survive(root: Path) -> None:
    name = os.fsdecode(b"caf\xe9 \\ n\xc3\xa4me.txt")
    build(root, {name: File(b"bytes"), "d": Folder({name: Link(name)})})
    original = snapshot(root)
    made = create_backup()
    remove(root / name)
    restore(made.id)
    assert snapshot(root) == original


# ---------------------------------------------------------------- through the command line


def test_cli_lists_and_restores(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["backups"]) == 0
    assert capsys.readouterr().out == "no backups yet\n"
    build(root, SAMPLE)
    made = create_backup(reason="by hand")
    remove(root / "task-service")
    assert cli.main(["backups"]) == 0
    assert capsys.readouterr().out == made.summary() + "\n"
    assert cli.main(["restore", made.id]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"restored backup {made.id}") and (root / "task-service" / "run.sh").is_file()


def test_cli_unknown_backup_is_one_line_and_exit_2(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["restore", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown backup 'nope'" in err


# ---------------------------------------------------------------- properties: backup, mutate, restore

CACHE_NAMES = sorted(snapshots.SKIPPED_DIRS) + [".coverage", ".coverage.x.1", "m.pyc"]
NAMES = st.text(
    st.characters(exclude_characters="/\0", exclude_categories=["Cs"]), min_size=1, max_size=8
).filter(
    lambda n: n not in (".", "..", *CACHE_NAMES, "pyvenv.cfg")
    and not n.endswith(".pyc")
    and not n.startswith(".coverage.")
)
CONTENTS = st.one_of(st.binary(max_size=200), st.text(max_size=100).map(str.encode))
FILE_MODES = st.sampled_from([0o644, 0o600, 0o755, 0o700, 0o444, 0o640, 0o400])
DIR_MODES = st.sampled_from([0o755, 0o700, 0o750, 0o555])
LEAVES = st.one_of(
    st.builds(File, CONTENTS, FILE_MODES),
    st.builds(File, st.just(b""), FILE_MODES),
    st.builds(Link, st.one_of(NAMES, st.sampled_from([".", "..", "../outside", "/no/such", "a/b"]))),
)
TREES = st.dictionaries(
    NAMES,
    st.recursive(LEAVES, lambda kids: st.builds(Folder, st.dictionaries(NAMES, kids, max_size=4), DIR_MODES)),
    max_size=6,
)
CACHE = st.one_of(
    st.builds(File, CONTENTS),
    st.builds(Folder, st.dictionaries(NAMES, st.builds(File, CONTENTS), max_size=3)),
)
VENV = st.builds(
    lambda files: Folder({"pyvenv.cfg": File(b"home = /usr/bin\n"), **files}),
    st.dictionaries(NAMES, st.builds(File, CONTENTS), max_size=2),
)


def with_caches(tree: dict[str, Node], data: st.DataObject) -> dict[str, Node]:
    """The tree with tool caches and virtual environments added at its top and in its folders."""
    grown: dict[str, Node] = {}
    for name, node in tree.items():
        if isinstance(node, Folder):
            node = Folder(with_caches(node.children, data), node.mode)
        grown[name] = node
    for _ in range(data.draw(st.integers(0, 2), label="caches here")):
        name = data.draw(st.sampled_from(CACHE_NAMES + ["my-env"]), label="cache")
        if name not in grown:
            # A file named like a cache folder is kept, and a folder named like a cache file: both drawn.
            grown[name] = data.draw(VENV if name == "my-env" else CACHE, label="content")
    return grown


def kept(entries: dict[str, Entry]) -> dict[str, Entry]:
    """A snapshot without the caches and virtual environments in it, by the rules people read:
    folders by name or by a pyvenv.cfg inside, files by name; symlinks are always kept."""
    venvs = {path.rpartition("/")[0] for path in entries if path.rpartition("/")[2] == "pyvenv.cfg"}

    def skipped_itself(path: str) -> bool:
        name, kind = path.rpartition("/")[2], entries[path][0]
        if kind == "dir":
            return name in snapshots.SKIPPED_DIRS or path in venvs
        is_coverage = name == ".coverage" or name.startswith(".coverage.")
        return kind == "file" and (name.endswith(".pyc") or is_coverage)

    def skipped(path: str) -> bool:
        parts = path.split("/")
        return any(skipped_itself("/".join(parts[: i + 1])) for i in range(len(parts)))

    return {path: entry for path, entry in entries.items() if not skipped(path)}


PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def fresh_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hypothesis runs many examples in one test call: each gets new folders of its own."""
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    monkeypatch.setenv("WORKBOOK_SERVICES_DIR", str(base / "services"))
    monkeypatch.setenv("WORKBOOK_STATE_DIR", str(base / "state"))
    return base / "services"


def make_writable(path: Path) -> None:
    for folder in [path, *path.parents]:
        if folder.is_dir() and not folder.is_symlink():
            os.chmod(folder, stat.S_IMODE(folder.stat().st_mode) | stat.S_IRWXU)
        if folder.name == "services":
            break


def mutate(root: Path, data: st.DataObject) -> None:
    """Arbitrary edits a learner could make: delete, overwrite, chmod, add files and folders."""
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        existing = sorted(snapshot(root))
        target = root / data.draw(st.sampled_from(existing), label="path") if existing else None
        action = data.draw(st.sampled_from(["delete", "overwrite", "chmod", "add", "add folder"]))
        if target is not None:
            make_writable(target.parent)
        if action == "delete" and target is not None:
            remove(target)
        elif action == "overwrite" and target is not None:
            remove(target)
            target.write_bytes(data.draw(CONTENTS, label="new bytes"))
        elif action == "chmod" and target is not None and not target.is_symlink():
            os.chmod(target, data.draw(FILE_MODES if target.is_file() else DIR_MODES, label="mode"))
        else:
            folders = [root] + [root / p for p, e in snapshot(root).items() if e[0] == "dir"]
            parent = data.draw(st.sampled_from(folders), label="into")
            make_writable(parent)
            name = data.draw(NAMES, label="name")
            if not os.path.lexists(parent / name):
                build(parent, {name: File(data.draw(CONTENTS)) if action == "add" else Folder({})})


@PROPERTY
@given(tree=TREES, data=st.data())
def test_backup_mutate_restore_gives_back_the_same_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tree: dict[str, Node], data: st.DataObject
) -> None:
    root = fresh_workspace(tmp_path, monkeypatch)
    build(root, tree)
    original = snapshot(root)
    made = create_backup(reason="property")
    mutate(root, data)
    mutated = snapshot(root)
    outcome = restore(made.id)
    assert snapshot(root) == original
    restore(outcome.safety.id)
    assert snapshot(root) == mutated


@PROPERTY
@given(tree=TREES, data=st.data())
def test_caches_are_left_out_and_everything_else_restored_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tree: dict[str, Node], data: st.DataObject
) -> None:
    root = fresh_workspace(tmp_path, monkeypatch)
    build(root, with_caches(tree, data))
    original = snapshot(root)
    made = create_backup(reason="property")
    stored = snapshot(made.folder / "files")  # its folders' modes are in the manifest, not on disk
    without_modes = {path: entry[:1] if entry[0] == "dir" else entry[:2] for path, entry in stored.items()}
    assert without_modes == {
        path: entry[:1] if entry[0] == "dir" else entry[:2] for path, entry in kept(original).items()
    }, "the backup holds exactly what is not a cache"
    mutate(root, data)
    mutated = snapshot(root)
    restore(made.id)
    assert snapshot(root) == {**kept(original), **environments_in(mutated)}


def environments_in(entries: dict[str, Entry]) -> dict[str, Entry]:
    """Every entry at or under a virtual environment (outside caches): restore leaves them in place."""

    def is_environment(path: str) -> bool:
        name = path.rpartition("/")[2]
        return entries[path][0] == "dir" and (
            name in snapshots.ENVIRONMENT_DIRS or entries.get(f"{path}/pyvenv.cfg", ("",))[0] == "file"
        )

    def inside(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for prefix in prefixes:
            if is_environment(prefix):
                return True
            if entries[prefix][0] == "dir" and prefix.rpartition("/")[2] in snapshots.CACHE_DIRS:
                return False
        return False

    return {path: entry for path, entry in entries.items() if inside(path)}
