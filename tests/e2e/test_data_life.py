"""Data over its life (issue 14) with the real bot: purge, key rotation, online backup.

The bot runs as a subprocess against the emulator; the commands run as `python -m bot ...`
subprocesses with the bot's settings, while it runs or between two runs, as an operator would.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator

from testing.harness import new_key
from testing.journeys import RECEIPT, press, report, staff_joins, wait_button, wait_text

VIEW_VI = "Tin báo của bạn"
NOT_FOUND_VI = "Không tìm thấy tin báo với mã này"
OLD = "2020-01-01T10:00:00+00:00"


def _card(emulator, officer_id, part):  # type: ignore[no-untyped-def]
    return emulator.wait_for_message(officer_id, lambda m: part in (m.text or "") and m.buttons)


def _ref(card) -> str:  # type: ignore[no-untyped-def]
    return next(w for w in card.text.split() if w.startswith("T-"))


def _close(emulator, officer, card, status: str = "resolved") -> None:  # type: ignore[no-untyped-def]
    tip_id = card.callback_data()[0].split(":")[2]
    officer.click(card.message_id, f"o:st:{tip_id}")
    press(emulator, officer, f"o:set:{tip_id}:{status}")
    emulator.wait_until(lambda: not emulator.message(officer.id, card.message_id).buttons)


@contextlib.contextmanager
def _db(bot) -> Iterator[sqlite3.Connection]:  # type: ignore[no-untyped-def]
    """A connection of the test's own, committed and closed (the last one out checkpoints)."""
    db = sqlite3.connect(bot.data / "tipline.db")
    try:
        with db:
            yield db
    finally:
        db.close()


