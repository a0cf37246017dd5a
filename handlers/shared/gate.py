"""Deny by default: every command and button names the role it needs where it is registered.

`guarded(need, callback)` is the only way a command or button handler is registered
(handlers/__init__.py), so a handler that declares nothing cannot be reached. The role is read
from the database once per update, as it arrives (the gatekeeper's read of the staff row, one
handler group before; a demoted admin's old buttons stop working at once), checked against the
declaration, and kept in a context variable for the
handler: `handlers.shared.context.role_of` returns it without a second lookup.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from handlers.shared.context import (
    current_role,
    language_of,
    private_user,
    role_at_start,
    services_of,
)
from rules.access import Role
from texts.catalog import plain, text

log = logging.getLogger(__name__)

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Need(enum.Enum):
    """Who may use a command or button."""

    RESIDENT = "resident"  # anyone in a private chat (staff are residents too)
    OFFICER = "officer"  # an active officer, or an admin
    ADMIN = "admin"  # a permanent admin, or an active promoted one

    def admits(self, role: Role) -> bool:
        if self is Need.RESIDENT:
            return True
        if self is Need.OFFICER:
            return role.is_staff
        return role.is_admin


@dataclass(frozen=True)
class Guarded:
    """A registered callback and the role it declared; callable as a PTB handler callback."""

    need: Need
    callback: Callback

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = private_user(update)
        if user is None:
            return
        role = await role_at_start(services_of(context), update.update_id, user.id)
        if not self.need.admits(role):
            # The update id only: the presser may be a resident, whose id is never logged.
            log.info("update %s: refused, needs %s", update.update_id, self.need.value)
            await refuse(update, context)
            return
        token = current_role.set(role)
        try:
            await self.callback(update, context)
        finally:
            current_role.reset(token)


def guarded(need: Need, callback: Callback) -> Guarded:
    return Guarded(need, callback)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The same short "not allowed" for every refusal: it says nothing about what exists."""
    language = await language_of(context, update.effective_user)
    if update.callback_query is not None:
        await update.callback_query.answer(plain(language, "not_allowed"))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text(language, "not_allowed"))
