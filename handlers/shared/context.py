"""What every handler needs from an update: the services, the user's language and role.

One place resolves the language (texts.catalog.pick_language: chosen with /language, else
Telegram's when a complete catalog has it, else TIPBOT_LANGUAGE) and one place checks a role, at
the moment a handler runs, so forged or stale buttons cannot act with rights their presser no
longer has.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
from dataclasses import dataclass

from telegram import Update, User
from telegram.ext import ContextTypes

from bot.services import Services
from rules.access import Role, role_from, staff_role
from storage.staff import StaffMember
from texts.catalog import pick_language, plain, text


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    services: Services = context.application.bot_data["services"]
    return services


class _Unread(enum.Enum):
    UNREAD = "unread"


UNREAD = _Unread.UNREAD


@dataclass(eq=False)
class UpdateReads:
    """What the update being handled has read of its user: their language preference, read
    once (under a crowd of residents reporting it was read 1.3 times per update).

    The /language and /forget handlers write it too. Keyed by PTB's context object, made anew
    for each update and job run, and by the task: work an update starts beside itself (a file's
    cleaning) reads for itself. The conversation is not kept here: see flows.current.
    """

    context: object
    task: object
    user_id: int
    language: str | _Unread | None = UNREAD


_reads: contextvars.ContextVar[UpdateReads | None] = contextvars.ContextVar(
    "update_reads", default=None
)


def reads_of(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> UpdateReads:
    """This update's reads of `user_id` (new ones for another update, task or user)."""
    reads = _reads.get()
    task = asyncio.current_task()
    if reads is None or reads.context is not context or reads.task is not task \
            or reads.user_id != user_id:
        reads = UpdateReads(context, task, user_id)
        _reads.set(reads)
    return reads


async def language_of(context: ContextTypes.DEFAULT_TYPE, user: User | None) -> str:
    """The language to answer `user` in."""
    services = services_of(context)
    if user is None:
        return services.config.language
    reads = reads_of(context, user.id)
    if reads.language is UNREAD:
        reads.language = await services.store.preferences.language(user.id)
    return pick_language(reads.language, services.config.language, user.language_code)


#: The role the gate (handlers/shared/gate.py) read for the update being handled: one lookup
#: per update.
current_role: contextvars.ContextVar[Role | None] = contextvars.ContextVar("role", default=None)


#: The staff row (or None) the gatekeeper read for this update (its id, the row): the gate reads
#: the role from it instead of the database again. Under a crowd of residents the two reads of
#: the same row were a sixth of the statements the bot ran (issue 16); they are one handler
#: group apart in the same task, so the role is still the one of the moment the update arrived.
staff_read: contextvars.ContextVar[tuple[int, StaffMember | None] | None] = (
    contextvars.ContextVar("staff_read", default=None)
)


async def role_at_start(services: Services, update_id: int, user_id: int) -> Role:
    """The role for the gate: from the gatekeeper's reading of this very update, else read."""
    read = staff_read.get()
    if read is not None and read[0] == update_id and (
        read[1] is None or read[1].user_id == user_id
    ):
        return role_from(services, user_id, read[1])
    return await staff_role(services, user_id)


async def role_of(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> Role:
    """The role of `user_id` now: the gate's reading for this update, else the database's."""
    known = current_role.get()
    if known is not None and known.user_id == user_id:
        return known
    return await staff_role(services_of(context), user_id)


async def admin_in_private(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[User, str] | None:
    """The admin and their language, or None after a short "not allowed" (reply or answer).

    The gate of every admin command and button: the role is read from the database now, so a
    demoted admin's old buttons stop working at once.
    """
    user = private_user(update)
    if user is None or (update.effective_message is None and update.callback_query is None):
        return None
    language = await language_of(context, user)
    if (await role_of(context, user.id)).is_admin:
        return user, language
    if update.callback_query is not None:
        await update.callback_query.answer(plain(language, "not_allowed"))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text(language, "not_allowed"))
    return None


async def admin_composing(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[User, str] | None:
    """`admin_in_private` for a message inside an admin's composition (/broadcast,
    /schedule): someone no longer an admin has their composition ended as well."""
    admin = await admin_in_private(update, context)
    user = private_user(update)
    if admin is None and user is not None:
        await services_of(context).store.conversations.end(user.id)
    return admin


def private_user(update: Update) -> User | None:
    """The user of an update from a private chat, else None."""
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        return None
    return update.effective_user
