"""Lanes keep one chat's order while other chats go past; the flood guard counts at arrival."""

from __future__ import annotations

import asyncio

from telegram import CallbackQuery, Chat, Message, Update, User

from bot.chat_lanes import ChatLanes, FloodGuard, Verdict

NOW = [1000.0]


def message_update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


def press_update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", False)
    return Update(update_id, callback_query=CallbackQuery(str(update_id), user, "ci", data="m:x"))


def guard(**kwargs) -> FloodGuard:  # type: ignore[no-untyped-def]
    return FloodGuard(lambda uid: uid.to_bytes(8, "big"), clock=lambda: NOW[0], **kwargs)


def test_the_twenty_first_message_in_ten_seconds_warns_once_then_a_minute_of_silence():
    NOW[0] = 1000.0
    flood = guard()
    verdicts = [flood(message_update(n, 1)) for n in range(30)]
    assert verdicts[:20] == [Verdict.ADMIT] * 20
    assert verdicts[20] is Verdict.WARN
    assert set(verdicts[21:]) == {Verdict.DROP}
    assert flood(message_update(99, 2)) is Verdict.ADMIT  # someone else is not affected
    NOW[0] += 59
    assert flood(message_update(100, 1)) is Verdict.DROP
    NOW[0] += 2
    assert flood(message_update(101, 1)) is Verdict.ADMIT


def test_messages_spread_over_more_than_the_window_are_not_a_flood():
    NOW[0] = 2000.0
    flood = guard()
    for n in range(100):
        NOW[0] += 0.6
        assert flood(message_update(n, 1)) is Verdict.ADMIT


def test_presses_have_their_own_looser_limit():
    NOW[0] = 3000.0
    flood = guard(press_limit=40)
    verdicts = [flood(press_update(n, 1)) for n in range(41)]
    assert verdicts[:40] == [Verdict.ADMIT] * 40 and verdicts[40] is Verdict.WARN


async def test_one_chat_keeps_its_order_while_another_chat_goes_past():
    lanes = ChatLanes(running=8)
    done: list[str] = []
    release = asyncio.Event()

    async def slow(tag: str) -> None:
        await release.wait()
        done.append(tag)

    async def fast(tag: str) -> None:
        done.append(tag)

    tasks = [
        asyncio.create_task(lanes.process_update(message_update(1, 1), slow("a1"))),
        asyncio.create_task(lanes.process_update(message_update(2, 1), fast("a2"))),
        asyncio.create_task(lanes.process_update(message_update(3, 2), fast("b1"))),
    ]
    await asyncio.sleep(0.05)
    assert done == ["b1"], "the other chat waited, or chat 1 ran out of order"
    release.set()
    await asyncio.gather(*tasks)
    assert done == ["b1", "a1", "a2"]
    assert lanes.lanes == 0  # lanes are dropped when empty


async def test_a_dropped_update_never_runs_and_a_warned_one_runs_the_warning_instead():
    lanes = ChatLanes()
    ran: list[str] = []
    verdicts = iter([Verdict.DROP, Verdict.WARN])
    lanes.admit = lambda update: next(verdicts)

    async def warn(update: Update) -> None:
        ran.append(f"warn {update.update_id}")

    async def handler(tag: str) -> None:
        ran.append(tag)

    lanes.warn = warn
    await lanes.process_update(message_update(1, 1), handler("one"))
    await lanes.process_update(message_update(2, 1), handler("two"))
    assert ran == ["warn 2"]
