"""What a stolen database file gives away (SPEC "Security and privacy"): no time of a report to
the minute or the second, in any form; no row that ties a fully anonymous tip to its author or
to their other tips; not the agency an officer typed for a transfer; and values moved between
tips, or receipt hashes swapped, are detected instead of showing one tip's data as another's."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import struct
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from storage.rotation import PSEUDONYMS
from testing.journeys import press, report, staff_joins, wait_text

VIEW_VI = "Tin báo của bạn"
NOT_FOUND_VI = "Không tìm thấy tin báo với mã này"
INTEGRITY = "integrity check failed"
DISTRICT = ZoneInfo("Asia/Ho_Chi_Minh")  # the default TIPBOT_TIMEZONE


# --- the forms a time can take in a file --------------------------------------------------------


def _time_forms(start: float, end: float) -> dict[bytes, str]:
    """Every byte pattern that would give a moment of [start, end] to the minute or better:
    ISO and local text to the minute or second, unix time as digits (to 100 s or better) and
    as SQLite stores a double (its first 5 bytes, to 4 s), the text forms in UTC and in the
    district's time. Patterns that only name an hour (xx:00, the rounded clear columns) are
    left out. Integers are not byte patterns here: 4 bytes of ciphertext match one of the
    seconds now and then (a chance of about size x seconds / 2^32 a scan), so they are looked
    for among the values SQLite keeps (`_numbers_within`)."""
    forms: dict[bytes, str] = {}
    for second in range(int(start) - 1, int(end) + 2):
        moment = datetime.fromtimestamp(second, UTC)
        if moment.minute:
            for shape in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"):
                for zoned in (moment, moment.astimezone(DISTRICT)):
                    forms[zoned.strftime(shape).encode()] = "text to the minute"
        elif moment.second:
            forms[moment.strftime("%Y-%m-%dT%H:%M:%S").encode()] = "ISO to the second"
        digits = str(second)
        if second % 3600 >= 100:  # the hour's own digits share their first 8 with its 100 s
            forms[digits[:8].encode()] = "unix time to 100 s"
        if second % 3600:
            forms[struct.pack(">d", float(second))[:5]] = "a double to 4 s"
    return forms


def _numbers_within(path, low: float, high: float) -> list[str]:  # type: ignore[no-untyped-def]
    """Every value SQLite keeps as a number of [low, high] (unix seconds), in any column of any
    table, with where it is. Read through SQLite, so only typed values count, never the bytes
    of a blob; a whole hour (the rounded clear columns) is left out."""
    found = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            for column in [r[1] for r in db.execute(f"PRAGMA table_info({table})")]:
                (count,) = db.execute(
                    f"SELECT count(*) FROM {table} WHERE typeof({column}) IN ('integer', 'real')"
                    f" AND {column} BETWEEN ? AND ? AND {column} % 3600 != 0",
                    (int(low) - 1, int(high) + 2)).fetchone()
                if count:
                    found.append(f"{table}.{column}: {count}")
    return found


def _leaks(data: bytes, forms: dict[bytes, str]) -> list[str]:
    """What was found, each with the bytes around it (to tell which table wrote it)."""
    found = []
    for pattern, what in forms.items():
        at = data.find(pattern)
        if at >= 0:
            found.append(f"{what}: {pattern!r} in {data[max(0, at - 60):at + 40]!r}")
    return sorted(found)


def test_the_scan_sees_a_time_in_each_form_it_searches():
    moment = 1_764_657_654.4  # 2025-12-02 06:40:54 UTC
    forms = _time_forms(moment, moment)
    written = {
        "iso": datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").encode(),
        "local": b"02/12/2025 13:40",
        "digits": str(moment).encode(),
        "double": struct.pack(">d", moment),
    }
    for form, value in written.items():
        assert _leaks(b"..." + value + b"...", forms), form
    hour = datetime(2025, 12, 2, 6, tzinfo=UTC)
    assert not _leaks(hour.isoformat().encode() + struct.pack(">d", hour.timestamp()), forms)


def test_the_number_scan_sees_a_time_kept_as_an_integer_or_a_real_but_not_an_hour(tmp_path):
    moment = 1_764_657_654.4
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a, b, c)")
        db.execute("INSERT INTO t VALUES (?, ?, ?)", (b"\x00" * 8, "x", 1_764_655_200))  # 06:00
    assert not _numbers_within(path, moment, moment)
    for value in (int(moment), moment):
        with sqlite3.connect(path) as db:
            db.execute("UPDATE t SET b = ?", (value,))
        assert _numbers_within(path, moment, moment) == ["t.b: 1"]


def test_a_full_report_leaves_no_time_of_it_in_the_database_but_the_hour(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    # Setting up wrote staff times, exact on purpose (staff, not residents): the report starts
    # in a later minute, so that any minute the scan finds can only be the report's.
    time.sleep(61.5 - time.time() % 60)
    resident = emulator.user(5401, "Hoa")
    first = time.time()
    resident.send_command("/subscribe")
    emulator.wait_for_message(resident, "🔔")
    code = report(emulator, resident, texts=("Có người lạ vận chuyển gỗ ban đêm",), photos=1,
                  notify=True)
    received = time.time()
    card = emulator.wait_for_message(officer, lambda m: "gỗ ban đêm" in (m.text or "")
                                     and m.buttons)
    tip_id = int(card.callback_data()[0].split(":")[2])
    # The resident adds something from /status; the officer acknowledges (audit, status).
    resident.send_command("/status", code)
    view = emulator.wait_for_message(resident, VIEW_VI)
    resident.click(view.message_id, next(d for d in view.callback_data() if d.startswith("st:add")))
    emulator.wait_for_message(resident, "Gửi thêm chữ")
    resident.send_text("Xe tải màu xanh")
    emulator.wait_for_message(resident, "Đã nhận")
    emulator.wait_for_message(officer, lambda m: "Xe tải màu xanh" in (m.text or ""))
    officer.click(card.message_id, f"o:ack:{tip_id}")
    emulator.wait_for_message(resident, "Cán bộ đã nhận")  # the notified resident is told
    last = time.time() + 30  # a delivery lease runs 30 s past the last send

    forms = _time_forms(first, last)
    running = bot.data_bytes()  # the database, its -wal and -shm, while the bot runs
    assert len(running) > 10_000
    assert not _leaks(running, forms)
    assert not _numbers_within(bot.data / "tipline.db", first, last)
    bot.stop()
    assert not _leaks(bot.data_bytes(), forms)
    assert not _numbers_within(bot.data / "tipline.db", first, last)

    # The clear columns keep the hour, for statistics.
    with sqlite3.connect(bot.data / "tipline.db") as db:
        created, acknowledged = db.execute(
            "SELECT created_at, acknowledged_at FROM tips WHERE tip_id = ?", (tip_id,)
        ).fetchone()
    hours = {
        datetime.fromtimestamp(t, UTC).replace(minute=0, second=0, microsecond=0).isoformat()
        for t in (first, received)
    }
    assert created in hours
    assert acknowledged.endswith(":00:00+00:00")


# --- the rate limits: no tip tied to its author -----------------------------------------------


def test_anonymous_tips_share_no_row_no_hash_and_no_time_with_their_author(emulator, make_bot):
    """Finding 1 of the review of 2026-12-03 (migration 0020): each tip was a row (hash,
    'tip', hour) of a rowid table, so the n-th row named the n-th tip's author, two tips of
    one person shared the hash, and that hash's wrong codes, kept to the microsecond, dated
    them. Two residents send five fully anonymous tips between them (A B A A B) and type
    wrong codes; the file, read as a thief reads it, has no row per tip in any table that
    recognises a person, the rate-limit tables have no row number and no clear time, and the
    tip count's hashes are nowhere else."""
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    one, two = emulator.user(5411, "An"), emulator.user(5412, "Bình")
    order = (one, two, one, one, two)
    for number, resident in enumerate(order):
        report(emulator, resident, texts=(f"Tin báo số {number} về bến đò",))
    started = time.time()
    for resident, guesses in ((one, 2), (two, 1)):
        for _ in range(guesses):
            resident.send_command("/status", "ZZZZ-ZZZZ-ZZZZ")
            emulator.wait_for_message(resident, NOT_FOUND_VI)
    ended = time.time()
    # No wrong code's moment as a number in any file: digits and doubles byte for byte,
    # integers among the values SQLite keeps.
    numbers = {pattern: what for pattern, what in _time_forms(started, ended).items()
               if not what.startswith("text")}
    assert not _leaks(bot.data_bytes(), numbers)
    assert not _numbers_within(bot.data / "tipline.db", started, ended)
    bot.stop()
    assert not _numbers_within(bot.data / "tipline.db", started, ended)

    files = bot.data_bytes()
    with sqlite3.connect(bot.data / "tipline.db") as db:
        assert db.execute("SELECT count(*) FROM tips").fetchone()[0] == len(order)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in sorted({table for table, _column in PSEUDONYMS} & tables):
            # At most a row per person: no table that recognises one grows with the tips.
            (rows,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert rows <= 2, (table, rows)
        for table in ("tip_limits", "attempts"):
            (schema,) = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)
                                   ).fetchone()
            assert "WITHOUT ROWID" in schema, table
            assert [r[1] for r in db.execute(f"PRAGMA table_info({table})")] == [
                "subject", "counts"], table
            values = db.execute(f"SELECT subject, counts FROM {table}").fetchall()
            assert len(values) == 2, table  # one per person
            assert len({len(counts) for _, counts in values}) == 1, table  # 3 tips or 2
        counters = [s for (s,) in db.execute("SELECT subject FROM tip_limits")]
        guessers = [s for (s,) in db.execute("SELECT subject FROM attempts")]
        assert not set(counters) & set(guessers)
        # In its own row only: no other row of any table holds it, whole or inside a value.
        # (Read through SQLite: the file's bytes also keep older copies of the row itself, in
        # the -wal or on a freed page, as many as the row was written.)
        for table, subjects in (("tip_limits", counters), ("attempts", guessers)):
            for subject in subjects:
                assert _rows_holding(db, subject) == [f"{table}.subject: 1"]
                assert subject in files

    # With the key, the counts are there: the limits work on what the file keeps.
    counted = asyncio.run(_limits_of(bot, (one.id, two.id)))
    assert counted == [(3, 2), (2, 1)]


