"""Restoring an old copy brings back removed rights and undoes /forget (review 3): the probe
took a backup, deactivated the officer (a seized phone), had the resident /forget, restored as
docs/OPERATIONS.md said, and `audit verify` said only "intact: 1 entries"; the deactivation was
silently gone and the officer's reply reached the unlinked chat.

Now `audit verify` prints the time of the newest entry, and `restore-check PATH` (run before the
restore, the bot may be running) says how old the copy is and lists every audited rights change
a restore would undo, and what it undoes beyond the audit log (/forget), without changing the
copy or the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil

from storage.store import open_store
from testing.journeys import report, staff_joins
from texts.catalog import plain

OFFICER, RESIDENT = 7002, 5302


def _digest(path) -> str:  # type: ignore[no-untyped-def]
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_check_lists_what_a_restore_undoes_and_verify_dates_the_copy(
    emulator, make_bot, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot()
    bot.add_officer(OFFICER, "hong-van", name="Vân")
    bot.start()
    staff_joins(emulator, OFFICER, "Vân")
    resident = emulator.user(RESIDENT, "Ngọc")
    report(emulator, resident, texts=("Trộm bò ở bản Pa Ring",), notify=True)
    emulator.wait_for_message(OFFICER, lambda m: "Trộm bò" in (m.text or "") and m.buttons)
    backup = tmp_path / "nightly.db"
    assert bot.cli("backup", str(backup)).returncode == 0
    before = _digest(backup)
    copy_verify = bot.cli("audit", "verify").stdout.strip()
    assert copy_verify.startswith("audit log intact: 1 entries, the newest at 20")

    # After the nightly copy: the officer's phone is seized, the resident uses /forget.
    assert bot.cli("officers", "deactivate", str(OFFICER)).returncode == 0
    resident.send_command("/forget")
    emulator.wait_for_message(resident, lambda m: plain("vi", "forget_done")[:20] in (m.text or ""))

    result = bot.cli("restore-check", str(backup))  # the bot still runs
    assert result.returncode == 0, result.stderr
    out = result.stdout
    newest_of_copy = copy_verify.split("the newest at ")[1]
    assert f"the copy holds 1 audit entries, the newest at {newest_of_copy}; its chain holds" in out
    assert "the current database holds 2 audit entries" in out
    assert "UNDOES these 1 audited entries made after it" in out
    assert "staff by the bot or the command line:" in out
    assert '"change": "deactivate (command line)"' in out and f'"target": {OFFICER}' in out
    assert "every /forget" in out and '"After a restore"' in out
    assert _digest(backup) == before, "the copy is read, never changed"
    assert not [p for p in bot.data.iterdir() if p.name.startswith(".restore-check")]

    # The restore as documented; verify then dates the restored state to the copy.
    bot.stop()
    database = bot.data / "tipline.db"
    for suffix in ("", "-wal", "-shm"):
        path = database.parent / (database.name + suffix)
        if path.exists():
            path.unlink()
    shutil.copy(backup, database)
    os.chmod(database, 0o600)
    verified = bot.cli("audit", "verify")
    assert verified.returncode == 0
    assert verified.stdout.strip() == copy_verify
    again = bot.cli("restore-check", str(backup))
    assert "restoring the copy undoes no audited change" in again.stdout


def test_restore_check_refuses_what_is_no_copy_of_this_line(
    emulator, make_bot, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot()
    bot.add_officer(OFFICER, "hong-van", name="Vân")
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("not sqlite")
    result = bot.cli("restore-check", str(not_a_database))
    assert result.returncode == 2 and "not a database SQLite opens" in result.stderr
    result = bot.cli("restore-check", str(tmp_path / "missing.db"))
    assert result.returncode == 2 and "no such file" in result.stderr

    # A database of another line under the same master key (its own audit key, its own chain)
    # is not an earlier state of this one.
    foreign = tmp_path / "foreign.db"

    async def another_line() -> None:
        store = await open_store(foreign, base64.b64decode(bot.env["TIPBOT_KEY"]))
        try:
            await store.audit.record(0, "staff", None, target=OFFICER, change="deactivate")
        finally:
            await store.close()

    asyncio.run(another_line())
    assert bot.cli("officers", "deactivate", str(OFFICER)).returncode == 0
    result = bot.cli("restore-check", str(foreign))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "is not an earlier state of the current database" in result.stderr
