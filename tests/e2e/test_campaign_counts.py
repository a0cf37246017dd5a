"""The attack on campaign counts (docs/campaign.md, "How counts are shown"), through the real
bot: an admin makes a fresh campaign code, pads one category with 5 openings (anyone can), and
sends the link of another category to one villager, then polls /campaign. The villager opens it
once and reports; every /campaign answer reads the same before and after (no 0 to "fewer than
5", no total that says 1, no campaign appearing in the list)."""

from __future__ import annotations

from testing.campaign import ADMIN, OFFICER
from testing.journeys import RECEIPT, press, staff_joins, wait_button, wait_text

PADDER, TARGET = 918_274_111, 918_274_222
CODE = "lang7"


def test_one_villager_opening_and_reporting_changes_no_campaign_answer(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    bot.add_officer(OFFICER, "a-luoi")
    bot.start()
    officer = staff_joins(emulator, OFFICER)
    admin = emulator.user(ADMIN, "Quản trị", started=True)

    def answers() -> list[str]:
        """/campaign CODE, /campaign CODE theft and /campaign, as the admin polls them."""
        shown = []
        for args, part in ((CODE, f"Chiến dịch {CODE}"), (f"{CODE} theft", f"Chiến dịch {CODE}"),
                           ("", "/campaign MÃ")):
            before = len(admin.messages())
            admin.send_command("/campaign", args)
            emulator.wait_until(lambda n=before: len(admin.messages()) > n, chat=admin.id)
            answer = admin.messages()[-1].text or ""  # the newest: polls repeat the same text
            assert part in answer
            shown.append(answer)
        return shown

    fresh = answers()
    # The admin pads drugs with 5 openings from another account.
    padder = emulator.user(PADDER, "Ai đó")
    for opened in range(1, 6):  # each opening answered by the area step, once counted
        padder.send_command("/start", f"c-{CODE}-drugs")
        emulator.wait_until(lambda n=opened: len(
            [m for m in padder.messages() if (m.text or "").startswith("2. ")]) >= n,
            chat=padder.id)
    padded = answers()
    assert "Ma túy: 5 lượt mở, dưới 5 tin báo" in padded[0]
    assert "Tổng: — lượt mở, — tin báo đã gửi" in padded[0]
    # A fresh campaign reads "fewer than 5" everywhere, 0 included.
    assert "Ma túy: dưới 5 lượt mở, dưới 5 tin báo" in fresh[0]
    assert " 0 " not in fresh[0] and CODE not in fresh[2]

    # The villager opens the theft link once: nothing changes.
    target = emulator.user(TARGET, "Dân làng")
    target.send_command("/start", f"c-{CODE}-theft")
    wait_button(emulator, target, "r:area:unsure")
    assert answers() == padded
    # ... and reports: nothing changes either.
    press(emulator, target, "r:area:a-luoi")
    press(emulator, target, "r:place:skip")
    press(emulator, target, "r:when:earlier")
    wait_text(emulator, target, "5. ")
    target.send_text("Có người lạ lấy trộm trâu ở bản")
    press(emulator, target, "r:text:done")
    press(emulator, target, "r:ev:skip")
    press(emulator, target, "r:fu:anon")
    press(emulator, target, "r:sum:send")
    emulator.wait_for_message(target, lambda m: bool(RECEIPT.search(m.text or "")))
    emulator.wait_for_message(officer, "lấy trộm trâu")
    after = answers()
    assert after == padded
    assert "Trộm cắp: dưới 5 lượt mở, dưới 5 tin báo" in after[1]
    assert f"{CODE}: — lượt mở, — tin báo" in after[2]  # named (drugs has 5), no totals
    bot.stop()
