"""`/schedule` and `/schedules` (admins): recurring awareness posts.

`/schedule` is a short conversation kept as a `ScheduleDraft`: the content (the bundled campaign
rotation, or the admin's own text or photo with caption), how often (daily, chosen weekdays, a
day of the month), the time HH:MM in TIPBOT_TIMEZONE, a summary, save. `/schedules` lists the
schedules with pause, resume and delete. Every button checks the admin role when pressed and the
conversation step it belongs to.

A schedule posts only while its creator is an admin (workers/scheduler.py): one paused because
its creator lost the right says so in the list, and its resume button reads "take over". Any
resume makes the admin who pressed it the schedule's creator (audit-logged when that changes).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers.admin.broadcast import content_of
from handlers.shared import flows
from handlers.shared.buttons import number, parse
from handlers.shared.context import (
    admin_composing,
    admin_in_private,
    services_of,
)
from handlers.shared.flows import ScheduleDraft
from rules.times import local_time
from storage.schedules import Schedule
from telegram_api.answers import unless_unchanged
from texts.catalog import Html, plain, text
from workers import scheduler

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

MAX_LISTED = 15
PREVIEW_CHARS = 60
DAYS_PER_ROW = 7


# --- /schedule: the conversation -----------------------------------------------------------


async def schedule_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    user, language = admin
    await flows.begin(context, user.id, ScheduleDraft())
    await update.effective_message.reply_text(
        text(language, "schedule_ask_content", count=len(scheduler.campaign_messages())),
        reply_markup=_content_keyboard(language),
    )


async def on_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: ScheduleDraft
) -> None:
    """A message during /schedule: the own content, or the time of day."""
    admin = await admin_composing(update, context)
    if admin is None:
        return
    user, language = admin
    message = update.effective_message
    assert message is not None  # a private message (handlers/conversation.py)
    step = draft.step
    if step == "own":
        content = content_of(message)
        if content is None:
            await message.reply_text(text(language, "broadcast_bad_content"))
            return
        content["preview"] = (message.text or message.caption or "")[:PREVIEW_CHARS]
        draft = replace(draft, step="frequency", content=content)
        await flows.save(context, user.id, draft)
        await message.reply_text(
            text(language, "schedule_ask_frequency"), reply_markup=_frequency_keyboard(language)
        )
    elif step == "time":
        parsed = scheduler.parse_time(message.text or "")
        if parsed is None:
            await message.reply_text(text(language, "schedule_bad_time"))
            return
        draft = replace(draft, step="confirm", hour=parsed[0], minute=parsed[1])
        await flows.save(context, user.id, draft)
        await message.reply_text(
            await _summary(context, draft, language), reply_markup=_confirm_keyboard(language)
        )
    else:
        await message.reply_text(text(language, "schedule_use_buttons"))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `sch:` button: the conversation's and the list's."""
    query = update.callback_query
    admin = await admin_in_private(update, context)
    if query is None or admin is None:
        return
    user, language = admin
    data = parse(query.data)
    action, value = data.text(0) or "", data.text(1) or ""
    if action in ("p", "r", "del", "dd", "list"):
        await _list_action(update, context, language, action, value)
        return
    draft = await flows.current_of(context, user.id, ScheduleDraft)
    if draft is None:
        await query.answer(plain(language, "button_expired"))
        return
    handler = {
        "c": _pick_content,
        "f": _pick_frequency,
        "w": _pick_weekday,
        "d": _pick_day,
        "save": _save,
        "x": _cancel_pressed,
    }.get(action)
    if handler is None:
        await query.answer(plain(language, "button_expired"))
        return
    await handler(update, context, draft, value, language)


async def _pick_content(
    update: Update, context: Context, draft: ScheduleDraft, value: str, language: str
) -> None:
    query = update.callback_query
    if draft.step != "content" or value not in ("rot", "own"):
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    if value == "rot":
        draft = replace(draft, step="frequency", content={"kind": "rotation"})
        await flows.save(context, update.effective_user.id, draft)
        await query.edit_message_text(
            text(language, "schedule_ask_frequency"), reply_markup=_frequency_keyboard(language)
        )
    else:
        await flows.save(context, update.effective_user.id, replace(draft, step="own"))
        await query.edit_message_text(text(language, "schedule_ask_own"))


async def _pick_frequency(
    update: Update, context: Context, draft: ScheduleDraft, value: str, language: str
) -> None:
    query = update.callback_query
    if draft.step != "frequency" or value not in ("daily", "weekly", "monthly"):
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    draft = replace(draft, frequency=value)
    if value == "weekly":
        draft = replace(draft, step="weekdays", weekdays=())
        body, keyboard = text(language, "schedule_ask_weekdays"), _weekday_keyboard(language, [])
    elif value == "monthly":
        draft = replace(draft, step="day")
        body, keyboard = text(language, "schedule_ask_day"), _day_keyboard()
    else:
        draft = replace(draft, step="time")
        body, keyboard = _ask_time(context, language), None
    await flows.save(context, update.effective_user.id, draft)
    await query.edit_message_text(body, reply_markup=keyboard)