def _rows_holding(db: sqlite3.Connection, value: bytes) -> list[str]:
    """Every column of every table with a row that holds `value` (or has it inside)."""
    found = []
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        for column in [r[1] for r in db.execute(f"PRAGMA table_info({table})")]:
            (count,) = db.execute(
                f"SELECT count(*) FROM {table} WHERE typeof({column}) IN ('blob', 'text')"
                f" AND instr(CAST({column} AS BLOB), ?) > 0", (value,)).fetchone()
            if count:
                found.append(f"{table}.{column}: {count}")
    return found


async def _limits_of(bot, people):  # type: ignore[no-untyped-def]
    from storage.store import open_store

    store = await open_store(bot.data / "tipline.db", base64.b64decode(bot.env["TIPBOT_KEY"]))
    try:
        return [(await store.ratelimits.tips_today(person),
                 await store.ratelimits.recent_failures(person, "receipt", 600))
                for person in people]
    finally:
        await store.close()


# --- what an officer types -------------------------------------------------------------------

#: What an officer might type as the agency: a unit, a name, a phone (finding 4 of the review).
AGENCY = "Đội CSKT Zq7Xw9 – anh Phúc 0905 771 293"


def _agency_key(bot) -> str:  # type: ignore[no-untyped-def]
    """The id of the content key the agency is sealed under (bytes 2-5 of its header)."""
    with sqlite3.connect(bot.data / "tipline.db") as db:
        (key,) = db.execute("SELECT hex(substr(transferred_sealed, 2, 4)) FROM tips"
                            " WHERE transferred_sealed IS NOT NULL").fetchone()
    return str(key)


