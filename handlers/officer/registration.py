"""Someone opens an admin's one-time invite link (`/start inv-<token>`).

A newcomer is registered as an officer of the invite's areas (never an admin). The link works
once, within 72 hours, while it is not revoked and its creator is still an admin; an unknown,
used, expired, revoked or dead link gets one answer, so a guesser learns nothing about which
tokens exist. An invite never changes an existing staff member: a deactivated one stays
deactivated and is told to ask an admin, an officer or admin is told they are registered
already, and the link stays unused for the newcomer it was made for (an admin who fears it
leaked revokes it in /invite). When a link is used, its creator and the permanent admins are
told who used it and for which areas.
"""

from __future__ import annotations

import logging

from telegram import Update, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.services import Services
from handlers.shared.context import language_of, services_of
from rules.access import staff_role
from storage.staff import ALREADY_STAFF, INACTIVE_STAFF, Invite
from telegram_api.request import no_retry
from texts.catalog import pick_language, text
from views.areas import scope_text
from workers.delivery import on_staff_reachable
from workers.menus import publish_menu_for

log = logging.getLogger(__name__)


async def redeem(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    user = update.effective_user
    assert user is not None  # /start in a private chat (handlers/deep_links.py)
    services = services_of(context)
    language = await language_of(context, user)
    redemption = await services.store.staff.redeem_invite(
        token, user.id, user.first_name or "", permanent_admins=services.config.admin_ids
    )
    if redemption.outcome in (INACTIVE_STAFF, ALREADY_STAFF):
        # Staff (their id may be logged): nothing changed, the invite stays as it was.
        inactive = redemption.outcome == INACTIVE_STAFF
        await services.store.audit.record(
            user.id, "invite_refused", None,
            reason="deactivated" if inactive else "already registered",
        )
        log.info("staff %s opened an invite link (%s): nothing changed", user.id,
                 "deactivated" if inactive else "already registered")
        key = "invite_staff_inactive" if inactive else "invite_already_staff"
        await update.effective_message.reply_text(text(language, key))
        return
    invite = redemption.invite
    if invite is None:
        await update.effective_message.reply_text(text(language, "invite_invalid"))
        return
    await services.store.audit.record(
        user.id, "register", None, invited_by=invite.created_by, invite=f"{invite.key:016x}",
        areas="all" if invite.all_areas else ",".join(invite.areas),
    )
    log.info("officer %s registered by invite of %s", user.id, invite.created_by)
    areas = scope_text(services, invite.areas, invite.all_areas, language)
    await update.effective_message.reply_text(text(language, "invite_welcome", areas=areas))
    await _tell_of_use(context, services, user, invite)
    await publish_menu_for(context.bot, services, user.id)
    await on_staff_reachable(context.application)


async def _tell_of_use(
    context: ContextTypes.DEFAULT_TYPE, services: Services, user: User, invite: Invite
) -> None:
    """Tell the invite's creator and the permanent admins who used it, for which areas.

    Sent at once, best effort: one attempt each, no waiting on a busy Telegram (the durable
    outbox carries only messages about a tip). The registration itself is in the audit log.
    """
    # Only those who are admins now: a permanent admin deactivated in /officers (a stolen
    # phone) must not learn every new officer's name and Telegram id.
    candidates = sorted(({invite.created_by} | set(services.config.admin_ids)) - {user.id})
    recipients = [i for i in candidates if (await staff_role(services, i)).is_admin]
    told = 0
    for staff_id in recipients:
        language = pick_language(await services.store.preferences.language(staff_id),
                                 services.config.language)
        body = text(
            language, "invite_used_notice", name=user.first_name or "—", id=user.id,
            areas=scope_text(services, invite.areas, invite.all_areas, language),
        )
        try:
            with no_retry():
                await context.bot.send_message(staff_id, body)
            told += 1
        except Forbidden:
            log.warning("staff %s unreachable for an invite notice", staff_id)
            await services.store.staff.mark_unreachable(staff_id)
        except TelegramError as error:
            log.info("invite notice to staff %s not sent: %s", staff_id, type(error).__name__)
    log.info("use of an invite of %s told to %d of %d staff", invite.created_by, told,
             len(recipients))
