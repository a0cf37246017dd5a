"""The background worker that empties the outbox towards officers: at least once, in order,
honouring Telegram's RetryAfter, backing off on network errors and 5xx, and moving a tip to the
next tier when nobody of its tier can be reached.

It claims rows in the database (see storage/outbox.py), so a restart resumes pending rows and
two processes never send the same row at once. A row is marked sent only after Telegram
accepted every message of it; a crash or a timeout in between sends the row again, and the
duplicate carries the same reference.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.services import Services
from rules import links
from rules.access import may_see, staff_role
from rules.routing import ADMIN_TIER, ALL_AREAS_TIER, plan_delivery
from storage.outbox import OutboxRow
from storage.outbox_writer import Recipient
from storage.tips import Delivery, Tip
from telegram_api.answers import is_unreachable, retry_after_seconds
from telegram_api.types import App
from texts.catalog import Html, pick_language, plain, text
from views.card import (
    card_keyboard,
    send_addition,
    send_card,
)
from workers.jobs import Wakeable

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
#: How long a claimed row stays with this worker without news; renewed before every message.
#: A crash mid-delivery makes the row due again after this (then it is sent again).
LEASE_SECONDS = 30.0
IDLE_WAIT = 30.0
WORKER_KEY = "delivery"
#: Tips whose rows are sent side by side (each tip's own rows stay in order).
TIPS_AT_ONCE = 8
#: At a clean stop, how long the running pass may finish the rows it holds (no new ones are
#: taken). Cancelled at once, a card Telegram had already shown was left pending and sent
#: again after the restart, once its lease ran out: a duplicate card at every deployment that
#: caught a delivery in flight.
STOP_WAIT_SECONDS = 5.0
NOT_ENTITLED = "not entitled"
#: An officer's words to a resident never open a preview: the bot's Defaults say so for every
#: message, and this one says it itself, so that no change of the Defaults can undo it (a
#: preview makes Telegram's servers fetch the page, and shows it to the resident to tap).
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class NotEntitled(Exception):
    """The staff recipient of a row may no longer see its tip (see rules.access.may_see)."""


def start_delivery(application: App) -> None:
    """Start the worker (from post_init); its first pass resumes whatever is pending."""
    services: Services = application.bot_data["services"]
    worker = Wakeable(application, "delivery", lambda: _pass(application, services),
                      stop_wait=STOP_WAIT_SECONDS)
    application.bot_data[WORKER_KEY] = worker
    worker.start()


def wake_delivery(application: App) -> None:
    """A row was just committed: look now rather than after the idle pause."""
    worker: Wakeable | None = application.bot_data.get(WORKER_KEY)
    if worker is not None:
        worker.wake()


async def on_staff_reachable(application: App) -> None:
    """Someone can be written to again: route tips that reached nobody, then deliver."""
    services: Services = application.bot_data["services"]
    for tip_id in await services.store.tips.undelivered():
        tip = await services.store.tips.by_id(tip_id)
        if tip is None:
            continue
        delivery = await plan_delivery(services.store, tip.area, services.config.admin_ids)
        if delivery is not None:
            await services.store.outbox.enqueue(tip_id, delivery, "card")
            log.info("tip %s routed again to tier %s", tip.ref, delivery.tier)
    wake_delivery(application)


async def entitled(services: Services, tip: Tip, staff_ids: list[int]) -> list[int]:
    """Those of `staff_ids` who may see `tip` now (the rule of handlers.shared.context.may_see)."""
    result = []
    for staff_id in staff_ids:
        if await may_see(services, await staff_role(services, staff_id), tip):
            result.append(staff_id)
    return result


async def entitled_holders(services: Services, tip: Tip) -> list[int]:
    """Who gets the resident's additions: holders of the card still entitled to the tip, else
    (no card delivered yet) those it was queued for, if still entitled."""
    holders = await entitled(services, tip, await services.store.outbox.holders(tip.tip_id))
    if holders:
        return holders
    queued = sorted(await services.store.outbox.card_recipients(tip.tip_id))
    return await entitled(services, tip, queued)


async def _pass(application: App, services: Services) -> float:
    """Send what is due; the pause until the next pass (Telegram's, the next due row's, idle)."""
    pause = await _deliver_due(application, services)
    if pause is None:
        due = await services.store.outbox.next_due_in()
        pause = IDLE_WAIT if due is None else min(due, IDLE_WAIT)
    return pause


async def _deliver_due(application: App, services: Services) -> float | None:
    """Send every due row; returns a pause imposed by Telegram (RetryAfter), else None.

    The rows of one tip go one after the other, in their order (a card before its additions,
    a tier's card before the notice about it); different tips go side by side, a few at a
    time, so that fifty reports sent in the same minute do not queue behind one another's
    round trips to Telegram (issue 16: send -> card)."""
    outbox = services.store.outbox
    pause: float | None = None
    lanes = asyncio.Semaphore(TIPS_AT_ONCE)

    async def deliver(group: list[OutboxRow]) -> float | None:
        async with lanes:
            return await _deliver_rows(application, services, group)

    while not _stopping(application) and (
            rows := await outbox.claim_due(lease_seconds=LEASE_SECONDS)):
        by_tip: dict[int, list[OutboxRow]] = {}
        for row in rows:
            by_tip.setdefault(row.tip_id, []).append(row)
        delays = await asyncio.gather(*(deliver(group) for group in by_tip.values()))
        waits = [delay for delay in delays if delay is not None]
        if waits:
            pause = max(waits)
            break
    return pause


def _stopping(application: App) -> bool:
    """The bot is stopping: the pass finishes the rows it holds and takes no more."""
    worker: Wakeable | None = application.bot_data.get(WORKER_KEY)
    return worker is not None and worker.stopping


async def _deliver_rows(
    application: App, services: Services, rows: list[OutboxRow]
) -> float | None:
    """Send the rows of one tip in order; on RetryAfter the rest wait, and the delay is given."""
    outbox = services.store.outbox
    for index, row in enumerate(rows):
        try:
            card_message = await _send_row(application, services, row)
        except RetryAfter as error:
            delay = retry_after_seconds(error.retry_after)
            log.warning("outbox %s: Telegram asks to wait %.0f s", row.outbox_id, delay)
            for waiting in rows[index:]:
                await outbox.retry_later(waiting.outbox_id, delay, "retry_after")
            return delay
        except NotEntitled:
            log.warning("outbox %s: staff %s no longer entitled; not sent", row.outbox_id,
                        row.recipient_id)
            await outbox.give_up(row.outbox_id, "failed", NOT_ENTITLED)
            await _after_row_ended(services, row)
            wake_delivery(application)
        except Forbidden as error:
            await _unreachable(application, services, row, str(error))
        except BadRequest as error:
            if row.recipient is Recipient.RESIDENT:
                log.info("outbox %s to the resident not delivered: %s", row.outbox_id,
                         type(error).__name__)
                await outbox.give_up(row.outbox_id, "failed", "bad request")
            elif is_unreachable(error):
                await _unreachable(application, services, row, str(error))
            else:
                log.error("outbox %s rejected: %s", row.outbox_id, error)
                await outbox.give_up(row.outbox_id, "failed", str(error))
                await _after_row_ended(services, row)
        except (NetworkError, TelegramError) as error:
            delay = min(MAX_BACKOFF, 2.0 ** min(row.attempts, 9))
            log.warning(
                "outbox %s: %s, retry in %.0f s", row.outbox_id, type(error).__name__, delay
            )
            await outbox.retry_later(row.outbox_id, delay, type(error).__name__)
        else:
            # One commit for what the sending settled (each is a disk flush; under a crowd they
            # queue behind the residents' own).
            async with services.store.db.transaction():
                if card_message is not None and row.recipient_id is not None:
                    await services.store.desk.record_card(
                        row.tip_id, row.recipient_id, card_message
                    )
                await outbox.mark_sent(row.outbox_id)
                if row.kind == "card":
                    await services.store.tips.mark_delivered(row.tip_id)
            who = "the resident" if row.recipient is Recipient.RESIDENT else row.recipient_id
            log.info("outbox %s sent (%s to %s)", row.outbox_id, row.kind, who)
    return None


async def _send_row(application: App, services: Services, row: OutboxRow) -> int | None:
    """Send one row; for a card, the id of its first message (recorded with the row's end)."""
    bot = application.bot
    tip = await services.store.tips.by_id(row.tip_id)
    if tip is None:
        return None
    if row.recipient is Recipient.RESIDENT:
        await _send_to_resident(bot, services, tip, row)
        return None
    staff_id = row.recipient_id
    assert staff_id is not None  # the schema's CHECK: a staff row names its staff member
    language = pick_language(await services.store.preferences.language(staff_id),
                             services.config.language)

    async def progress() -> None:
        await services.store.outbox.extend_claim(row.outbox_id, LEASE_SECONDS)

    if not await may_see(services, await staff_role(services, staff_id), tip):
        raise NotEntitled
    if row.kind == "card":
        return await send_card(bot, staff_id, tip, language, services.areas, progress,
                               zone=services.config.timezone)
    if row.kind == "addition" and row.tip_message_id is not None:
        message = await services.store.tips.thread_message(row.tip_message_id)
        if message is not None:
            await send_addition(bot, staff_id, tip, message, language, progress)
    elif row.kind == "notice":
        await bot.send_message(staff_id, _notice_text(services, tip.ref, row, language))
    elif row.kind == "reminder":
        key = "notice_escalated" if row.notice == "escalated" else "notice_reminder"
        minutes = _minutes(services.config.ack_minutes * (0.25 if tip.urgent else 1.0))
        await bot.send_message(
            staff_id,
            text(language, key, ref=tip.ref, minutes=minutes),
            reply_markup=card_keyboard(tip, language),
        )
    return None


async def _send_to_resident(bot: Bot, services: Services, tip: Tip, row: OutboxRow) -> None:
    """An officer's reply or a status change, to the resident who asked to be notified.

    Nothing names an officer. The chat is read from the tip (encrypted there); a resident who
    used /forget since has no chat any more, and the row ends quietly. The messages are silent
    (no sound or vibration): an officer who can watch a suspect must not be able to make the
    reporter's phone ring on demand.
    """
    if tip.notify_chat is None:
        return
    language = pick_language(tip.content.get("language"), services.config.language)
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain(language, "btn_resident_answer"),
                               callback_data=f"rr:{tip.tip_id}")]]
    )
    if row.kind == "resident_status":
        status = plain(language, f"status_{row.notice}")
        await bot.send_message(
            tip.notify_chat, text(language, "resident_status_changed", status=status),
            reply_markup=markup, disable_notification=True,
        )
        return
    message = await services.store.tips.thread_message(row.tip_message_id or 0)
    if message is None:
        return
    # Stored replies are checked on the way in (handlers/officer/desk.py); one stored before
    # that check, or by any other path, loses the words a client would make tappable here.
    body = links.without_links(message.body.get("text") or "", plain(language, "link_removed"))
    photos = message.body.get("attachments", [])
    if photos:
        await bot.send_photo(
            tip.notify_chat, photos[0]["file_id"],
            caption=text(language, "resident_reply_photo"), disable_notification=True,
        )
    if body or not photos:
        await bot.send_message(
            tip.notify_chat, text(language, "resident_reply", body=body or "—"),
            reply_markup=markup, disable_notification=True,
            link_preview_options=NO_PREVIEW,
        )


