"""`/start` and its payloads (SPEC "Deep links"): report, r-<category>, c-<campaign>-<category>,
inv-<token>. An unknown payload is treated as a plain /start: the welcome."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import ContextTypes

from handlers.officer.registration import redeem
from handlers.resident.report import start_report
from handlers.resident.welcome import send_welcome
from handlers.shared.context import private_user, services_of
from texts.catalog import CATEGORIES

CAMPAIGN = re.compile(r"^c-([a-z0-9]{1,24})-([a-z]+)$")
INVITE = re.compile(r"^inv-([A-Za-z0-9_-]{16,48})$")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/start [payload]`: a deep link opens its flow; anything else gets the welcome."""
    user = private_user(update)
    if user is None or update.effective_message is None:
        return
    payload = context.args[0] if context.args else ""
    if payload and await open_payload(update, context, payload):
        return
    await send_welcome(update, context)


async def open_payload(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> bool:
    """Open the flow `payload` names; False when it names none."""
    if payload == "report":
        await start_report(update, context)
        return True
    if payload.startswith("r-") and payload[2:] in CATEGORIES:
        await start_report(update, context, category=payload[2:])
        return True
    if (match := CAMPAIGN.match(payload)) and match.group(2) in CATEGORIES:
        # Counted before anything else, whoever opens it: a count, never who.
        await services_of(context).store.campaigns.count_start(match.group(1), match.group(2))
        await start_report(update, context, category=match.group(2), campaign=match.group(1))
        return True
    if match := INVITE.match(payload):
        await redeem(update, context, match.group(1))
        return True
    return False