async def _pick_weekday(
    update: Update, context: Context, draft: ScheduleDraft, value: str, language: str
) -> None:
    query = update.callback_query
    valid = value == "done" or (len(value) == 1 and value in "0123456")
    if draft.step != "weekdays" or not valid:
        await query.answer(plain(language, "button_expired"))
        return
    chosen = sorted(set(draft.weekdays))
    if value == "done":
        if not chosen:
            await query.answer(plain(language, "schedule_weekdays_none"))
            return
        await query.answer()
        await flows.save(context, update.effective_user.id, replace(draft, step="time"))
        await query.edit_message_text(_ask_time(context, language))
        return
    day = int(value)
    chosen = sorted(set(chosen) ^ {day})
    await flows.save(context, update.effective_user.id, replace(draft, weekdays=tuple(chosen)))
    await query.answer()
    with unless_unchanged():  # pressed twice quickly: the keyboard is already right
        await query.edit_message_reply_markup(reply_markup=_weekday_keyboard(language, chosen))


async def _pick_day(
    update: Update, context: Context, draft: ScheduleDraft, value: str, language: str
) -> None:
    query = update.callback_query
    day = number(value)
    if draft.step != "day" or day is None or not 1 <= day <= 28:
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    await flows.save(context, update.effective_user.id, replace(draft, step="time", day=day))
    await query.edit_message_text(_ask_time(context, language))


async def _save(
    update: Update, context: Context, draft: ScheduleDraft, value: str, language: str
) -> None:
    query = update.callback_query
    user = update.effective_user
    if draft.step != "confirm":
        await query.answer(plain(language, "button_expired"))
        return
    services = services_of(context)
    store = services.store
    rule = _rule(draft)
    async with store.db.transaction():
        current = await flows.current_of(context, user.id, ScheduleDraft)
        if current is None or current.step != "confirm":
            schedule_id = None
        else:
            schedule_id = await store.schedules.create(
                content=dict(draft.content or {}),
                frequency=rule.frequency,
                at_time=rule.at_time,
                next_run_at=rule.next_after(services.config.timezone, time.time()),
                created_by=user.id,
                weekdays=rule.weekdays,
                day_of_month=rule.day,
            )
            await flows.end(context, user.id)
    if schedule_id is None:
        await query.answer(plain(language, "button_expired"))
        return
    await query.answer()
    schedule = await store.schedules.get(schedule_id)
    if schedule is not None:
        scheduler.register(context.application, schedule)
    log.info("schedule %s created by staff %s (%s at %s)", schedule_id, user.id, rule.frequency,
             rule.at_time)
    await query.edit_message_text(
        Html(await _summary(context, draft, language) + "\n\n"
             + text(language, "schedule_saved", id=schedule_id))
    )


async def _cancel_pressed(
    update: Update, context: Context, draft: ScheduleDraft, value: str, language: str
) -> None:
    query = update.callback_query
    await flows.end(context, update.effective_user.id)
    await query.answer()
    await query.edit_message_text(text(language, "schedule_cancelled"))


def _rule(draft: ScheduleDraft) -> scheduler.Rule:
    frequency = draft.frequency or "daily"
    return scheduler.Rule(
        frequency,
        int(draft.hour),
        int(draft.minute),
        draft.weekdays if frequency == "weekly" else (),
        draft.day if frequency == "monthly" else None,
    )


async def _summary(
    context: ContextTypes.DEFAULT_TYPE, draft: ScheduleDraft, language: str
) -> Html:
    services = services_of(context)
    rule = _rule(draft)
    next_run = rule.next_after(services.config.timezone, time.time())
    return text(
        language,
        "schedule_summary",
        content=Html(describe_content(language, dict(draft.content or {}))),
        rule=Html(describe_rule(language, rule, services.config.timezone.key)),
        next=when(next_run, services.config.timezone),
        subscribers=await services.store.subscribers.count(),
        channels=len(services.config.channels),
    )


def _ask_time(context: ContextTypes.DEFAULT_TYPE, language: str) -> Html:
    return text(language, "schedule_ask_time", zone=services_of(context).config.timezone.key)


# --- descriptions --------------------------------------------------------------------------


def weekday_names(language: str, days: list[int] | tuple[int, ...], *, short: bool) -> list[str]:
    names = []
    for day, long_key, short_key in (
        (0, "wd_mon", "wds_mon"),
        (1, "wd_tue", "wds_tue"),
        (2, "wd_wed", "wds_wed"),
        (3, "wd_thu", "wds_thu"),
        (4, "wd_fri", "wds_fri"),
        (5, "wd_sat", "wds_sat"),
        (6, "wd_sun", "wds_sun"),
    ):
        if day in days:
            names.append(plain(language, short_key) if short else plain(language, long_key))
    return names


