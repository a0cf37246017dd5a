"""`python -m bot purge | rotate-key | backup | restore-check | migrate-db`: the data over its
life (SPEC "Command line").

Each needs TIPBOT_DB and TIPBOT_KEY (not the token), works while the bot runs, and never
creates a database that does not exist (exit 2). Exit status: 0 done, 1 the work failed (a
check did not pass), 2 bad usage or configuration, one line per problem. The output and the
logs carry counts and key ids only.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from bot.config import Config
from storage.audit import AuditLog, AuditReport
from storage.backup import BackupError, BackupExists, backup, drop_scratch, scratch_copy
from storage.database import Database
from storage.keyring import Keyring, WrongMasterKeyError, load_keyring, rotate_master_key
from storage.migrate import MigrateError, TargetNotEmpty, copy_line
from storage.postgres import is_postgres_url, open_postgres
from storage.purge import cutoff, purge_expired
from storage.reseal import run_upgrades
from storage.rotation import RotationError, rotate_content, unreadable_values
from storage.store import open_any_database, open_store

EXIT_FAILED = 1
EXIT_USAGE = 2


def _problem(line: str, status: int = EXIT_USAGE) -> int:
    print(f"tipline: {line}", file=sys.stderr)
    return status


def _no_database(config: Config, what: str) -> int | None:
    if config.database_exists():
        return None
    return _problem(f"no database at {config.database_name} (TIPBOT_DB): {what}")


async def purge(config: Config, *, dry_run: bool) -> int:
    missing = _no_database(config, "nothing to purge")
    if missing is not None:
        return missing
    store = await open_store(config.database, config.master_key,
                             migration_log_level=logging.WARNING)
    try:
        counts = await purge_expired(store.db, store.keyring, config.retention_days,
                                     dry_run=dry_run)
    finally:
        await store.close()
    closed = f"closed before {cutoff(config.retention_days)[:16]} UTC"
    if dry_run:
        print(f"purge --dry-run: would delete {counts.describe()} ({closed}); nothing deleted")
    else:
        print(f"purge: deleted {counts.describe()} ({closed})")
    return 0


async def rotate_key(config: Config, *, content: bool) -> int:
    old = config.master_key_old
    if not content and old is None:
        return _problem(
            "TIPBOT_KEY_OLD: missing; rotate-key re-wraps the data keys from TIPBOT_KEY_OLD (the"
            " current master key) to TIPBOT_KEY (the new one); --content alone replaces the"
            " content key under TIPBOT_KEY"
        )
    if old is not None and old == config.master_key:
        return _problem("TIPBOT_KEY_OLD: the same as TIPBOT_KEY; `python -m bot keygen` prints"
                        " a new key")
    missing = _no_database(config, "no keys to rotate")
    if missing is not None:
        return missing
    db = await open_any_database(config.database, migration_log_level=logging.WARNING)
    try:
        opened = await _open_with(db, config.master_key, old)
        if opened is None:
            return _problem(
                "neither TIPBOT_KEY nor TIPBOT_KEY_OLD opens this database; nothing changed"
                if old is not None else
                "TIPBOT_KEY does not open this database; nothing changed"
            )
        master, keyring = opened
        await run_upgrades(db, keyring)
        if content:
            status = await _rotate_content(db, master)
            if status:
                return status
        if old is not None:
            if master == old:
                count = await rotate_master_key(db, old, config.master_key)
                print(f"rotate-key: {count} data keys re-wrapped under TIPBOT_KEY: only it opens"
                      " the database now (restart the bot with it)")
            else:
                print("rotate-key: the data keys were already under TIPBOT_KEY (TIPBOT_KEY_OLD"
                      " no longer opens them): nothing to re-wrap")
    finally:
        await db.close()
    return 0


async def _open_with(
    db: Database, new: bytes, old: bytes | None
) -> tuple[bytes, Keyring] | None:
    """The master key that opens the database now (the new one after a finished re-wrap)."""
    for master in (new, old):
        if master is None:
            continue
        try:
            return master, await load_keyring(db, master)
        except WrongMasterKeyError:
            continue
    return None


async def _rotate_content(db: Database, master: bytes) -> int:
    def progress(done: int) -> None:
        print(f"rotate-key: {done} values re-encrypted so far", flush=True)

    try:
        result = await rotate_content(db, master, progress=progress)
    except RotationError as error:
        return _problem(f"rotate-key --content stopped: {error}", EXIT_FAILED)
    start = "resumed: " if result.resumed else ""
    if result.failed:
        return _problem(
            f"rotate-key --content: {start}{result.rewritten} values re-encrypted under content"
            f" key {result.new_key_id}, but {result.failed} do not open (damaged or moved) and"
            " stay under the old content key, which is kept",
            EXIT_FAILED,
        )
    deleted = ", ".join(str(k) for k in result.deleted_keys) or "none"
    print(f"rotate-key --content: {start}{result.rewritten} values re-encrypted under content key"
          f" {result.new_key_id}; none left under the old key (deleted: {deleted})")
    return 0


async def backup_to(config: Config, target: str) -> int:
    missing = _no_database(config, "nothing to back up")
    if missing is not None:
        return missing
    if config.db_url is not None:
        return _problem(
            "backup: TIPBOT_DB is a PostgreSQL database; back it up with PostgreSQL's own"
            " tools: `pg_dump --format=custom --file=PATH DATABASE` (docs/OPERATIONS.md)"
        )
    path = Path(target)
    try:
        result = await backup(config.db_path, path, config.master_key)
    except BackupExists as error:
        return _problem(f"backup: {error}")
    except BackupError as error:
        return _problem(f"backup: {error}", EXIT_FAILED)
    print(f"backup: {result.tips} tips, {result.bytes} bytes, written to {result.path}")
    return 0


#: Audit actions on staff rights and broadcasts, listed one by one by `restore-check` (they are
#: what the operator must do again); the entries on tips are only counted.
RIGHTS_ACTIONS = ("staff", "staff_refused", "invite", "invite_revoke", "schedule", "broadcast")


async def restore_check(config: Config, target: str) -> int:
    """Before a restore: the backup's audit chain and the time of its newest entry, and what
    restoring it would undo: every audited change of the current database made after the copy
    (deactivations, demotions, area changes, schedule pauses...), which come back undone.

    Reads both and changes neither (the backup is opened through a scratch copy, since opening
    applies the migrations). Exit 1 when the backup's chain is broken or it is not an earlier
    state of the current database; 0 otherwise, the restore being the operator's decision.
    """
    if config.db_url is not None:
        return _problem(
            "restore-check: TIPBOT_DB is a PostgreSQL database; restore it into a new database"
            " with pg_restore, run `audit verify` on both and compare the newest entries"
            " (docs/OPERATIONS.md, \"After a restore\")"
        )
    try:
        folder = config.db_path.parent  # the database's folder: the service may write there
        scratch = await scratch_copy(Path(target), folder if folder.is_dir() else
                                     Path(target).parent)
    except BackupError as error:
        return _problem(f"restore-check: {error}")
    try:
        copy = await open_store(str(scratch), config.master_key,
                                migration_log_level=logging.WARNING)
        try:
            report = await copy.audit.verify()
        finally:
            await copy.close()
    finally:
        drop_scratch(scratch)
    if report.first_broken is not None:
        return _problem(f"restore-check: the copy's audit chain breaks at entry"
                        f" {report.first_broken} (of {report.rows}): do not restore it",
                        EXIT_FAILED)
    print(f"restore-check: the copy holds {report.rows} audit entries, the newest at"
          f" {report.newest_at or '-'}; its chain holds")
    status = await _what_a_restore_undoes(config, report)
    print("restore-check: not in the audit log, undone as well: every /forget (those residents'"
          " chats are linked to their tips again) and the tips sent after the copy. After"
          " restoring, follow docs/OPERATIONS.md, \"After a restore\", before the bot starts.")
    return status


async def _what_a_restore_undoes(config: Config, copied: AuditReport) -> int:
    if not config.database_exists():
        print("restore-check: no current database to compare with")
        return 0
    try:
        store = await open_store(config.database, config.master_key,
                                 migration_log_level=logging.WARNING)
    except Exception as error:  # a damaged file is a reason to restore: say so, go on
        print(f"restore-check: the current database does not open ({type(error).__name__}):"
              " nothing to compare with; changes made after the copy's newest entry are lost")
        return 0
    try:
        current = await store.audit.verify()
        same = copied.last_id == 0 or (
            await store.audit.link_of(copied.last_id) == copied.last_link)
        lost = await store.audit.after(copied.last_id) if same else []
    finally:
        await store.close()
    state = "holds" if current.first_broken is None else f"BREAKS at {current.first_broken}"
    print(f"restore-check: the current database holds {current.rows} audit entries, the newest"
          f" at {current.newest_at or '-'}; its chain {state}")
    if not same:
        return _problem("restore-check: the copy is not an earlier state of the current"
                        f" database (their audit entry {copied.last_id} differs): another line's"
                        " copy, or one of them was edited", EXIT_FAILED)
    if not lost:
        print("restore-check: restoring the copy undoes no audited change")
        return 0
    print(f"restore-check: restoring the copy UNDOES these {len(lost)} audited entries made"
          " after it; do again the rights changes among them once it is restored:")
    on_tips = 0
    for entry in lost:
        if entry.action in RIGHTS_ACTIONS:
            actor = entry.actor_id or "the bot or the command line"
            print(f"  {entry.at}  {entry.action} by {actor}: {entry.detail}")
        else:
            on_tips += 1
    if on_tips:
        print(f"  and {on_tips} entries on tips (views, replies, status changes, reassignments);"
              " the tips sent after the copy are not in it either")
    return 0


async def startup_problems(config: Config) -> list[str]:
    """What stops the bot before it starts: values under a content key it cannot unwrap (a
    database that does not exist yet has none)."""
    if not config.database_exists():
        return []
    store = await open_store(config.database, config.master_key)
    try:
        unreadable = await unreadable_values(store.db, store.keyring)
    finally:
        await store.close()
    if not unreadable:
        return []
    return [
        f"TIPBOT_KEY: {unreadable} encrypted values in the database are under a content key"
        " that this database no longer holds (deleted, or a database file mixed with another);"
        " restore the backup taken with these keys (docs/OPERATIONS.md)"
    ]


async def migrate_db(config: Config, target: str) -> int:
    """Copy the SQLite line TIPBOT_DB names into the empty PostgreSQL database `target`."""
    if config.db_url is not None:
        return _problem("migrate-db: TIPBOT_DB must name the SQLite file to copy from (it is a"
                        " PostgreSQL URL)")
    if not is_postgres_url(target):
        return _problem("migrate-db: the target (TIPBOT_MIGRATE_TO, --to-file or --to) must be a"
                        " postgresql://user:password@host:port/db URL")
    missing = _no_database(config, "nothing to copy")
    if missing is not None:
        return missing
    db = await open_postgres(target, migration_log_level=logging.WARNING)
    try:
        try:
            copied = await copy_line(config.db_path, db)
        except TargetNotEmpty as error:
            return _problem(f"migrate-db: {error}")
        except MigrateError as error:
            return _problem(f"migrate-db: {error}", EXIT_FAILED)
        keyring = await load_keyring(db, config.master_key)  # the keys came along, still wrapped
        report = await AuditLog(db, keyring).verify()
    finally:
        await db.close()
    for each in copied:
        print(f"migrate-db: {each.table}: {each.rows} rows")
    if report.first_broken is not None:
        return _problem(f"migrate-db: copied, but the audit chain breaks at entry"
                        f" {report.first_broken}", EXIT_FAILED)
    print(f"migrate-db: {sum(c.rows for c in copied)} rows in {len(copied)} tables copied and"
          " counted; TIPBOT_KEY opens them and the audit chain holds. Point TIPBOT_DB at the"
          " PostgreSQL URL to run the line there; the SQLite file is unchanged.")
    return 0