def _notice_text(services: Services, ref: str, row: OutboxRow, language: str) -> Html:
    if row.notice == "undeliverable":
        return text(language, "notice_undeliverable", ref=ref)
    recipients = plain(language, "tier_all_areas" if row.tier == ALL_AREAS_TIER else "tier_admins")
    return text(language, "notice_tier_moved", ref=ref, recipients=recipients)


async def _unreachable(
    application: App, services: Services, row: OutboxRow, error: str
) -> None:
    """403 or chat not found: mark the staff member, end the row, maybe go to the next tier."""
    if row.recipient is Recipient.RESIDENT:
        # The resident blocked the bot: nothing to mark, no one else to tell.
        log.info("outbox %s: the resident cannot be reached", row.outbox_id)
        await services.store.outbox.give_up(row.outbox_id, "unreachable", "forbidden")
        return
    assert row.recipient_id is not None
    log.warning("staff %s unreachable (outbox %s)", row.recipient_id, row.outbox_id)
    await services.store.staff.mark_unreachable(row.recipient_id)
    await services.store.outbox.give_up(row.outbox_id, "unreachable", error)
    await _after_row_ended(services, row)
    wake_delivery(application)


async def _after_row_ended(services: Services, row: OutboxRow) -> None:
    """When no card of the tip's current tier was delivered and none is left to try, move on."""
    if row.kind != "card":
        return
    store = services.store
    delivered = await store.tips.by_id(row.tip_id)
    if delivered is None or delivered.status != "new" or await store.outbox.holders(row.tip_id):
        return
    if row.tier != await store.outbox.max_tier(row.tip_id):
        return
    outcome = await store.outbox.tier_outcome(row.tip_id, row.tier)
    if outcome.sent or outcome.pending:
        return
    tip = await store.tips.by_id(row.tip_id)
    if tip is None:
        return
    tried = frozenset(await store.outbox.card_recipients(row.tip_id))
    delivery = await plan_delivery(
        store, tip.area, services.config.admin_ids, after_tier=row.tier, exclude=tried
    )
    admins = await store.staff.admins(services.config.admin_ids)
    if delivery is None:
        log.warning("tip %s reached nobody; waiting for staff to come back", tip.ref)
        # Admins are the last tier, so every admin was tried; those Telegram refused the card to
        # (a Bad Request) can still be written to and must hear of it. `admins()` leaves out the
        # ones known unreachable, for whom a notice would only fail again.
        notice = Delivery(ADMIN_TIER, tuple(admins))
        if notice.recipients:
            await store.outbox.enqueue(row.tip_id, notice, "notice", notice="undeliverable")
        return
    log.info("tip %s moves to tier %s", tip.ref, delivery.tier)
    await store.outbox.enqueue(row.tip_id, delivery, "card")
    if admins:
        notice = Delivery(delivery.tier, tuple(admins))
        await store.outbox.enqueue(row.tip_id, notice, "notice", notice="moved")


def _minutes(value: float) -> str:
    return f"{value:g}"
