"""`backup PATH`: a consistent copy of the database, taken while the bot runs.

SQLite's online backup API copies every page in one step, inside one read transaction: in WAL
mode writers go on meanwhile, and the copy is the database as it was when the step began, so it
holds every tip committed before (whose receipt was shown: a receipt is shown only after its
tip's transaction committed). It is a copy of the pages, so it holds what the database holds:
ciphertexts, keyed hashes and the data keys wrapped by the master key, never the master key. It
opens with the same `TIPBOT_KEY`.

The copy is written next to PATH under a temporary name (mode 0600), checked
(`PRAGMA quick_check`), flushed to the disk (fsync), then given its name by a hard link, which
fails if PATH exists meanwhile (an existing PATH is never overwritten), and the folder is
flushed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage import crypto


class BackupError(Exception):
    """The copy could not be made; nothing was left at PATH."""


class BackupExists(BackupError):
    """PATH exists already: a backup never overwrites."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    tips: int


def _copy(source: Path, target: Path, master_key: bytes | None) -> BackupResult:
    if target.exists() or target.is_symlink():
        raise BackupExists(f"{target} exists: a backup never overwrites a file")
    if not target.parent.is_dir():
        raise BackupError(f"no such folder: {target.parent}")
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        src = sqlite3.connect(source, timeout=5)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # every page in one step: one consistent snapshot
                # A single file: the copy is a plain rollback-journal database.
                dst.execute("PRAGMA journal_mode = DELETE").fetchall()
                if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError("the copy failed its integrity check")
                tips = dst.execute("SELECT count(*) FROM tips").fetchone()[0]
                if master_key is not None:
                    _check_keys(dst, master_key)
            finally:
                dst.close()
        finally:
            src.close()
        with open(partial, "rb+") as copy:
            os.fsync(copy.fileno())
        try:
            os.link(partial, target)
        except FileExistsError:
            raise BackupExists(f"{target} exists: a backup never overwrites a file") from None
        _fsync_folder(target.parent)
        return BackupResult(target, target.stat().st_size, int(tips))
    except sqlite3.Error as error:
        raise BackupError(f"SQLite: {error}") from None
    finally:
        for leftover in (partial, Path(f"{partial}-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        _fsync_folder(target.parent)


def _check_keys(copy: sqlite3.Connection, master_key: bytes) -> None:
    """The copy opens with the master key: every wrapped data key unwraps."""
    rows = copy.execute("SELECT key_id, purpose, wrapped FROM data_keys").fetchall()
    try:
        for key_id, purpose, wrapped in rows:
            crypto.unwrap_key(master_key, wrapped, purpose, key_id)
    except crypto.KeyUnwrapError:
        raise BackupError("the copy does not open with TIPBOT_KEY") from None


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def backup(source: Path, target: Path, master_key: bytes | None = None) -> BackupResult:
    """Copy the database at `source` to `target` (see the module's docstring); with
    `master_key`, check that the copy opens with it before giving it its name."""
    return await asyncio.to_thread(_copy, Path(source), Path(target), master_key)


def _scratch_copy(source: Path, folder: Path) -> Path:
    """A private copy of the backup at `source` in `folder` (mode 0600), to open as a store:
    opening applies the migrations, which must never change the backup itself."""
    if not source.is_file():
        raise BackupError(f"no such file: {source}")
    target = folder / f".restore-check.{secrets.token_hex(4)}.db"
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise BackupError(f"cannot write a scratch copy in {folder}: {error.strerror}") from None
    os.close(fd)
    # A copy of a file in WAL mode (not one `backup` wrote) gets a -wal and -shm beside it from
    # SQLite even read-only: those this call made are removed again (an empty -wal only).
    beside = [Path(f"{source}-wal"), Path(f"{source}-shm")]
    made = [path for path in beside if not path.exists()]
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE").fetchall()
            finally:
                dst.close()
        finally:
            src.close()
            wal = beside[0]
            if wal not in made or not wal.exists() or wal.stat().st_size == 0:
                for path in made:
                    with contextlib.suppress(OSError):
                        path.unlink()
    except sqlite3.Error as error:
        drop_scratch(target)
        raise BackupError(f"{source}: not a database SQLite opens ({error})") from None
    except BaseException:
        drop_scratch(target)
        raise
    return target


def drop_scratch(path: Path) -> None:
    """Remove a scratch copy and the files SQLite may have left beside it."""
    for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


async def scratch_copy(source: Path, folder: Path) -> Path:
    """See `_scratch_copy`; the caller removes it with `drop_scratch`."""
    return await asyncio.to_thread(_scratch_copy, Path(source), Path(folder))
