"""`/officers` for admins: list the staff, change an officer's areas, deactivate, reactivate,
promote to admin, demote. Permanent admins (TIPBOT_ADMIN_IDS) cannot be demoted here, and only
another permanent admin may deactivate or reactivate one: a promoted admin (or their stolen
phone) could otherwise shut every permanent admin out. `python -m bot officers deactivate|
reactivate ID` is the recovery from the command line (docs/OPERATIONS.md).

Button data: `a:<op>:<user id>[:<mask>:<sub-op>]`; the admin role is checked again on every
press and every change is written to the audit log with the change itself.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.services import Services
from handlers.shared.buttons import hex_mask, parse
from handlers.shared.buttons import number as button_number
from handlers.shared.context import admin_in_private, services_of
from storage.staff import AccessEnded, StaffMember
from texts.catalog import Html, plain, text
from workers import scheduler
from workers.broadcaster import wake_broadcaster
from workers.menus import publish_menu_for

log = logging.getLogger(__name__)


async def officers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    _user, language = admin
    body, markup = await _list(context, language)
    await update.effective_message.reply_text(body, reply_markup=markup)


async def _list(
    context: ContextTypes.DEFAULT_TYPE, language: str
) -> tuple[Html, InlineKeyboardMarkup]:
    services = services_of(context)
    members = await services.store.staff.all()
    lines = [_line(context, m, language) for m in members]
    rows = [
        [InlineKeyboardButton(f"{m.display_name} ({m.user_id})", callback_data=f"a:v:{m.user_id}")]
        for m in members
    ]
    body = text(
        language, "officers_list", count=len(members),
        lines=Html("\n".join(lines)) if lines else plain(language, "officers_none"),
    )
    return body, InlineKeyboardMarkup(rows)


def _line(context: ContextTypes.DEFAULT_TYPE, member: StaffMember, language: str) -> Html:
    services = services_of(context)
    permanent = member.user_id in services.config.admin_ids
    roles = []
    if member.is_officer:
        roles.append(plain(language, "role_officer"))
    if member.is_admin or permanent:
        roles.append(plain(language, "role_admin_permanent" if permanent else "role_admin"))
    if member.all_areas:
        scope = plain(language, "all_areas")
    else:
        scope = ", ".join(services.areas.name(a, language) or a for a in member.areas) or "—"
    state = plain(language, f"reach_{member.reach}") if member.active else plain(
        language, "staff_deactivated"
    )
    return text(
        language, "officers_line", name=member.display_name, id=member.user_id,
        roles=", ".join(roles) or "—", scope=scope if member.is_officer else "—", state=state,
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    user, language = admin
    data = parse(query.data)
    services = services_of(context)
    if data.text(0) == "ls":
        body, markup = await _list(context, language)
        await query.answer()
        await query.edit_message_text(body, reply_markup=markup)
        return
    target = data.number(1)
    member = await services.store.staff.get(target) if target is not None else None
    if member is None:
        await query.answer(plain(language, "button_expired"))
        return
    op, target_id = data.text(0), member.user_id
    permanent = target_id in services.config.admin_ids
    store = services.store
    if op in _STATE_OPS and permanent and not _may_change_permanent(services, user.id):
        # Forged or old button data of a promoted admin: nothing changes (no button is offered).
        await store.audit.record(user.id, "staff_refused", None, target=target_id, change=op)
        log.warning("admin %s refused: %s of permanent admin %s", user.id, op, target_id)
        await query.answer(plain(language, "officers_permanent_only"))
        return
    change: str | None = None
    ended = AccessEnded(True)
    # Deactivating ends the member's hand-overs and open invites, demoting their open invites;
    # both pause the schedules they made. Storage does it in the same transaction as the change
    # (see storage.staff).
    if op == "de" and target_id == user.id:  # no rights would be left to undo it with
        await query.answer(plain(language, "not_allowed"))
        return
    if op == "de" and member.active:
        ended = await store.staff.set_active(target_id, False)
        change = "deactivate"
    elif op == "re" and not member.active:
        await store.staff.set_active(target_id, True)
        change = "reactivate"
    elif op == "pr" and not member.is_admin and not permanent:
        await store.staff.set_admin(target_id, True)
        change = "promote"
    elif op == "dm" and member.is_admin and not permanent:
        ended = await store.staff.set_admin(target_id, False)
        change = "demote"
    elif op == "ar" and member.is_officer:
        await _areas(update, context, member, list(data.fields[2:]), language)
        return
    elif op != "v":
        await query.answer(plain(language, "button_expired"))
        return
    if change:
        ends = {"invites_ended": ended.invites, "handovers_ended": ended.handovers,
                "schedules_paused": ended.schedules,
                "broadcasts_stopped": list(ended.broadcasts)}
        await store.audit.record(user.id, "staff", None, target=target_id, change=change,
                                 **{k: v for k, v in ends.items() if v})
        log.info("admin %s: %s staff %s (%d invites and %d hand-overs ended, %d schedules"
                 " paused, %d broadcasts stopped)", user.id, change, target_id, ended.invites,
                 ended.handovers, ended.schedules, len(ended.broadcasts))
        if ended.schedules:
            await scheduler.sync_jobs(context.application)  # their timers go at once
        if ended.broadcasts:
            wake_broadcaster(context.application)  # their final reports, at once
        await publish_menu_for(context.bot, services, target_id)
        member = await store.staff.get(target_id) or member
    await query.answer(plain(language, f"officers_done_{change}") if change else None)
    await query.edit_message_text(
        _line(context, member, language),
        reply_markup=_detail_keyboard(member, permanent, language, viewer=user.id,
                                      viewer_permanent=_may_change_permanent(services, user.id)),
    )


# The presses that change an account's state or admin right (not its areas).
_STATE_OPS = frozenset({"de", "re", "pr", "dm"})


def _may_change_permanent(services: Services, presser: int) -> bool:
    """Only a permanent admin deactivates or reactivates another (the presser already passed
    the live admin check: a deactivated permanent admin never gets here)."""
    return presser in services.config.admin_ids


def _detail_keyboard(
    member: StaffMember, permanent: bool, language: str, *, viewer: int, viewer_permanent: bool
) -> InlineKeyboardMarkup:
    uid = member.user_id

    def button(key: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(plain(language, key), callback_data=data)

    rows = []
    if member.is_officer:
        rows.append([button("officers_change_areas", f"a:ar:{uid}:0:s")])
    # A promoted admin is offered no state change of a permanent admin (refused if forged),
    # nor anyone a button to deactivate themselves (refused: nobody could undo it then).
    if not permanent or viewer_permanent:
        if not member.active:
            rows.append([button("officers_reactivate", f"a:re:{uid}")])
        elif uid != viewer:
            rows.append([button("officers_deactivate", f"a:de:{uid}")])
    if not permanent:
        rows.append([button("officers_demote", f"a:dm:{uid}") if member.is_admin
                     else button("officers_promote", f"a:pr:{uid}")])
    rows.append([button("btn_back", "a:ls")])
    return InlineKeyboardMarkup(rows)


async def _areas(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    member: StaffMember,
    rest: list[str],
    language: str,
) -> None:
    """Toggle an officer's areas with a bit mask in the button data, then save."""
    query = update.callback_query
    services = services_of(context)
    areas = list(services.areas)
    mask = hex_mask(rest[0]) if rest else None
    sub = rest[1] if len(rest) == 2 else ""
    if mask is None or mask >> len(areas):
        await query.answer(plain(language, "button_expired"))
        return
    if sub == "s" and mask == 0:  # start from the officer's current areas
        mask = sum(1 << i for i, a in enumerate(areas) if a.code in member.areas)
    elif sub.startswith("t") and (toggle := button_number(sub[1:])) is not None and (
        toggle < len(areas)
    ):
        mask ^= 1 << toggle
    elif sub in ("save", "all"):
        chosen = () if sub == "all" else tuple(a.code for i, a in enumerate(areas) if mask >> i & 1)
        if sub == "save" and not chosen:
            await query.answer(plain(language, "button_expired"))
            return
        # The officer's hand-overs of tips outside the new areas end with the change, in
        # storage (the same for `officers add`).
        ended = await services.store.staff.set_areas(member.user_id, chosen, sub == "all")
        extra = {"handovers_ended": ended} if ended else {}
        await services.store.audit.record(
            update.effective_user.id, "staff", None, target=member.user_id,
            change="areas", areas="all" if sub == "all" else ",".join(chosen), **extra,
        )
        admin_id = update.effective_user.id  # staff, not a resident
        log.info("admin %s changed the areas of staff %s (%d hand-overs ended)", admin_id,
                 member.user_id, ended)
        member = await services.store.staff.get(member.user_id) or member
        await query.answer(plain(language, "officers_done_areas"))
        permanent = member.user_id in services.config.admin_ids
        viewer = update.effective_user.id
        await query.edit_message_text(
            _line(context, member, language),
            reply_markup=_detail_keyboard(member, permanent, language, viewer=viewer,
                                          viewer_permanent=_may_change_permanent(services,
                                                                                 viewer)),
        )
        return
    elif sub != "s":
        await query.answer(plain(language, "button_expired"))
        return
    uid = member.user_id
    buttons = [
        InlineKeyboardButton(("✅ " if mask >> i & 1 else "") + a.name(language),
                             callback_data=f"a:ar:{uid}:{mask:x}:t{i}")
        for i, a in enumerate(areas)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(plain(language, "invite_all_areas"),
                                      callback_data=f"a:ar:{uid}:{mask:x}:all")])
    if mask:
        rows.append([InlineKeyboardButton(plain(language, "officers_save"),
                                          callback_data=f"a:ar:{uid}:{mask:x}:save")])
    rows.append([InlineKeyboardButton(plain(language, "btn_back"), callback_data=f"a:v:{uid}")])
    await query.answer()
    await query.edit_message_text(
        text(language, "officers_choose_areas", name=member.display_name),
        reply_markup=InlineKeyboardMarkup(rows),
    )
