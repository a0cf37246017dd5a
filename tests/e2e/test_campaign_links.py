"""Campaign deep links: `/start c-<campaign>-<category>` opens a report with the category chosen,
and the campaign's opens and submitted tips are counted (counts only); an admin gets the link
and the counts with /campaign."""

from __future__ import annotations

import sqlite3

from testing.campaign import ADMIN, OFFICER
from testing.journeys import RECEIPT, press, staff_joins, wait_button, wait_text

RESIDENT_A, RESIDENT_B = 918_273_222, 918_273_333


def test_a_campaign_link_opens_the_report_with_its_category_and_is_counted(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    bot.add_officer(OFFICER, "a-luoi")
    bot.start()
    officer = staff_joins(emulator, OFFICER)

    # A opens the campaign link and sends the report: the category is already chosen.
    resident = emulator.user(RESIDENT_A, "Lan", username="lan_campaign")
    resident.send_command("/start", "c-giurung2025-forest")
    message = wait_button(emulator, resident, "r:area:unsure")
    assert "r:cat:forest" not in message.callback_data()
    press(emulator, resident, "r:area:a-luoi")
    press(emulator, resident, "r:place:skip")
    press(emulator, resident, "r:when:earlier")
    wait_text(emulator, resident, "5. ")
    resident.send_text("Xe tải chở gỗ lậu qua đèo lúc 2 giờ sáng")
    press(emulator, resident, "r:text:done")
    press(emulator, resident, "r:ev:skip")
    press(emulator, resident, "r:fu:anon")
    press(emulator, resident, "r:sum:send")
    emulator.wait_for_message(resident, lambda m: bool(RECEIPT.search(m.text or "")))
    card = emulator.wait_for_message(officer, "chở gỗ lậu")
    assert "Phá rừng" in card.text

    # B opens it twice and sends nothing; an unknown category is a plain /start, not counted.
    other = emulator.user(RESIDENT_B, "Mai")
    for _ in range(2):
        other.send_command("/start", "c-giurung2025-forest")
        wait_button(emulator, other, "r:area:unsure")
    other.send_command("/start", "c-giurung2025-weather")
    emulator.wait_for_message(other, "113")

    admin = emulator.user(ADMIN, "Quản trị", started=True)
    admin.send_command("/campaign", "giurung2025 forest")
    answer = wait_text(emulator, admin, "Chiến dịch giurung2025").text
    # One tip and three openings are shown as "fewer than 5", and the totals are left out (a
    # category under 5): a link sent to one person must not single them out.
    assert "săn bắt trái phép: dưới 5 lượt mở, dưới 5 tin báo" in answer
    assert "Tổng: — lượt mở, — tin báo đã gửi" in answer
    assert "https://t.me/tipline_test_bot?start=c-giurung2025-forest" in answer
    admin.send_command("/campaign", "giurung2025")
    full = wait_text(emulator, admin, "start=c-giurung2025-drugs").text
    assert full.count("https://t.me/tipline_test_bot?start=c-giurung2025-") == 9
    admin.send_command("/campaign")
    listing = wait_text(emulator, admin, "Chưa có chiến dịch nào có số từ 5 trở lên").text
    assert "giurung2025" not in listing  # every count under 5: not named

    # From 5 on, the count itself is shown (the total still not: the other eight are at 0).
    for _ in range(2):
        before = len(emulator.messages(other.id))
        other.send_command("/start", "c-giurung2025-forest")  # counted, then answered
        emulator.wait_until(lambda n=before: len(emulator.messages(other.id)) > n)
    admin.send_command("/campaign", "giurung2025 forest")
    answer = wait_text(emulator, admin, "săn bắt trái phép: 5 lượt mở, dưới 5 tin báo").text
    assert "Tổng: — lượt mở, — tin báo đã gửi" in answer
    admin.send_command("/campaign")
    wait_text(emulator, admin, "giurung2025: — lượt mở, — tin báo")
    admin.send_command("/campaign", "Bad-Code!")
    wait_text(emulator, admin, "Mã chiến dịch chỉ gồm")

    # Counts only: nothing of who opened the link is kept or logged, and the tip does not
    # record which link it came from (the code appears only in the counters' row).
    data = bot.data_bytes() + bot.logs().encode()
    for value in (str(RESIDENT_A), str(RESIDENT_B), "lan_campaign"):
        assert value.encode() not in data
    bot.stop()
    with sqlite3.connect(bot.data / "tipline.db") as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(tips)")]
        assert not [c for c in columns if "campaign" in c]
        assert db.execute("SELECT starts, tips FROM campaign_starts WHERE campaign ="
                          " 'giurung2025' AND category = 'forest'").fetchone() == (5, 1)