def describe_rule(language: str, rule: scheduler.Rule, zone: str) -> Html:
    if rule.frequency == "weekly":
        days = ", ".join(weekday_names(language, rule.weekdays, short=False))
        return text(language, "rule_weekly", days=days, time=rule.at_time, zone=zone)
    if rule.frequency == "monthly":
        return text(language, "rule_monthly", day=rule.day, time=rule.at_time, zone=zone)
    return text(language, "rule_daily", time=rule.at_time, zone=zone)


def describe_content(language: str, content: dict[str, Any]) -> Html:
    if content.get("kind") == "rotation":
        return text(language, "schedule_content_rotation", count=len(scheduler.campaign_messages()))
    key = "schedule_content_photo" if content.get("kind") == "photo" else "schedule_content_text"
    return text(language, key, preview=content.get("preview", ""))


def when(timestamp: float | None, timezone: Any) -> str:
    """A schedule's next or last run as people read it (the one format, rules.times)."""
    return local_time(timestamp, timezone)


# --- keyboards -----------------------------------------------------------------------------


def _content_keyboard(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_schedule_rotation"),
                                  callback_data="sch:c:rot")],
            [InlineKeyboardButton(plain(language, "btn_schedule_own"), callback_data="sch:c:own")],
            [InlineKeyboardButton(plain(language, "btn_cancel"), callback_data="sch:x")],
        ]
    )


def _frequency_keyboard(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_schedule_daily"),
                                  callback_data="sch:f:daily")],
            [InlineKeyboardButton(plain(language, "btn_schedule_weekly"),
                                  callback_data="sch:f:weekly")],
            [InlineKeyboardButton(plain(language, "btn_schedule_monthly"),
                                  callback_data="sch:f:monthly")],
            [InlineKeyboardButton(plain(language, "btn_cancel"), callback_data="sch:x")],
        ]
    )


def _weekday_keyboard(language: str, chosen: list[int]) -> InlineKeyboardMarkup:
    row = []
    for day in range(7):
        label = weekday_names(language, [day], short=True)[0]
        row.append(
            InlineKeyboardButton(("✅ " if day in chosen else "") + label,
                                 callback_data=f"sch:w:{day}")
        )
    return InlineKeyboardMarkup(
        [
            row[:4],
            row[4:],
            [InlineKeyboardButton(plain(language, "btn_schedule_days_done"),
                                  callback_data="sch:w:done")],
            [InlineKeyboardButton(plain(language, "btn_cancel"), callback_data="sch:x")],
        ]
    )


def _day_keyboard() -> InlineKeyboardMarkup:
    days = [InlineKeyboardButton(str(d), callback_data=f"sch:d:{d}") for d in range(1, 29)]
    return InlineKeyboardMarkup(
        [days[i : i + DAYS_PER_ROW] for i in range(0, len(days), DAYS_PER_ROW)]
    )


def _confirm_keyboard(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(language, "btn_schedule_save"), callback_data="sch:save")],
            [InlineKeyboardButton(plain(language, "btn_cancel"), callback_data="sch:x")],
        ]
    )


# --- /schedules ----------------------------------------------------------------------------


async def schedules_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = await admin_in_private(update, context)
    if admin is None:
        return
    _user, language = admin
    body, keyboard = await _list(context, language)
    await update.effective_message.reply_text(body, reply_markup=keyboard)


async def _list(
    context: ContextTypes.DEFAULT_TYPE, language: str
) -> tuple[Html, InlineKeyboardMarkup | None]:
    services = services_of(context)
    schedules = await services.store.schedules.all()
    if not schedules:
        return text(language, "schedules_empty"), None
    count = len(schedules)
    schedules = schedules[:MAX_LISTED]  # one message; a district has a handful
    orphans = {
        s.schedule_id: await _creator_name(context, s)
        for s in schedules
        if not s.active and not await scheduler.creator_is_admin(
            services.store, services.config.admin_ids, s)
    }
    items = [await _item(context, language, s, orphans.get(s.schedule_id)) for s in schedules]
    rows = []
    for schedule in schedules:
        resume = "btn_schedule_take_over" if schedule.schedule_id in orphans else (
            "btn_schedule_resume")
        toggle = (
            InlineKeyboardButton(plain(language, "btn_schedule_pause", id=schedule.schedule_id),
                                 callback_data=f"sch:p:{schedule.schedule_id}")
            if schedule.active
            else InlineKeyboardButton(
                plain(language, resume, id=schedule.schedule_id),
                callback_data=f"sch:r:{schedule.schedule_id}",
            )
        )
        delete = InlineKeyboardButton(
            plain(language, "btn_schedule_delete", id=schedule.schedule_id),
            callback_data=f"sch:del:{schedule.schedule_id}",
        )
        rows.append([toggle, delete])
    body = text(language, "schedules_list", count=count, items=Html("\n\n".join(items)))
    return body, InlineKeyboardMarkup(rows)