def _agency_leaks(data: bytes) -> list[str]:
    return [part for part in (AGENCY, "Zq7Xw9", "0905 771 293", "anh Phúc")
            if part.encode() in data]


def test_the_agency_of_a_transfer_is_in_no_file_shown_to_the_officer_and_rotated(
    emulator, make_bot  # type: ignore[no-untyped-def]
) -> None:
    bot = make_bot()
    bot.add_officer(7002, "hong-van", name="Quang")
    bot.start()
    officer = staff_joins(emulator, 7002, "Quang")
    report(emulator, emulator.user(5404, "Dân"), texts=("Khai thác cát trái phép ở bến đò",))
    card = emulator.wait_for_message(officer, lambda m: "Khai thác cát" in (m.text or "")
                                     and m.buttons)
    tip_id = int(card.callback_data()[0].split(":")[2])
    ref = _ref_of(bot, tip_id)
    officer.click(card.message_id, f"o:st:{tip_id}")
    press(emulator, officer, f"o:set:{tip_id}:transferred")
    emulator.wait_for_message(officer, "cơ quan nào")
    officer.send_text(AGENCY)
    wait_text(emulator, officer, f"Tin {ref}: Đã chuyển cơ quan khác.")
    emulator.wait_until(lambda: AGENCY in emulator.message(7002, card.message_id).text)
    officer.send_command("/tip", ref)
    shown = wait_text(emulator, officer, f"Đã chuyển cơ quan khác: {AGENCY}")
    assert ref in shown.text
    assert not _agency_leaks(bot.data_bytes())  # the database, -wal and -shm, running

    # A new content key seals it again; the officer still reads it.
    before = _agency_key(bot)
    rotated = bot.cli("rotate-key", "--content", timeout=120)
    assert rotated.returncode == 0, rotated.stderr
    assert _agency_key(bot) != before
    count = len(emulator.messages(officer.id))
    officer.send_command("/tip", ref)
    emulator.wait_until(lambda: any(
        f": {AGENCY}" in (m.text or "") for m in emulator.messages(officer.id)[count:]))
    bot.stop()
    assert not _agency_leaks(bot.data_bytes())
    with sqlite3.connect(bot.data / "tipline.db") as db:
        assert db.execute("SELECT count(*) FROM tips WHERE transferred_to IS NOT NULL"
                          ).fetchone() == (0,)
    assert "integrity check failed" not in bot.logs()


