"""The real bot in webhook mode against the emulator pushing updates as Telegram does.

The bot answers a POST only once the update was handled, so the emulator's redelivery (after a
lost answer, a timeout, a stop) is the safety net; a repeated update is handled once; a request
without the secret is refused and logged without its content; SIGTERM stops cleanly, the webhook
stays registered for the next start, and a start with long polling removes it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request

from emulator import Emulator
from testing.harness import BotProcess, wait
from testing.journeys import RECEIPT, report, staff_joins, wait_text
from testing.ports import free_port

SECRET = "e2e_Webhook-secret_42"
TIP_TEXT = "Kho pháo lậu webhook-xyzzy sau chợ"
BODY_MARKER = "leaked-body-xyzzy-7781"


def webhook_bot(emulator: Emulator, make_bot) -> BotProcess:  # type: ignore[no-untyped-def]
    port = free_port()
    emulator.webhook.retry_first = 0.2  # Telegram waits seconds; the test need not
    emulator.webhook.retry_max = 1.0
    return make_bot(
        TIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
        TIPBOT_WEBHOOK_SECRET=SECRET,
        TIPBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    )


def _post(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _is_callback(data: str):  # type: ignore[no-untyped-def]
    return lambda update: (update.get("callback_query") or {}).get("data") == data


def test_a_resident_reports_through_the_webhook_and_the_officer_gets_the_card(
    emulator, make_bot
):
    bot = webhook_bot(emulator, make_bot)
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(918273001, "Lan")
    code = report(emulator, resident, texts=(TIP_TEXT,))
    assert RECEIPT.fullmatch(code)
    card = emulator.wait_for_message(officer, lambda m: TIP_TEXT in (m.text or ""))
    assert "T-" in card.text

    assert emulator.calls_to("getUpdates") == []  # never polled
    assert emulator.calls_to("deleteWebhook") == []
    (registration,) = emulator.calls_to("setWebhook")
    assert registration.params["secret_token"] == SECRET
    assert registration.params["max_connections"] == 40
    assert {"message", "callback_query"} <= set(registration.params["allowed_updates"])
    methods = [c.method for c in emulator.calls]
    assert methods.index("getMe") < methods.index("setWebhook")
    emulator.wait_until(lambda: emulator.webhook.info()["pending_update_count"] == 0)
    deliveries = emulator.webhook.deliveries
    assert deliveries and all(d.ok and d.status == 200 for d in deliveries)

    # Answered only once handled: the welcome of the officer's /start was sent before the
    # answer to that update came back.
    welcome = next(c for c in emulator.calls_to("sendMessage", 7002) if "113" in c.params["text"])
    first_of_officer = next(d for d in deliveries if d.queue == 7002)
    assert first_of_officer.finished is not None and welcome.clock < first_of_officer.finished
    logs = bot.logs()
    assert "Traceback" not in logs and TIP_TEXT not in logs and code not in logs
    assert SECRET not in logs


def test_a_post_without_the_secret_gets_403_and_the_log_has_no_body(emulator, make_bot):
    bot = webhook_bot(emulator, make_bot).start()
    url = bot.env["TIPBOT_WEBHOOK_URL"]
    update = (
        '{"update_id": 99999, "message": {"message_id": 1, "date": 1, "text": "'
        + BODY_MARKER + '", "chat": {"id": 918273002, "type": "private"}}}'
    ).encode()
    json_type = {"Content-Type": "application/json"}
    assert _post(url, update, json_type) == 403
    assert _post(url, update, {**json_type, "X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
    with_secret = {**json_type, "X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert _post(url, b"not json " + BODY_MARKER.encode(), with_secret) == 400
    assert _post(url, b'{"no_update_id": 1}', with_secret) == 400
    assert _post(url.replace("/telegram/hook", "/other"), update, with_secret) == 404
    wait(lambda: "refused 1 request without the right secret token" in bot.logs())
    resident = emulator.user(5201, "Mai")  # the line still works
    resident.send_command("/start")
    emulator.wait_for_message(resident, "113")
    logs = bot.logs()
    refusals = [line for line in logs.splitlines() if "secret token" in line]
    assert len(refusals) == 1, logs  # one line a minute, with the count, not one per request
    assert "malformed update" in logs
    assert BODY_MARKER not in logs and "918273002" not in logs and "Traceback" not in logs
    assert not [m for m in emulator.messages(918273002)]  # the forged update was never handled


def test_a_redelivered_update_creates_no_second_tip(emulator, make_bot):
    bot = webhook_bot(emulator, make_bot)
    bot.add_officer(7002, "hong-van")
    bot.start()
    officer = staff_joins(emulator, 7002)
    resident = emulator.user(918273003, "Hoa")
    # The answer to "send" is lost on the way back: Telegram sends the same update again.
    emulator.webhook.lose_answers(1, matching=_is_callback("r:sum:send"))
    report(emulator, resident, texts=(TIP_TEXT,))
    emulator.wait_until(lambda: emulator.webhook.info()["pending_update_count"] == 0)
    sends = [d for d in emulator.webhook.deliveries if d.error == "answer lost"]
    assert len(sends) == 1
    again = [d for d in emulator.webhook.deliveries if d.update_id == sends[0].update_id]
    assert [d.error for d in again] == ["answer lost", None]
    wait(lambda: "delivered again; not handled twice" in bot.logs())
    emulator.wait_for_message(officer, lambda m: TIP_TEXT in (m.text or ""))
    receipts = [m for m in emulator.messages(resident) if RECEIPT.search(m.text or "")]
    cards = [m for m in emulator.messages(officer) if TIP_TEXT in (m.text or "")]
    assert len(receipts) == 1 and len(cards) == 1


def test_an_update_still_in_hand_when_telegram_gives_up_waiting_is_handled_once(
    emulator, make_bot
):
    bot = webhook_bot(emulator, make_bot).start()
    resident = emulator.user(918273004, "Tuan")
    emulator.webhook.timeout = 0.5
    emulator.inject("latency", method="sendMessage", chat_id=resident.id, delay=1.5, times=1)
    resident.send_command("/start")
    emulator.wait_for_message(resident, "113")
    emulator.wait_until(lambda: emulator.webhook.info()["pending_update_count"] == 0)
    first, *rest = [d for d in emulator.webhook.deliveries if d.queue == resident.id]
    assert first.error == "Read timeout expired"
    assert rest and rest[-1].ok
    wait(lambda: "delivered again; not handled twice" in bot.logs())
    assert len([m for m in emulator.messages(resident) if "113" in (m.text or "")]) == 1


def test_sigterm_finishes_what_it_accepted_and_polling_takes_over_later(emulator, make_bot):
    bot = webhook_bot(emulator, make_bot).start()
    resident = emulator.user(918273005, "Lan")
    resident.send_command("/start")
    emulator.wait_for_message(resident, "113")
    emulator.inject("latency", method="sendMessage", chat_id=resident.id, delay=1.5, times=1)
    answered = len(emulator.calls_to("sendMessage", resident.id))
    resident.send_command("/help")
    # the bot is answering /help (its reply is held 1.5 s by the emulator)
    emulator.wait_until(lambda: len(emulator.calls_to("sendMessage", resident.id)) > answered)
    assert bot.stop() == 0  # SIGTERM while /help is in hand
    wait_text(emulator, resident, "/report")  # it was handled, and answered
    help_delivery = emulator.webhook.deliveries[-1]
    assert help_delivery.ok and help_delivery.status == 200
    logs = bot.logs()
    assert "bot stopped" in logs and "Traceback" not in logs

    # The webhook stays set: Telegram keeps what arrives while the bot is down.
    assert emulator.webhook.info()["url"] == bot.env["TIPBOT_WEBHOOK_URL"]
    resident.send_command("/language")
    emulator.wait_until(lambda: emulator.webhook.info().get("last_error_message"))
    assert emulator.webhook.info()["pending_update_count"] == 1

    del bot.env["TIPBOT_WEBHOOK_URL"]  # the next start long-polls
    bot.start()
    assert emulator.calls_to("deleteWebhook")
    assert emulator.webhook.info()["url"] == ""
    emulator.wait_until(lambda: len(emulator.messages(resident)) >= 3)  # /language, by polling
    assert emulator.calls_to("getUpdates")
    assert bot.stop() == 0


def test_a_taken_listen_port_is_one_line_and_exit_2(emulator, make_bot):
    bot = webhook_bot(emulator, make_bot)
    port = int(bot.env["TIPBOT_WEBHOOK_LISTEN"].rsplit(":", 1)[1])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "bot"], cwd=bot.workdir, env=bot.env, capture_output=True,
            text=True, timeout=60, check=False,
        )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tipline: cannot start: TIPBOT_WEBHOOK_LISTEN: cannot listen")
    assert emulator.calls_to("setWebhook") == []  # nothing registered for nobody to serve
