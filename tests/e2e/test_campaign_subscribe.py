"""A resident subscribes to campaign news, from the command or the /start menu, changes language,
unsubscribes and forgets; nothing identifying is kept in clear."""

from __future__ import annotations

from testing.campaign import ADMIN, press_prefix, with_store
from testing.journeys import press, wait_button, wait_text

RESIDENT = 918_273_111


def test_subscribe_from_command_and_menu_language_follows_forget_and_unsubscribe(
    emulator, make_bot
):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN))
    bot.start()
    resident = emulator.user(RESIDENT, "Hoa", username="hoa_secret")

    resident.send_command("/subscribe")
    wait_text(emulator, resident, "Bạn đã đăng ký nhận tin tuyên truyền")
    resident.send_command("/subscribe")
    wait_text(emulator, resident, "Bạn đã đăng ký nhận tin tuyên truyền rồi (tiếng Việt)")
    assert with_store(bot, lambda s: s.subscribers.count()) == 1

    # The /start menu shows the state and the button to change it.
    resident.send_command("/start")
    press(emulator, resident, "m:sub")
    wait_text(emulator, resident, "Bạn đang nhận tin tuyên truyền")
    press(emulator, resident, "sub:off")
    wait_text(emulator, resident, "Đã hủy đăng ký")
    assert with_store(bot, lambda s: s.subscribers.count()) == 0
    resident.send_command("/start")
    press(emulator, resident, "m:sub")
    wait_button(emulator, resident, "sub:on")
    press(emulator, resident, "sub:on")
    wait_text(emulator, resident, "Bạn đã đăng ký nhận tin tuyên truyền của phong trào")

    # /language: campaign news follow.
    resident.send_command("/language")
    press(emulator, resident, "lang:en")
    wait_text(emulator, resident, "Language set to English.")
    assert with_store(bot, lambda s: s.subscribers.language(RESIDENT)) == "en"

    # Nothing identifying in clear at rest or in the logs.
    data = bot.data_bytes() + bot.logs().encode()
    for value in (str(RESIDENT).encode(), b"hoa_secret", RESIDENT.to_bytes(8, "big")):
        assert value not in data

    # An admin's broadcast reaches the subscriber; /forget removes the subscription.
    admin = emulator.user(ADMIN, "Quản trị", started=True)
    admin.send_command("/broadcast")
    wait_text(emulator, admin, "tới 1 người đăng ký")
    admin.send_text("Chào bà con")
    press_prefix(emulator, admin, "bc:go:")
    emulator.wait_for_message(resident, "Chào bà con")
    resident.send_command("/forget")
    wait_text(emulator, resident, "This chat's subscription to campaign news was removed.")
    # /forget also removed the language choice: answers follow Telegram's language again.
    resident.send_command("/unsubscribe")
    wait_text(emulator, resident, "Bạn chưa đăng ký nhận tin tuyên truyền.")
    assert with_store(bot, lambda s: s.subscribers.count()) == 0

    # The commands are in the menus, the admin's ones only for admins.
    resident_menu = {c["command"] for c in emulator.commands()}
    assert {"subscribe", "unsubscribe"} <= resident_menu
    assert "broadcast" not in resident_menu
    emulator.wait_until(lambda: emulator.commands({"type": "chat", "chat_id": ADMIN}))
    admin_menu = {c["command"] for c in emulator.commands({"type": "chat", "chat_id": ADMIN})}
    assert {"broadcast", "schedule", "schedules", "campaign"} <= admin_menu
    resident.send_command("/help")
    help_text = wait_text(emulator, resident, "/unsubscribe — thôi nhận tin tuyên truyền").text
    assert "/broadcast" not in help_text
