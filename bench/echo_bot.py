"""The baseline bot: a trivial python-telegram-bot Application that echoes each text message.

Run as a subprocess against the emulator by bench/intake_latency.py, with the same polling
settings as the real bot (`run_polling` defaults, all update types); what it measures is the
cost of one update's trip through the emulator, PTB and one sendMessage, with no database.

    BENCH_TOKEN=... BENCH_BASE_URL=http://127.0.0.1:PORT/bot python -m bench.echo_bot
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    application = (
        Application.builder()
        .token(os.environ["BENCH_TOKEN"])
        .base_url(os.environ["BENCH_BASE_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