def _secrets(bot, ref: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    with _db(bot) as db:
        tip_id, *values = db.execute(
            "SELECT tip_id, content, times, receipt_hash, receipt_mac FROM tips WHERE ref = ?",
            (ref,)).fetchone()
        values += [r[0] for r in db.execute("SELECT body FROM tip_messages WHERE tip_id = ?",
                                            (tip_id,))]
    return [bytes(v) for v in values if v is not None]


def _status_answer(emulator, resident, code: str) -> str:  # type: ignore[no-untyped-def]
    before = len(emulator.messages(resident.id))
    resident.send_command("/status", code)
    message = emulator.wait_for_message(
        resident, lambda m: VIEW_VI in (m.text or "") or NOT_FOUND_VI in (m.text or ""))
    assert len(emulator.messages(resident.id)) > before
    return message.text or ""


def test_purge_deletes_an_old_closed_tip_for_good_and_keeps_the_open_one(emulator, make_bot):
    bot = make_bot(TIPBOT_ACK_MINUTES="0.1", TIPBOT_RETENTION_DAYS="30")
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    old_resident, open_resident = emulator.user(5501, "An"), emulator.user(5502, "Bình")
    old_code = report(emulator, old_resident, texts=("Bán gỗ lậu ở bìa rừng",))
    old_card = _card(emulator, 7002, "Bán gỗ lậu")
    old_resident.send_command("/status", old_code)
    view = emulator.wait_for_message(old_resident, VIEW_VI)
    old_resident.click(view.message_id,
                       next(d for d in view.callback_data() if d.startswith("st:add")))
    emulator.wait_for_message(old_resident, "Gửi thêm chữ")
    old_resident.send_text("Thêm: xe máy đỏ")
    emulator.wait_for_message(old_resident, "Đã nhận")
    _close(emulator, officer, old_card)
    open_code = report(emulator, open_resident, texts=("Đánh bạc ở quán ven đường",))
    open_card = _card(emulator, 7002, "Đánh bạc ở quán")
    officer.click(open_card.message_id, f"o:ack:{open_card.callback_data()[0].split(':')[2]}")
    later_code = report(emulator, emulator.user(5503, "Cường"), texts=("Trộm bò ở thôn 3",))
    later_card = _card(emulator, 7002, "Trộm bò")
    _close(emulator, officer, later_card, "unfounded")
    old_ref, later_ref = _ref(old_card), _ref(later_card)
    bot.stop()

    # The old tip was closed long ago, and a reminder of it is still queued (as if the bot had
    # stopped before sending it): neither may survive the purge.
    with _db(bot) as db:
        db.execute("UPDATE tips SET closed_at = ? WHERE ref = ?", (OLD, old_ref))
        db.execute("INSERT INTO outbox (tip_id, recipient, recipient_id, kind, tier, created_at)"
                   " SELECT tip_id, 'staff', 7002, 'reminder', 1, created_at FROM tips"
                   " WHERE ref = ?",
                   (old_ref,))
    secrets = _secrets(bot, old_ref)
    assert len(secrets) >= 5
    main = bot.data / "tipline.db"
    before = hashlib.sha256(main.read_bytes()).hexdigest()

    dry = bot.cli("purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 tips, 1 messages" in dry.stdout and "nothing deleted" in dry.stdout
    assert hashlib.sha256(main.read_bytes()).hexdigest() == before, "a dry run changed a byte"
    assert sorted(p.name for p in bot.data.iterdir()) == ["tipline.db"]

    done = bot.cli("purge")
    assert done.returncode == 0, done.stderr
    assert "deleted 1 tips, 1 messages" in done.stdout
    data = bot.data_bytes()
    for blob in secrets:
        assert blob not in data, "a purged tip's bytes are still in a database file"
    assert old_ref.encode() not in data
    verify = bot.cli("audit", "verify")
    assert verify.returncode == 0, verify.stderr

    # The later tip goes by the bot's own daily job, shortly after it starts.
    with _db(bot) as db:
        db.execute("UPDATE tips SET closed_at = ? WHERE ref = ?", (OLD, later_ref))
    sent_before = len(emulator.messages(7002))
    bot.start()
    assert NOT_FOUND_VI in _status_answer(emulator, old_resident, old_code)
    assert VIEW_VI in _status_answer(emulator, open_resident, open_code)

    def later_gone() -> bool:
        with _db(bot) as db:
            return db.execute("SELECT count(*) FROM tips WHERE ref = ?",
                              (later_ref,)).fetchone()[0] == 0

    emulator.wait_until(later_gone, timeout=30)
    assert NOT_FOUND_VI in _status_answer(emulator, emulator.user(5503, "Cường"), later_code)
    # A control tip, after the purge: its card means the delivery worker has sent every row due
    # before it, its reminder (6 s later) that the escalation scan has looked since.
    report(emulator, emulator.user(5504, "Dung"), texts=("Tin đối chứng",))
    control_ref = _ref(_card(emulator, 7002, "Tin đối chứng"))
    emulator.wait_for_message(7002, lambda m: "⏰" in (m.text or "") and control_ref in m.text,
                              timeout=30)
    news = [m.text or "" for m in emulator.messages(7002)[sent_before:]]
    assert not [t for t in news if old_ref in t or later_ref in t], news
    assert not [t for t in news if "⏰" in t and control_ref not in t], news
    verify = bot.cli("audit", "verify")  # while the bot runs
    assert verify.returncode == 0, verify.stderr
    bot.stop()
    logs = bot.logs()
    assert "purge: 1 tips" in logs
    for secret in ("Bán gỗ lậu", "xe máy đỏ", "Trộm bò", old_code, later_code):
        assert secret not in logs


def test_key_rotation_of_both_kinds_while_the_bot_runs(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(7002)  # every area: the draft below is for an unsure one
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(5601, "Dung")
    code = report(emulator, resident, texts=("Có người bán ma túy ở chợ",), notify=True)
    ref = _ref(_card(emulator, 7002, "bán ma túy ở chợ"))
    # Another resident is half-way through a report: the draft is in the database.
    writer = emulator.user(5602, "Hải")
    writer.send_command("/report")
    press(emulator, writer, "r:cat:theft")
    press(emulator, writer, "r:area:unsure")
    wait_button(emulator, writer, "r:place:skip")

    content = bot.cli("rotate-key", "--content", timeout=120)
    assert content.returncode == 0, content.stderr
    assert "none left under the old key" in content.stdout
    with _db(bot) as db:
        assert db.execute("SELECT count(*) FROM data_keys WHERE purpose = 'content'"
                          ).fetchone()[0] == 1
    # The receipt code, the officer's reading and the draft in progress all still work.
    assert VIEW_VI in _status_answer(emulator, resident, code)  # the tip opened
    officer.send_command("/tip", ref)
    wait_text(emulator, officer, "bán ma túy ở chợ")
    writer.send_text("sau nhà văn hóa")
    press(emulator, writer, "r:when:today")
    wait_text(emulator, writer, "5. ")
    writer.send_text("Mất trộm xe đạp")
    emulator.wait_for_message(writer, lambda m: "r:text:done" in m.callback_data())
    press(emulator, writer, "r:text:done")
    press(emulator, writer, "r:ev:skip")
    press(emulator, writer, "r:fu:anon")
    press(emulator, writer, "r:sum:send")
    emulator.wait_for_message(writer, lambda m: bool(RECEIPT.search(m.text or "")))
    _card(emulator, 7002, "Mất trộm xe đạp")

    # A new master key: the data keys are re-wrapped; the running bot goes on.
    old_master, new_master = bot.env["TIPBOT_KEY"], new_key()
    bot.env.update(TIPBOT_KEY=new_master, TIPBOT_KEY_OLD=old_master)
    master = bot.cli("rotate-key")
    assert master.returncode == 0, master.stderr
    assert "8 data keys re-wrapped" in master.stdout  # one per storage.keyring.KeyPurpose
    again = bot.cli("rotate-key")  # run twice: nothing left to do, still fine
    assert again.returncode == 0 and "already under TIPBOT_KEY" in again.stdout
    assert VIEW_VI in _status_answer(emulator, resident, code)  # the tip opened
    del bot.env["TIPBOT_KEY_OLD"]
    bot.restart()  # with the new key only
    assert VIEW_VI in _status_answer(emulator, resident, code)  # the tip opened
    officer.send_command("/tip", ref)
    emulator.wait_until(lambda: len([m for m in emulator.messages(7002)
                                     if "bán ma túy ở chợ" in (m.text or "")]) >= 3)
    # The old master key no longer opens the database.
    bot.env["TIPBOT_KEY"] = old_master
    refused = bot.cli("audit", "verify")
    assert refused.returncode == 2 and "TIPBOT_KEY" in refused.stderr
    bot.env["TIPBOT_KEY"] = new_master
    bot.stop()
    assert "Traceback" not in bot.logs()


async def _seed(bot, count: int) -> None:  # type: ignore[no-untyped-def]
    from storage.store import open_store
    from storage.tips import Delivery, NewTip

    store = await open_store(bot.data / "tipline.db", base64.b64decode(bot.env["TIPBOT_KEY"]))
    try:
        async with store.db.transaction():
            for number in range(count):
                await store.tips.insert(
                    NewTip("theft", "hong-van", False, {"text": f"seed {number}"},
                           notify_chat=1000 + number),
                    Delivery(1, ()),
                )
    finally:
        await store.close()


def _content_keys_in_use(bot) -> set[str]:  # type: ignore[no-untyped-def]
    with _db(bot) as db:
        return {r[0] for r in db.execute(
            "SELECT DISTINCT hex(substr(content, 2, 4)) FROM tips UNION"
            " SELECT DISTINCT hex(substr(times, 2, 4)) FROM tips")}


def test_a_content_rotation_killed_mid_way_resumes_and_the_bot_refuses_an_unknown_key(
    emulator, make_bot
):
    bot = make_bot()
    asyncio.run(_seed(bot, 6000))
    env = {k: v for k, v in bot.env.items() if k != "TIPBOT_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "rotate-key", "--content"], cwd=bot.workdir, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "so far" in first, first
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert len(_content_keys_in_use(bot)) == 2, "killed before it finished"

    resumed = bot.cli("rotate-key", "--content", timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed:" in resumed.stdout and "none left under the old key" in resumed.stdout
    (only,) = _content_keys_in_use(bot)
    with _db(bot) as db:
        keys = [r[0] for r in db.execute(
            "SELECT key_id FROM data_keys WHERE purpose = 'content'")]
        assert keys == [int(only, 16)]
        # A value under a content key the database no longer holds (here, the deleted one).
        old_id = bytes.fromhex(f"{int(only, 16) - 1:08x}")
        blob = db.execute("SELECT content FROM tips WHERE tip_id = 1").fetchone()[0]
        db.execute("UPDATE tips SET content = ? WHERE tip_id = 1",
                   (blob[:1] + old_id + blob[5:],))
    bot.add_officer(7002, "hong-van")
    try:
        bot.start()
    except RuntimeError as error:
        assert "exited with 2" in str(error)
    else:
        raise AssertionError("the bot started with a value it cannot open")
    assert "cannot start: TIPBOT_KEY: 1 encrypted values" in bot.logs()
    assert "Traceback" not in bot.logs()


def test_a_backup_while_twenty_residents_report_holds_every_tip_shown_before_it(
    emulator, make_bot, tmp_path
):
    bot = make_bot()
    bot.add_officer(7002, "hong-van")
    bot.start()
    staff_joins(emulator, 7002)
    shown: list[str] = []  # receipt codes, in the order residents saw them
    failures: list[BaseException] = []
    lock = threading.Lock()

    def resident_reports(user_id: int) -> None:
        try:
            resident = emulator.user(user_id, f"Người {user_id}")
            for round_ in range(2):
                code = report(emulator, resident, texts=(f"Tin {user_id} lần {round_}",))
                with lock:
                    shown.append(code)
        except BaseException as error:  # reported after join
            failures.append(error)

    threads = [threading.Thread(target=resident_reports, args=(8000 + n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    emulator.wait_until(lambda: len(shown) >= 10, timeout=120)
    with lock:
        before = list(shown)
    target = tmp_path / "backup.db"
    made = bot.cli("backup", str(target))
    during = len(shown)
    for thread in threads:
        thread.join(180)
    assert not failures, failures
    assert made.returncode == 0, made.stderr
    assert during < 40, "the backup ran after every report: not taken while they wrote"
    assert "tips" in made.stdout and target.stat().st_mode & 0o777 == 0o600

    second = bot.cli("backup", str(target))
    assert second.returncode == 2 and "exists" in second.stderr
    bot.stop()

    # The copy opens with the same key and holds every tip whose receipt was shown before.
    restored = tmp_path / "restored" / "tipline.db"
    restored.parent.mkdir()
    shutil.copy(target, restored)

    async def found() -> list[bool]:
        from storage.receipt_codes import normalise_receipt_code
        from storage.store import open_store

        store = await open_store(restored, base64.b64decode(bot.env["TIPBOT_KEY"]))
        try:
            return [await store.tips.by_receipt_code(normalise_receipt_code(c) or "") is not None
                    for c in before]
        finally:
            await store.close()

    assert all(asyncio.run(found()))
    copy = target.read_bytes()
    assert b"Tin 80" not in copy and b"Ng\xc6\xb0\xe1\xbb\x9di" not in copy  # ciphertext only
