"""The officer's desk: the card's buttons (acknowledge, reply, set status, reassign), the
messages that complete an action (a reply's text, a transfer's agency), `/tips` and `/tip`.

Every press and command re-checks, when it runs, that the user is an active officer covering
the tip's area, assigned to it, or an admin. A forged, replayed or stale button gets the same
short "not allowed" whether or not the tip exists, so it reveals nothing.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.services import Services
from handlers.shared import flows
from handlers.shared.attachments import attachment_of
from handlers.shared.buttons import number, parse
from handlers.shared.context import language_of, private_user, role_of, services_of
from handlers.shared.flows import AgencyTransfer, OfficerReply
from rules import links
from rules.access import Role, may_see, staff_role
from rules.routing import plan_delivery
from rules.times import local_time
from storage.tips import CLOSED_STATUSES, Delivery, Scope, Tip
from telegram_api.answers import is_not_modified, unless_unchanged
from texts.catalog import STATUSES, Html, pick_language, plain, text
from views.card import card_keyboard, card_texts, chunks, send_attachments
from workers.delivery import wake_delivery

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "verifying", "resolved", "unfounded", "transferred"),
    "acknowledged": ("verifying", "resolved", "unfounded", "transferred"),
    "verifying": ("resolved", "unfounded", "transferred"),
}
REOPEN_TO = "acknowledged"
PAGE_SIZE = 10
THREAD_SHOWN = 20
AGENCY_MAX = 120
REPLY_MAX = 3500


async def tip_if_allowed(
    context: ContextTypes.DEFAULT_TYPE, role: Role, tip_id: int
) -> Tip | None:
    """The tip when `role` may act on it now; None otherwise (missing looks the same)."""
    if not role.is_staff:
        return None
    services = services_of(context)
    tip = await services.store.tips.by_id(tip_id)
    if tip is None:
        return None
    return tip if await may_see(services, role, tip) else None


def allowed_targets(status: str, role: Role) -> tuple[str, ...]:
    if status in CLOSED_STATUSES:
        return (REOPEN_TO,) if role.is_admin else ()
    return TRANSITIONS.get(status, ())


# --- buttons -------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`o:<action>:<tip id>[:<value>]`."""
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    language = await language_of(context, user)
    data = parse(query.data)
    tip_id = data.number(1)
    if len(data) not in (2, 3) or tip_id is None:
        await query.answer(plain(language, "not_allowed"))
        return
    action, value = data.fields[0], data.text(2) or ""
    role = await role_of(context, user.id)
    tip = await tip_if_allowed(context, role, tip_id)
    handler = _ACTIONS.get(action)
    if tip is None or handler is None:
        await query.answer(plain(language, "not_allowed"))
        return
    if action in _MOVES and not role.covers(tip.area):
        # Held by a hand-over only: moving the tip into their own area would take it for good
        # and shut out its area's officers; handing it on is its area's call.
        log.info("tip %s: staff %s refused a move (holds it by a hand-over only)", tip.ref,
                 role.user_id)
        await query.answer(plain(language, "not_allowed"))
        return
    await handler(update, context, role, tip, value, language)


