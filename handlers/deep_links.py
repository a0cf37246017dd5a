"""The `/start` payloads of SPEC "Deep links": report, r-<category>, c-<campaign>-<category>,
inv-<token>. An unknown payload is treated as a plain /start (returns False)."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import ContextTypes

from bot.catalog import CATEGORIES

CAMPAIGN = re.compile(r"^c-([a-z0-9]{1,24})-([a-z]+)$")
INVITE = re.compile(r"^inv-([A-Za-z0-9_-]{16,48})$")


async def open_payload(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> bool:
    from handlers.resident_report import start_report

    if payload == "report":
        await start_report(update, context)
        return True
    if payload.startswith("r-") and payload[2:] in CATEGORIES:
        await start_report(update, context, category=payload[2:])
        return True
    if (match := CAMPAIGN.match(payload)) and match.group(2) in CATEGORIES:
        # Counted before anything else, whoever opens it: a count, never who.
        from handlers.context import services_of

        await services_of(context).store.campaigns.count_start(match.group(1), match.group(2))
        await start_report(update, context, category=match.group(2), campaign=match.group(1))
        return True
    if match := INVITE.match(payload):
        from handlers.officer_registration import redeem

        await redeem(update, context, match.group(1))
        return True
    return False
