"""Admin commands for staffing the line: `/invite` (a one-time officer link, and the list of
open invites with a revoke button each) and `/areas`.

The areas chosen for an invite travel in the button data as a bit mask over the areas file's
order (`inv:<hex mask>:<op>`), so the choice needs no server-side state and survives restarts.
An open invite is named by its key (`inv:rv:<16 hex digits>`, the first 8 bytes of the token's
hash: nothing about the token itself). The admin role is checked again on every press.
"""

from __future__ import annotations

import logging
import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.services import Services
from handlers.shared.buttons import number, parse
from handlers.shared.context import (
    admin_in_private,
    services_of,
)
from rules import times
from storage.staff import OpenInvite
from telegram_api.answers import unless_unchanged
from texts.catalog import Html, plain, text
from views.areas import scope_text

log = logging.getLogger(__name__)

INVITE_HOURS = 72
OPEN_SHOWN = 20  # open invites listed at once (a message and its buttons stay small)


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    _user, language = admin
    listing = await _open_list(services_of(context), language)
    if listing is not None:
        body, markup = listing
        await update.effective_message.reply_text(body, reply_markup=markup)
    await update.effective_message.reply_text(
        text(language, "invite_choose"), reply_markup=_keyboard(context, language, 0)
    )


def _keyboard(
    context: ContextTypes.DEFAULT_TYPE, language: str, mask: int
) -> InlineKeyboardMarkup:
    areas = list(services_of(context).areas)
    buttons = [
        InlineKeyboardButton(
            ("✅ " if mask >> i & 1 else "") + area.name(language),
            callback_data=f"inv:{mask:x}:t{i}",
        )
        for i, area in enumerate(areas)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    for key, op in (("invite_all_areas", "all"), ("invite_make", "make")):
        if op == "all" or mask:
            label = plain(language, key)
            rows.append([InlineKeyboardButton(label, callback_data=f"inv:{mask:x}:{op}")])
    rows.append([InlineKeyboardButton(plain(language, "btn_cancel"), callback_data="inv:0:x")])
    return InlineKeyboardMarkup(rows)


def local_time(services: Services, stamp: str) -> str:
    """A stored UTC time as people read it: TIPBOT_TIMEZONE, dd/mm/yyyy HH:MM."""
    return times.local_time(stamp, services.config.timezone)


async def _open_list(
    services: Services, language: str, *, empty_too: bool = False
) -> tuple[Html, InlineKeyboardMarkup | None] | None:
    """The open invites with a revoke button each; None when there are none (unless
    `empty_too`, for the list message being edited after its last revoke)."""
    invites, total = await services.store.staff.open_invites(
        services.config.admin_ids, limit=OPEN_SHOWN
    )
    if not invites:
        return (text(language, "invite_open_none"), None) if empty_too else None
    lines = [_open_line(services, number, invite, language)
             for number, invite in enumerate(invites, 1)]
    if total > len(invites):
        lines.append(text(language, "invite_open_more", count=total - len(invites)))
    body = text(language, "invite_open_list", count=total, lines=Html("\n".join(lines)))
    rows = [
        [InlineKeyboardButton(plain(language, "btn_invite_revoke", number=number),
                              callback_data=f"inv:rv:{invite.key:016x}")]
        for number, invite in enumerate(invites, 1)
    ]
    return body, InlineKeyboardMarkup(rows)


def _open_line(services: Services, number: int, invite: OpenInvite, language: str) -> Html:
    return text(
        language, "invite_open_line", number=number,
        areas=scope_text(services, invite.areas, invite.all_areas, language),
        creator=invite.creator_name, id=invite.created_by,
        expires=local_time(services, invite.expires_at),
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    user, language = admin
    services = services_of(context)
    areas = list(services.areas)
    data = parse(query.data)
    if data.text(0) == "rv":
        await _revoke(update, context, data.hex_mask(1) if len(data) == 2 else None, language)
        return
    mask, op = data.hex_mask(0), data.text(1) or ""
    if mask is None or len(data) != 2 or mask >> len(areas):
        await query.answer(plain(language, "button_expired"))
        return
    if op == "x":
        await query.answer()
        with unless_unchanged():  # a double tap: already cancelled
            await query.edit_message_text(text(language, "invite_cancelled"))
        return
    toggle = number(op[1:]) if op.startswith("t") else None
    if toggle is not None and toggle < len(areas):
        await query.answer()
        await query.edit_message_reply_markup(_keyboard(context, language, mask ^ 1 << toggle))
        return
    if op not in ("all", "make") or (op == "make" and not mask):
        await query.answer(plain(language, "button_expired"))
        return
    chosen = () if op == "all" else tuple(a.code for i, a in enumerate(areas) if mask >> i & 1)
    token = secrets.token_urlsafe(24)
    key = await services.store.staff.create_invite(
        token, areas=chosen, all_areas=op == "all", created_by=user.id
    )
    await services.store.audit.record(
        user.id, "invite", None, areas="all" if op == "all" else ",".join(chosen),
        invite=f"{key:016x}",
    )
    log.info("admin %s created an officer invite", user.id)
    link = f"https://t.me/{services.bot_username}?start=inv-{token}"
    scope = scope_text(services, chosen, op == "all", language)
    await query.answer()
    await query.edit_message_text(
        text(language, "invite_link", link=link, areas=scope, hours=INVITE_HOURS)
    )


async def _revoke(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: int | None, language: str
) -> None:
    """`inv:rv:<key>`: end an open invite (any admin may, whoever made it); audit-logged."""
    query = update.callback_query
    services = services_of(context)
    admin_id = update.effective_user.id
    revoked = None
    if key is not None:
        revoked = await services.store.staff.revoke_invite(
            key, by=admin_id, permanent_admins=services.config.admin_ids
        )
    if revoked is None:
        await query.answer(plain(language, "invite_not_open"))
    else:
        await services.store.audit.record(
            admin_id, "invite_revoke", None, invite=f"{revoked.key:016x}",
            creator=revoked.created_by,
            areas="all" if revoked.all_areas else ",".join(revoked.areas),
        )
        log.info("admin %s revoked an invite of staff %s", admin_id, revoked.created_by)
        await query.answer(plain(language, "invite_revoked"))
    listing = await _open_list(services, language, empty_too=True)
    assert listing is not None
    body, markup = listing
    with unless_unchanged():  # nothing changed (a double tap)
        await query.edit_message_text(body, reply_markup=markup)