async def _acknowledge(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    if tip.status != "new":
        await update.callback_query.answer(plain(language, "desk_already_acknowledged"))
        return
    await change_status(context, role, tip, "acknowledged")
    await update.callback_query.answer(plain(language, "desk_acknowledged"))


async def _status_menu(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    targets = allowed_targets(tip.status, role)
    if not targets:
        await update.callback_query.answer(plain(language, "desk_closed"))
        return
    rows = [
        [InlineKeyboardButton(
            plain(language, f"status_{s}"), callback_data=f"o:set:{tip.tip_id}:{s}"
        )]
        for s in targets
    ]
    await update.callback_query.answer()
    await update.effective_chat.send_message(
        text(language, "desk_choose_status", ref=tip.ref), reply_markup=InlineKeyboardMarkup(rows)
    )


async def _set_status(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    query = update.callback_query
    if value not in allowed_targets(tip.status, role):
        await query.answer(plain(language, "button_expired"))
        return
    if value == "transferred":
        await flows.begin(context, role.user_id, AgencyTransfer(tip.tip_id))
        await query.answer()
        await _replace_prompt(update, text(language, "desk_ask_agency", ref=tip.ref))
        return
    await change_status(context, role, tip, value)
    label = plain(language, f"status_{value}")
    await query.answer(plain(language, "desk_status_set", status=label))
    # The prompt becomes the one line that confirms the change.
    await _replace_prompt(update, text(language, "desk_status_set_full", ref=tip.ref, status=label))


async def _reply(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    await flows.begin(context, role.user_id, OfficerReply(tip.tip_id))
    await update.callback_query.answer()
    notify = "desk_reply_pushed" if tip.notify_chat is not None else "desk_reply_waits"
    await update.effective_chat.send_message(
        text(language, "desk_ask_reply", ref=tip.ref, how=text(language, notify))
    )


async def _reassign_menu(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    """Other areas, and other officers to hand the tip to. Never the presser: nobody hands a
    tip to themselves."""
    services = services_of(context)
    areas = list(services.areas)
    buttons = [
        InlineKeyboardButton(a.name(language), callback_data=f"o:ma:{tip.tip_id}:{i}")
        for i, a in enumerate(areas)
        if a.code != tip.area
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    for member in await services.store.staff.all():
        if member.is_officer and member.active and member.user_id != role.user_id:
            rows.append([InlineKeyboardButton(
                "👮 " + member.display_name,
                callback_data=f"o:mo:{tip.tip_id}:{member.user_id}",
            )])
    await update.callback_query.answer()
    await update.effective_chat.send_message(
        text(language, "desk_choose_reassign", ref=tip.ref),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def _move_to_area(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    """Move the tip to another area: its earlier hand-overs end in the same transaction."""

    services = services_of(context)
    areas = list(services.areas)
    index = number(value)
    if index is None or index >= len(areas) or areas[index].code == tip.area:
        await update.callback_query.answer(plain(language, "button_expired"))
        return
    area = areas[index]
    store = services.store
    async with store.db.transaction():
        ended = await store.desk.move_to_area(tip.tip_id, area.code)
        await store.audit.record(
            role.user_id, "reassign", tip.tip_id, area=area.code, handovers_ended=ended
        )
    delivery = await plan_delivery(store, area.code, services.config.admin_ids)
    if delivery is not None:
        holders = set(await store.outbox.holders(tip.tip_id))
        fresh = tuple(r for r in delivery.recipients if r not in holders)
        if fresh:
            await store.outbox.enqueue(tip.tip_id, type(delivery)(delivery.tier, fresh), "card")
    destination = area.code  # an area's code (a place name), nothing about the resident
    log.info("tip %s moved to area %s by staff %s (%d hand-overs ended)", tip.ref, destination,
             role.user_id, ended)
    await update.callback_query.answer(plain(language, "desk_moved"))
    await refresh_cards(context, tip.tip_id, moved_to=area.code)
    _wake(context)


async def _move_to_officer(
    update: Update, context: Context, role: Role, tip: Tip, value: str, language: str
) -> None:
    """Hand the tip to another officer personally, never to oneself."""

    services = services_of(context)
    store = services.store
    target = number(value)
    if target is not None and target == role.user_id:
        log.info("tip %s: staff %s refused a hand-over to themselves", tip.ref, role.user_id)
        await update.callback_query.answer(plain(language, "desk_no_self_handover"))
        return
    member = await store.staff.get(target) if target is not None else None
    if member is None or not member.active or not member.is_officer:
        await update.callback_query.answer(plain(language, "button_expired"))
        return
    async with store.db.transaction():
        await store.desk.assign(tip.tip_id, member.user_id, given_by=role.user_id)
        await store.audit.record(role.user_id, "reassign", tip.tip_id, officer=member.user_id)
    if member.user_id not in set(await store.outbox.holders(tip.tip_id)):
        await store.outbox.enqueue(tip.tip_id, Delivery(1, (member.user_id,)), "card")
    log.info("tip %s given to staff %s by staff %s", tip.ref, member.user_id, role.user_id)
    await update.callback_query.answer(plain(language, "desk_moved"))
    await refresh_cards(context, tip.tip_id, moved_to_officer=member.display_name)
    _wake(context)


#: The actions only an admin or an officer of the tip's area may take (on_button checks).
_MOVES = frozenset({"mv", "ma", "mo"})

_ACTIONS = {
    "ack": _acknowledge,
    "st": _status_menu,
    "set": _set_status,
    "rep": _reply,
    "mv": _reassign_menu,
    "ma": _move_to_area,
    "mo": _move_to_officer,
}


# --- what an action changes ------------------------------------------------------------------


async def change_status(
    context: ContextTypes.DEFAULT_TYPE,
    role: Role,
    tip: Tip,
    status: str,
    *,
    agency: str | None = None,
) -> None:
    """Record the change and its audit entry together; tell holders' cards and the resident."""
    store = services_of(context).store
    async with store.db.transaction():
        await store.desk.set_status(tip.tip_id, status, transferred_to=agency)
        await store.audit.record(role.user_id, "status", tip.tip_id, status=status)
        if tip.notify_chat is not None:
            await store.outbox.enqueue_for_resident(tip.tip_id, "resident_status", notice=status)
    log.info("tip %s: %s -> %s by staff %s", tip.ref, tip.status, status, role.user_id)
    await refresh_cards(context, tip.tip_id)
    _wake(context)


async def refresh_cards(
    context: ContextTypes.DEFAULT_TYPE,
    tip_id: int,
    *,
    moved_to: str | None = None,
    moved_to_officer: str | None = None,
) -> None:
    """Edit the card of every holder still entitled to the tip in place, to show the status and
    who acted (best effort).

    A holder no longer entitled (deactivated, areas changed, tip moved away) keeps the card as
    it was: no status, no colleague's name, nothing new. Only the one who just moved the tip
    out of their own areas sees that move confirmed on their card (without the status).
    """
    services = services_of(context)
    store = services.store
    tip = await store.tips.by_id(tip_id)
    if tip is None:
        return
    entries = [e for e in await store.audit.for_tip(tip_id) if e.action in ("status", "reassign")]
    actor = None
    if entries:
        member = await store.staff.get(entries[-1].actor_id)
        actor = member.display_name if member else f"#{entries[-1].actor_id}"
    agency = await store.desk.transferred_to(tip_id)
    for staff_id, message_id in await store.desk.cards(tip_id):
        language = pick_language(await store.preferences.language(staff_id),
                                 services.config.language)
        role = await staff_role(services, staff_id)
        if await may_see(services, role, tip):
            state = _state_line(tip, language, actor, agency, moved_to, moved_to_officer,
                                services)
        elif moved_to and entries and entries[-1].actor_id == staff_id:
            # The one who just moved the tip out of their own areas: confirm the move only.
            state = text(language, "card_moved_area",
                         area=services.areas.name(moved_to, language) or moved_to)
        else:
            log.info("card of tip %s for staff %s not edited: not entitled", tip.ref, staff_id)
            continue
        body = card_texts(tip, language, services.areas, zone=services.config.timezone,
                          state=state)[0]
        closed = tip.status in CLOSED_STATUSES
        markup = None if closed and not moved_to else card_keyboard(tip, language)
        try:
            await context.bot.edit_message_text(
                body, chat_id=staff_id, message_id=message_id, reply_markup=markup
            )
        except BadRequest as error:
            if not is_not_modified(error):
                log.info("card of tip %s for staff %s not edited: %s", tip.ref, staff_id, error)
        except TelegramError as error:
            log.info("card of tip %s for staff %s not edited: %s", tip.ref, staff_id,
                     type(error).__name__)


def _state_line(
    tip: Tip,
    language: str,
    actor: str | None,
    agency: str | None,
    moved_to: str | None,
    moved_to_officer: str | None,
    services: Services,
) -> Html:
    status = plain(language, f"status_{tip.status}")
    if tip.status == "transferred" and agency:
        status = f"{status}: {agency}"
    line = text(language, "card_state_by", status=status, by=actor) if actor else text(
        language, "card_state", status=status
    )
    if moved_to:
        line = Html(line + "\n" + text(
            language, "card_moved_area", area=services.areas.name(moved_to, language) or moved_to
        ))
    if moved_to_officer:
        line = Html(line + "\n" + text(language, "card_moved_officer", name=moved_to_officer))
    return line


# --- messages that complete an action --------------------------------------------------------


async def _pending_tip(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: OfficerReply | AgencyTransfer
) -> tuple[Role, Tip, str] | None:
    """The role, tip and language of a message that completes `action`; None (the action
    ended, after "not allowed") when the sender may no longer act on that tip."""
    user = update.effective_user
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    tip = await tip_if_allowed(context, role, action.tip_id)
    if tip is None:
        await flows.end(context, user.id)
        await update.effective_message.reply_text(text(language, "not_allowed"))
        return None
    return role, tip, language


async def on_agency_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: AgencyTransfer
) -> None:
    """The agency a tip is transferred to, typed after "transferred" was chosen."""
    message = update.effective_message
    pending = await _pending_tip(update, context, action)
    if pending is None:
        return
    role, tip, language = pending
    agency = (message.text or "").strip()
    if not agency or len(agency) > AGENCY_MAX:
        await message.reply_text(text(language, "desk_ask_agency", ref=tip.ref))
        return
    await flows.end(context, role.user_id)
    if "transferred" not in allowed_targets(tip.status, role):
        await message.reply_text(text(language, "desk_closed"))
        return
    await change_status(context, role, tip, "transferred", agency=agency)
    await message.reply_text(text(language, "desk_status_set_full", ref=tip.ref,
                                  status=plain(language, "status_transferred")))


async def on_reply_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: OfficerReply
) -> None:
    """An officer's reply to a tip's resident, written after pressing "reply"."""
    pending = await _pending_tip(update, context, action)
    if pending is not None:
        await _store_reply(update, context, *pending)


async def _store_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role, tip: Tip, language: str
) -> None:
    message = update.effective_message
    assert message is not None  # a private message (handlers/conversation.py)
    attachment = attachment_of(message)
    if attachment is not None and attachment["kind"] != "photo":
        attachment = None
    body_text = (message.text or message.caption or "").strip()
    if not body_text and attachment is None:
        await message.reply_text(text(language, "desk_reply_hint"))
        return
    if len(body_text) > REPLY_MAX:
        await message.reply_text(text(language, "desk_reply_too_long", limit=REPLY_MAX))
        return
    tappable = _tappable(message, body_text)
    if tappable is not None:
        # Refused, not defanged: what the resident reads stays exactly what the officer wrote.
        # The reply stays open (the officer sends the corrected text), and their words come
        # back in a block Telegram copies with one tap.
        log.info("tip %s: reply by staff %s refused (%s)", tip.ref, role.user_id, tappable.kind)
        await message.reply_text(
            text(language, "desk_reply_has_link", found=tappable.fragment, draft=body_text)
        )
        return
    store = services_of(context).store
    body = {"text": body_text, "attachments": [attachment] if attachment else []}
    async with store.db.transaction():
        message_id = await store.desk.add_officer_message(tip.tip_id, role.user_id, body)
        await store.audit.record(role.user_id, "reply", tip.tip_id)
        if tip.notify_chat is not None:
            await store.outbox.enqueue_for_resident(
                tip.tip_id, "resident_reply", tip_message_id=message_id
            )
        await flows.end(context, role.user_id)
    log.info("tip %s: reply by staff %s", tip.ref, role.user_id)
    done = "desk_reply_sent" if tip.notify_chat is not None else "desk_reply_stored"
    await message.reply_text(text(language, done, ref=tip.ref))
    _wake(context)


def _tappable(message: Message, body_text: str) -> links.Found | None:
    """What in an officer's reply a resident's Telegram would let them tap that gives them away:
    a link, an @name, a /command typed (rules/links.py), or one the officer's own message
    carries as an entity (a link hidden behind words would be dropped silently otherwise)."""
    for entity, shown in {**message.parse_entities(), **message.parse_caption_entities()}.items():
        if entity.type in links.LINK_ENTITY_TYPES:
            kind: links.Kind = "mention" if "mention" in entity.type else "link"
            return links.Found(kind, shown[: links.FRAGMENT_MAX])
    return links.find(body_text)


# --- /tips and /tip ----------------------------------------------------------------------------


def _scope(role: Role) -> Scope:
    return Scope(role.user_id, role.is_admin or role.all_areas, tuple(sorted(role.areas)))


async def tips_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    if not role.is_staff:
        await update.effective_message.reply_text(text(language, "not_allowed"))
        return
    body, markup = await _tips_page(context, role, language, status=None, page=0)
    await update.effective_message.reply_text(body, reply_markup=markup)


async def on_list_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`ol:<status|all>:<page>`: page and filter /tips; the scope is the presser's, now."""
    query = update.callback_query
    user = private_user(update)
    if query is None or user is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    data = parse(query.data)
    chosen = data.word(0) if len(data) == 2 else None
    if (
        not role.is_staff
        or (chosen != "all" and chosen not in STATUSES)
        or data.number(1) is None
    ):
        await query.answer(plain(language, "not_allowed"))
        return
    status = None if chosen == "all" else chosen
    page = data.number(1) or 0
    body, markup = await _tips_page(context, role, language, status=status, page=page)
    await query.answer()
    with unless_unchanged():
        await query.edit_message_text(body, reply_markup=markup)


async def _tips_page(
    context: ContextTypes.DEFAULT_TYPE, role: Role, language: str, *, status: str | None,
    page: int,
) -> tuple[Html, InlineKeyboardMarkup]:
    services = services_of(context)
    summaries, total = await services.store.desk.list_for(
        _scope(role), status=status, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    lines = [
        text(
            language,
            "tips_line",
            ref=s.ref,
            urgent="🔴 " if s.urgent and s.status == "new" else "",
            category=plain(language, f"cat_{s.category}"),
            area=services.areas.name(s.area, language) or plain(language, "area_unsure"),
            status=plain(language, f"status_{s.status}"),
            date=local_time(s.created_at, services.config.timezone),
        )
        for s in summaries
    ]
    label = plain(language, f"status_{status}") if status else plain(language, "tips_open")
    body = text(
        language,
        "tips_page",
        filter=label,
        total=total,
        page=min(page + 1, pages),
        pages=pages,
        lines=Html("\n".join(lines)) if lines else plain(language, "tips_none"),
    )
    key = status or "all"
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(plain(language, "btn_prev"),
                                        callback_data=f"ol:{key}:{page - 1}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(plain(language, "btn_next"),
                                        callback_data=f"ol:{key}:{page + 1}"))
    filters = [InlineKeyboardButton(
        ("• " if status is None else "") + plain(language, "tips_open"), callback_data="ol:all:0"
    )]
    filters += [
        InlineKeyboardButton(
            ("• " if status == s else "") + plain(language, f"status_{s}"),
            callback_data=f"ol:{s}:0",
        )
        for s in STATUSES
    ]
    rows = [nav] if nav else []
    rows += [filters[i : i + 2] for i in range(0, len(filters), 2)]
    return body, InlineKeyboardMarkup(rows)


async def tip_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/tip REF`: one tip in full, with its thread; recorded in the audit log as a view."""
    user = private_user(update)
    if user is None:
        return
    language = await language_of(context, user)
    role = await role_of(context, user.id)
    services = services_of(context)
    ref = (context.args[0] if context.args else "").strip().upper()
    if not role.is_staff:
        await update.effective_message.reply_text(text(language, "not_allowed"))
        return
    if not ref:
        await update.effective_message.reply_text(text(language, "tip_usage"))
        return
    found = await services.store.tips.by_ref(ref[:12])
    tip = await tip_if_allowed(context, role, found.tip_id) if found else None
    if tip is None:
        await update.effective_message.reply_text(text(language, "tip_not_found"))
        return
    await services.store.audit.record(role.user_id, "view", tip.tip_id)
    log.info("tip %s viewed by staff %s", tip.ref, role.user_id)
    agency = await services.store.desk.transferred_to(tip.tip_id)
    status = plain(language, f"status_{tip.status}") + (f": {agency}" if agency else "")
    state = text(language, "card_state", status=status)
    zone = services.config.timezone
    for index, body in enumerate(card_texts(tip, language, services.areas, zone=zone,
                                            state=state)):
        markup = card_keyboard(tip, language) if index == 0 else None
        await update.effective_chat.send_message(body, reply_markup=markup)
    location = tip.content.get("location")
    if location:
        await update.effective_chat.send_location(
            latitude=location["lat"], longitude=location["lon"]
        )
    async def no_progress() -> None:
        return None

    await send_attachments(context.bot, update.effective_chat.id, tip.ref,
                           tip.content.get("attachments", []), language, no_progress)
    thread = await services.store.tips.thread(tip.tip_id)
    if len(thread) > THREAD_SHOWN:
        # Replaying a long thread would hold the bot (updates run one at a time).
        await update.effective_chat.send_message(
            text(language, "thread_older_hidden", count=len(thread) - THREAD_SHOWN)
        )
    for entry in thread[-THREAD_SHOWN:]:
        who = plain(language, "thread_resident")
        if entry.author == "officer":
            member = await services.store.staff.get(entry.staff_id or 0)
            who = member.display_name if member else plain(language, "thread_officer")
        for piece in chunks(entry.body.get("text") or "—"):
            await update.effective_chat.send_message(
                text(language, "thread_entry", who=who, when=local_time(entry.created_at, zone),
                     body=piece)
            )
        await send_attachments(context.bot, update.effective_chat.id, tip.ref,
                               entry.body.get("attachments", []), language, no_progress)


async def _replace_prompt(update: Update, body: str) -> None:
    """Turn the pressed prompt into `body`, without buttons (else say it anew)."""
    query = update.callback_query
    try:
        await query.edit_message_text(body, reply_markup=None)
    except BadRequest as error:
        if not is_not_modified(error):
            await update.effective_chat.send_message(body)


async def _remove_keyboard(message: Message | None) -> None:
    if message is None:
        return
    with contextlib.suppress(TelegramError):
        await message.edit_reply_markup(None)


def _wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    wake_delivery(context.application)