# --- moved and swapped values --------------------------------------------------------------


def _two_tips(emulator, bot):  # type: ignore[no-untyped-def]
    """Two residents report; the officer answers each. Returns (resident, code, tip id,
    answer) of both, and the officer."""
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    tips = []
    for resident_id, words, answer in (
        (5402, "Sới bạc ở thôn 1", "Trả lời cho thôn một"),
        (5403, "Buôn ma túy ở thôn 2", "Trả lời cho thôn hai"),
    ):
        resident = emulator.user(resident_id, "Dân")
        code = report(emulator, resident, texts=(words,))
        card = emulator.wait_for_message(officer, lambda m, w=words: w in (m.text or "")
                                         and m.buttons)
        tip_id = int(card.callback_data()[0].split(":")[2])
        officer.click(card.message_id, f"o:rep:{tip_id}")
        emulator.wait_for_message(officer, "người báo")
        officer.send_text(answer)
        emulator.wait_for_message(officer, "✅")
        tips.append((resident, code, tip_id, answer))
    return tips, officer


def _status(emulator, resident, code):  # type: ignore[no-untyped-def]
    resident.send_command("/status", code)
    return emulator.wait_for_message(
        resident, lambda m: VIEW_VI in (m.text or "") or NOT_FOUND_VI in (m.text or "")
    )


def _ref_of(bot, tip_id: int) -> str:  # type: ignore[no-untyped-def]
    with sqlite3.connect(bot.data / "tipline.db") as db:
        (ref,) = db.execute("SELECT ref FROM tips WHERE tip_id = ?", (tip_id,)).fetchone()
    return str(ref)


