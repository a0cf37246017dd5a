"""Property-based fuzzing of the whole handler stack (issue 17, item 1): generated updates of
many kinds with hostile text go through the real bot (its Application, its lanes, its flood
guard) against the emulator.

Properties: no handler fails (no ERROR line, no traceback in the bot's log); nothing is sent to
a chat that did not write (officers aside: they get cards); what a resident typed reaches no
other resident; every resident still gets an answer to /start afterwards.

CI-sized and seeded by default (`FUZZ_EXAMPLES`, 25). The long run:

    FUZZ_EXAMPLES=10000 python -m pytest -q tests/e2e/test_fuzz_handlers.py

(a few hours on 2 cores). `FUZZ_SEED` picks another seed.
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from emulator import Emulator

OFFICER = 7002
RESIDENTS = tuple(range(5601, 5611))  # ten: none of them reaches the flood limit
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "17"))
COMMANDS = ("/start", "/report", "/status", "/help", "/cancel", "/language", "/forget",
            "/subscribe", "/tips", "/tip", "/broadcast", "/invite", "/officers", "/stats", "/x")
HOSTILE = (
    "x" * 4097,
    "\u202e\u202dRTL override\u2066",
    "\u200b\u200c\u200d\ufeff" * 300,
    "a" + "\u0301\u0302\u0303" * 400,
    "nul\x00byte",
    "\ud800 lone \udfff surrogates",
    "<b>bold</b> <a href='x'>&amp; &lt;",
    "*_[]()~`>#+-=|{}.!\\",
    "T-0000-0000 ZZZZ-ZZZZ-ZZZZ",
    "",
    " ",
)
_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
_who = st.integers(0, len(RESIDENTS) - 1)
_data = st.one_of(st.text(max_size=70), st.sampled_from(
    ("r:cat:drugs", "r:sum:send", "o:ack:1", "o:rep:99999999999999", "bc:go:x", "st:close",
     "m:status", "lang:en", "r:ap:999", "o:set:1:resolved", "x" * 65)))
ACTIONS = st.one_of(
    st.tuples(st.just("text"), _who, _text),
    st.tuples(st.just("command"), _who, st.sampled_from(COMMANDS), _text),
    st.tuples(st.just("click"), _who, _who, st.booleans(), _data),
    st.tuples(st.just("edit"), _who, _text),
    st.tuples(st.just("media"), _who, st.sampled_from(("photo", "sticker", "location",
                                                        "contact", "voice", "document"))),
    st.tuples(st.just("group"), _who, _text),
    st.tuples(st.just("raw"), _who, st.sampled_from(("channel_post", "inline_query",
                                                      "my_chat_member", "chat_join_request",
                                                      "edited_channel_post")), _text),
)
MARK = re.compile(r"FZ\d+U(\d+)Z")


def _act(emulator: Emulator, action: tuple, users, group, channel, serial: int) -> None:  # type: ignore[no-untyped-def]
    kind, who = action[0], users[action[1]]
    mark = f"FZ{serial}U{who.id}Z "
    if kind == "text":
        who.send_text(mark + action[2])
    elif kind == "command":
        who.send_command(action[2], (mark + action[3]).strip() or None)
    elif kind == "click":
        source = users[action[2]]
        theirs = [m for m in emulator.messages(source.id) if m.callback_data()]
        mine = [m for m in emulator.messages(who.id) if m.from_bot]
        if not mine:
            return
        data = theirs[-1].callback_data()[0] if action[3] and theirs else action[4]
        if data:
            who.click_data(mine[-1].message_id, data[:64])
    elif kind == "edit":
        written = [m for m in emulator.messages(who.id, include_user=True)
                   if m.text is not None and not m.from_bot]
        if written:
            who.edit_text(written[-1].message_id, mark + action[2])
    elif kind == "media":
        {"photo": lambda: who.send_photo(caption=mark),
         "sticker": who.send_sticker,
         "location": lambda: who.send_location(16.2, 107.2),
         "contact": lambda: who.send_contact("+84000000000", "A"),
         "voice": who.send_voice,
         "document": lambda: who.send_document(b"%PDF-1.4 x", "a.pdf")}[action[2]]()
    elif kind == "group":
        who.send_text(mark + action[2], chat=group)
    else:
        _raw(emulator, action[2], who, channel, mark + action[3], serial)


def _raw(emulator: Emulator, kind: str, who, channel, text: str, serial: int) -> None:  # type: ignore[no-untyped-def]
    user = who.info.to_user()
    chat = {"id": channel.id, "type": "channel", "title": "Kênh"}
    if kind in ("channel_post", "edited_channel_post"):
        payload = {"message_id": 10_000 + serial, "date": emulator.now(), "chat": chat,
                   "text": text or "."}
    elif kind == "inline_query":
        payload = {"id": str(serial), "from": user, "query": text[:256], "offset": ""}
    elif kind == "my_chat_member":
        me = {"id": emulator.bot_id, "is_bot": True, "first_name": "Tipline"}
        payload = {"chat": {"id": who.id, "type": "private", "first_name": "x"}, "from": user,
                   "date": emulator.now(),
                   "old_chat_member": {"status": "member", "user": me},
                   "new_chat_member": {"status": "kicked", "user": me, "until_date": 0}}
    else:
        payload = {"chat": chat, "from": user, "user_chat_id": who.id, "date": emulator.now()}
    emulator._push_update(kind, payload)


def _quiet(emulator: Emulator, seconds: float = 1.5) -> None:
    """Until the bot made no call but getUpdates for `seconds`."""
    def calm() -> bool:
        calls = [c for c in emulator.calls if c.method != "getUpdates"]
        return not calls or emulator.clock() - calls[-1].clock >= seconds
    emulator.wait_until(calm, timeout=60)


def test_generated_updates_never_break_the_bot_nor_leak_a_residents_words(emulator, make_bot):
    bot = make_bot()
    bot.add_officer(OFFICER, "hong-van")
    bot.start()
    officer = emulator.user(OFFICER, "Cán bộ")
    officer.send_command("/start")
    emulator.wait_for_message(officer, "113")
    users = [emulator.user(uid, f"Dân {uid}") for uid in RESIDENTS]
    group = emulator.group("Nhóm", members=users)
    channel = emulator.channel("Kênh")
    serial = iter(range(1, 10**9))

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(ACTIONS, min_size=1, max_size=4))
    def run(actions):  # type: ignore[no-untyped-def]
        for action in actions:
            _act(emulator, action, users, group, channel, next(serial))

    run()
    emulator.wait_until(lambda: not emulator.pending_updates, timeout=60)
    _quiet(emulator)
    for user in users:  # still answering
        before = sum("113" in (m.text or "") for m in emulator.messages(user.id))
        user.send_command("/start")
        emulator.wait_until(
            lambda u=user, b=before: sum("113" in (m.text or "")
                                         for m in emulator.messages(u.id)) > b,
            timeout=30,
        )

    assert len(emulator.updates_sent()) > EXAMPLES, "the run sent (almost) nothing"
    assert len(emulator.calls_to("sendMessage")) > len(RESIDENTS), "the bot answered nothing"
    logs = bot.logs()
    assert " ERROR " not in logs and "Traceback" not in logs, logs[-3000:]
    writers = {u.id for u in users} | {OFFICER, group.id}
    for call in emulator.calls:
        if not call.ok or call.chat_id is None or call.method == "getUpdates":
            continue
        chat = int(call.chat_id) if str(call.chat_id).lstrip("-").isdigit() else None
        assert chat in writers, f"{call.method} to {call.chat_id}, who never wrote"
        for written_by in MARK.findall(str(call.params.get("text", "")) +
                                       str(call.params.get("caption", ""))):
            assert int(written_by) == chat or chat == OFFICER, (
                f"what {written_by} typed reached chat {chat}"
            )