async def _creator_name(context: ContextTypes.DEFAULT_TYPE, schedule: Schedule) -> str:
    member = await services_of(context).store.staff.get(schedule.created_by)
    return member.display_name if member else f"#{schedule.created_by}"


async def _item(
    context: ContextTypes.DEFAULT_TYPE, language: str, schedule: Schedule,
    orphaned_by: str | None = None,
) -> str:
    """One schedule in the list; `orphaned_by` names its creator when it is paused because
    they are no longer an admin."""
    services = services_of(context)
    timezone = services.config.timezone
    state = "schedule_state_active" if schedule.active else "schedule_state_paused"
    shown: str = plain(language, state)
    if orphaned_by is not None:
        shown = plain(language, "schedule_state_orphaned", name=orphaned_by)
    last: str = plain(language, "schedule_last_none")
    if schedule.last_outcome == "skipped":
        last = text(language, "schedule_last_skipped", when=when(schedule.last_run_at, timezone))
    elif schedule.last_outcome == "sent" and schedule.last_broadcast_id is not None:
        counts = await services.store.broadcasts.counts(schedule.last_broadcast_id)
        last = text(language, "schedule_last_sent", when=when(schedule.last_run_at, timezone),
                    sent=counts.sent, total=counts.total)
    return text(
        language,
        "schedule_item",
        id=schedule.schedule_id,
        state=shown,
        rule=Html(describe_rule(language, scheduler.Rule.of(schedule), timezone.key)),
        content=Html(describe_content(language, schedule.content)),
        next=when(schedule.next_run_at, timezone) if schedule.active else "—",
        last=Html(last),
    )


async def _list_action(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, action: str, value: str
) -> None:
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    store = services.store
    if action == "list":
        await query.answer()
        await _show_list(update, context, language)
        return
    schedule_id = number(value)
    if schedule_id is None:
        await query.answer(plain(language, "button_expired"))
        return
    schedule = await store.schedules.get(schedule_id)
    if schedule is None:
        await query.answer(plain(language, "schedule_gone"))
        await _show_list(update, context, language)
        return
    staff = update.effective_user.id
    if action == "p":
        if await store.schedules.pause(schedule.schedule_id):
            scheduler.unregister(context.application, schedule.schedule_id)
            log.info("schedule %s paused by staff %s", schedule.schedule_id, staff)
        await query.answer(plain(language, "schedule_paused", id=schedule.schedule_id))
    elif action == "r":
        rule = scheduler.Rule.of(schedule)
        following = rule.next_after(services.config.timezone, time.time())
        answer = "schedule_resumed"
        async with store.db.transaction():
            paused = await store.schedules.get(schedule.schedule_id)
            before = paused.created_by if paused is not None else staff
            resumed = await store.schedules.resume(schedule.schedule_id, following, by=staff)
            if resumed and before != staff:  # the one who resumes it answers for it now
                await store.audit.record(staff, "schedule", None, schedule=schedule.schedule_id,
                                         change="take_over", creator_before=before)
                answer = "schedule_taken_over"
        if resumed:
            current = await store.schedules.get(schedule.schedule_id)
            if current is not None:
                scheduler.register(context.application, current)
            log.info("schedule %s resumed by staff %s (created by %s)", schedule.schedule_id,
                     staff, before)
        await query.answer(plain(language, answer, id=schedule.schedule_id))
    elif action == "del":
        await query.answer()
        await query.edit_message_text(
            text(language, "schedule_delete_confirm", id=schedule.schedule_id),
            reply_markup=InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(
                        plain(language, "btn_schedule_delete_yes", id=schedule.schedule_id),
                        callback_data=f"sch:dd:{schedule.schedule_id}")],
                    [InlineKeyboardButton(plain(language, "btn_back"),
                                          callback_data="sch:list")],
                ]
            ),
        )
        return
    elif action == "dd":
        if await store.schedules.delete(schedule.schedule_id):
            scheduler.unregister(context.application, schedule.schedule_id)
            log.info("schedule %s deleted by staff %s", schedule.schedule_id, staff)
        await query.answer(plain(language, "schedule_deleted", id=schedule.schedule_id))
    await _show_list(update, context, language)


async def _show_list(update: Update, context: ContextTypes.DEFAULT_TYPE, language: str) -> None:
    query = update.callback_query
    assert query is not None
    body, keyboard = await _list(context, language)
    with unless_unchanged():
        await query.edit_message_text(body, reply_markup=keyboard)
