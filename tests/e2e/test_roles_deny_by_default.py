"""Deny by default: every registered command and button refuses the roles it does not name.

The cases are generated from the registry (handlers.COMMANDS and handlers.BUTTONS), so a new
command or button is covered without writing a test for it.
"""

from __future__ import annotations

import pytest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler

import handlers
from handlers.shared.gate import Guarded, Need
from testing.journeys import staff_joins
from texts.catalog import plain

RESIDENT_ID, OFFICER_ID, ADMIN_ID = 5101, 5102, 5103
NOT_ALLOWED = plain("vi", "not_allowed")


def _refused_by(need: Need) -> list[int]:
    """Who must be refused by a route needing `need`."""
    return {Need.RESIDENT: [], Need.OFFICER: [RESIDENT_ID], Need.ADMIN: [RESIDENT_ID, OFFICER_ID]}[
        need
    ]


def test_every_command_and_button_handler_declares_a_role():
    """Nothing reaches a callback without the gate: a handler without a declaration would fail."""
    from telegram.ext import Application

    application = Application.builder().token("1:x").build()
    handlers.register_handlers(application)
    registered: list[BaseHandler] = [
        h for group, hs in application.handlers.items() if group >= 0 for h in hs
    ]
    assert registered
    for handler in registered:
        assert isinstance(handler, CommandHandler | CallbackQueryHandler | MessageHandler)
        assert isinstance(handler.callback, Guarded), handler
    commands = {name for h in registered if isinstance(h, CommandHandler) for name in h.commands}
    assert commands == {route.key for route in handlers.COMMANDS}


def test_every_command_refuses_the_roles_it_does_not_name(emulator, make_bot):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN_ID))
    bot.start()
    bot.add_officer(OFFICER_ID, "hong-van", name="Cán bộ A")
    users = {uid: staff_joins(emulator, uid) for uid in (RESIDENT_ID, OFFICER_ID, ADMIN_ID)}
    cases = [(route, uid) for route in handlers.COMMANDS for uid in _refused_by(route.need)]
    assert cases
    for route, uid in cases:
        user = users[uid]
        before = len(emulator.messages(uid))
        user.send_command(f"/{route.key}")
        answer = emulator.wait_until(
            lambda u=uid, b=before: emulator.messages(u)[b:] or None, timeout=10
        )
        assert [m.text for m in answer] == [NOT_ALLOWED], (route.key, uid, answer)
    # Nothing else arrived afterwards either (e.g. a late menu or a list).
    for uid in (RESIDENT_ID, OFFICER_ID):
        texts = [m.text for m in emulator.messages(uid)]
        assert texts.count(NOT_ALLOWED) == sum(1 for _, u in cases if u == uid)
    assert "Traceback" not in bot.logs()


@pytest.mark.parametrize("data_fields", [":1", ":1:2", ":x:y:z", ":999999999999:0"])
def test_every_button_prefix_refuses_the_roles_it_does_not_name(emulator, make_bot, data_fields):
    bot = make_bot(TIPBOT_ADMIN_IDS=str(ADMIN_ID))
    bot.start()
    bot.add_officer(OFFICER_ID, "hong-van", name="Cán bộ A")
    users = {uid: staff_joins(emulator, uid) for uid in (RESIDENT_ID, OFFICER_ID)}
    for route in handlers.BUTTONS:
        for uid in _refused_by(route.need):
            user = users[uid]
            welcome = emulator.messages(uid)[0]
            query = user.click_data(welcome.message_id, route.key + data_fields)
            answer = emulator.wait_until(lambda q=query: emulator.callback_answer(q), timeout=10)
            assert answer.get("text") == NOT_ALLOWED, (route.key, uid, answer)
    assert "Traceback" not in bot.logs()
    assert " ERROR " not in bot.logs()