def test_an_officers_reply_moved_to_another_tip_does_not_open_there(emulator, make_bot):
    bot = make_bot()
    (one, two), officer = _two_tips(emulator, bot)
    resident_one, code_one, tip_one, answer_one = one
    resident_two, code_two, tip_two, answer_two = two
    assert answer_one in _status(emulator, resident_one, code_one).text
    ref_two = _ref_of(bot, tip_two)
    bot.stop()
    # Someone with write access to the file copies the ciphertext of tip one's reply over tip
    # two's reply, and moves tip one's reply row to tip two.
    with sqlite3.connect(bot.data / "tipline.db") as db:
        (body_one,) = db.execute(
            "SELECT body FROM tip_messages WHERE tip_id = ? AND author = 'officer'", (tip_one,)
        ).fetchone()
        db.execute("UPDATE tip_messages SET body = ? WHERE tip_id = ? AND author = 'officer'",
                   (body_one, tip_two))
        db.execute("UPDATE tip_messages SET tip_id = ? WHERE tip_id = ?", (tip_two, tip_one))
    bot.start()

    view_two = _status(emulator, resident_two, code_two)
    assert VIEW_VI in view_two.text
    assert answer_one not in view_two.text and answer_two not in view_two.text
    assert "Chưa có trao đổi" in view_two.text  # neither reply opens as tip two's
    assert answer_one not in _status(emulator, resident_one, code_one).text
    # The officer's /tip of tip two shows the tip, without either reply.
    before = len(emulator.messages(officer.id))
    officer.send_command("/tip", ref_two)
    emulator.wait_for_message(officer, lambda m: "Buôn ma túy ở thôn 2" in (m.text or ""))
    # The thread, if any, follows the card in the officer's chat, before the answer to a later
    # message of that chat (one chat's updates are handled in order).
    officer.send_command("/help")
    emulator.wait_for_message(officer, "Cách dùng")
    shown = " ".join(m.text or "" for m in emulator.messages(officer.id)[before:])
    assert answer_one not in shown and answer_two not in shown

    logs = bot.logs()
    assert INTEGRITY in logs
    assert answer_one not in logs and answer_two not in logs


_SWAP = {
    # receipt_hash is UNIQUE: tip one holds a placeholder while tip two takes its hash.
    "receipt_hash": (
        "UPDATE tips SET receipt_hash = x'00' WHERE tip_id = ?",
        "UPDATE tips SET receipt_hash = ? WHERE tip_id = ?",
    ),
    "receipt_mac": (
        "UPDATE tips SET receipt_mac = NULL WHERE tip_id = ?",
        "UPDATE tips SET receipt_mac = ? WHERE tip_id = ?",
    ),
}


def _swap(db: sqlite3.Connection, column: str, one: int, two: int) -> None:
    rows = {r[0]: r for r in db.execute(
        "SELECT tip_id, receipt_hash, receipt_mac FROM tips WHERE tip_id IN (?, ?)", (one, two)
    )}
    index = 1 if column == "receipt_hash" else 2
    values = {tip_id: row[index] for tip_id, row in rows.items()}
    clear, put = _SWAP[column]
    db.execute(clear, (one,))
    db.execute(put, (values[one], two))
    db.execute(put, (values[two], one))


def test_swapped_receipt_hashes_open_nothing_and_are_logged(emulator, make_bot):
    bot = make_bot()
    (one, two), _officer = _two_tips(emulator, bot)
    resident_one, code_one, tip_one, _ = one
    resident_two, code_two, tip_two, _ = two
    # First the hashes alone are swapped; then their MACs too (both move together).
    for column in ("receipt_hash", "receipt_mac"):
        bot.stop()
        with sqlite3.connect(bot.data / "tipline.db") as db:
            _swap(db, column, tip_one, tip_two)
        bot.start()
        failures = bot.logs().count(INTEGRITY)
        for resident, code in ((resident_one, code_one), (resident_two, code_two)):
            answer = _status(emulator, resident, code)
            assert NOT_FOUND_VI in answer.text, column
        assert bot.logs().count(INTEGRITY) >= failures + 2
    logs = bot.logs()
    assert code_one not in logs and code_two not in logs
