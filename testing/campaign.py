"""Helpers of the campaign tests and benchmarks: the staff ids they use, the bot's database
opened beside the running bot, subscribers seeded through storage, a press by button prefix."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable

from emulator import Emulator, UserHandle
from storage.store import Store, open_store
from testing.harness import BotProcess
from testing.journeys import wait_text

ADMIN = 7001
OFFICER = 7002


def with_store(bot: BotProcess, action):  # type: ignore[no-untyped-def]
    """Run `await action(store)` on the bot's database (the bot may be running: SQLite WAL, or
    PostgreSQL)."""

    async def go():  # type: ignore[no-untyped-def]
        store: Store = await open_store(
            bot.env["TIPBOT_DB"], base64.b64decode(bot.env["TIPBOT_KEY"])  # a path or a URL
        )
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())


def seed_subscribers(
    emulator: Emulator, bot: BotProcess, ids: Iterable[int], language: str = "vi"
) -> list[int]:
    ids = list(ids)
    for user_id in ids:
        emulator.user(user_id, "Dân", language_code=language, started=True)

    async def add(store: Store) -> None:
        async with store.db.transaction():
            for user_id in ids:
                await store.subscribers.subscribe(user_id, user_id, language)

    with_store(bot, add)
    return ids


def press_prefix(emulator: Emulator, user: UserHandle, prefix: str, timeout: float = 10) -> str:
    """Press the newest button whose data starts with `prefix`; returns its data."""

    def find():  # type: ignore[no-untyped-def]
        for message in reversed(emulator.messages(user.id)):
            for data in message.callback_data():
                if not message.deleted and data.startswith(prefix):
                    return message, data
        return None

    message, data = emulator.wait_until(find, timeout=timeout)
    user.click(message.message_id, data)
    return data


def start_broadcast(emulator: Emulator, admin: UserHandle, body: str, count: int) -> None:
    admin.send_command("/broadcast")
    wait_text(emulator, admin, f"tới {count} người đăng ký")
    admin.send_text(body)
    emulator.wait_until(
        lambda: any(
            d.startswith("bc:go:") for m in emulator.messages(admin.id) for d in m.callback_data()
        )
    )
    preview = next(
        m for m in reversed(emulator.messages(admin.id))
        if any(d.startswith("bc:go:") for d in m.callback_data())
    )
    assert body in (preview.text or ""), "the preview shows the message as it will go out"
    assert f"{count} người nhận" in " ".join(preview.button_texts())
    press_prefix(emulator, admin, "bc:go:")


def received(emulator: Emulator, user_id: int, body: str) -> int:
    return sum(1 for m in emulator.messages(user_id) if body in (m.text or ""))
