"""The tip card an officer receives: reference, category, area, when, urgency, the text, the
location pin and the evidence, each file sent again by its Telegram file id (for files the
resident sent as documents, audio or video: the id of the clean copy, see
handlers/resident/evidence.py).

Evidence is never forwarded (a forward shows its sender) nor copied from the resident's chat
(that would need the resident's chat and message ids to be kept).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import tzinfo

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from rules.areas import Areas
from rules.times import local_time
from storage.tips import ThreadMessage, Tip
from telegram_api.answers import is_unreachable
from texts.catalog import Html, escape, file_kind_label, plain, text

log = logging.getLogger(__name__)

Progress = Callable[[], Awaitable[None]]
#: A 400 that means the chat itself is gone (the outbox marks the recipient unreachable).
CHUNK = 3500
TELEGRAM_LIMIT = 4096  # characters of resident text per message, well inside 4096 after escaping

_SENDERS = {
    "photo": ("send_photo", "photo"),
    "video": ("send_video", "video"),
    "voice": ("send_voice", "voice"),
    "audio": ("send_audio", "audio"),
    "document": ("send_document", "document"),
    "animation": ("send_animation", "animation"),
    "video_note": ("send_video_note", "video_note"),
}


def chunks(body: str, size: int = CHUNK) -> list[str]:
    """Split long text on line or word boundaries where possible."""
    parts: list[str] = []
    while len(body) > size:
        cut = body.rfind("\n", size // 2, size)
        if cut == -1:
            cut = body.rfind(" ", size // 2, size)
        if cut == -1:
            cut = size
        parts.append(body[:cut])
        body = body[cut:].lstrip("\n ")
    parts.append(body)
    return parts


#: The card's header shows where the tip stands at a glance.
STATUS_ICONS = {
    "new": "🆕",
    "acknowledged": "📥",
    "verifying": "🔍",
    "resolved": "✅",
    "unfounded": "⚪",
    "transferred": "↪️",
}


def card_texts(
    tip: Tip, language: str, areas: Areas, *, zone: tzinfo, state: Html | None = None
) -> list[Html]:
    """The card (and continuation messages when the text is long), in `language`.

    `state` is the line that says the tip's status and who acted last (officers see each
    other's names); a new card says "new". Under "when" (the resident's answer) comes the
    exact time the tip was received, in `zone` (TIPBOT_TIMEZONE).
    """
    content = tip.content
    body = content.get("text") or ""
    if content.get("spoken"):
        spoken = plain(language, "card_spoken", count=content["spoken"])
        body = spoken + ("\n\n" + body if body else "")
    area = areas.name(tip.area, language) or plain(language, "area_unsure")
    when = content.get("when")
    answer = plain(language, f"when_{when}") if when else plain(language, "not_given")
    received = text(language, "card_received", time=local_time(tip.created_at, zone))
    urgent = tip.urgent

    def header(description: str) -> Html:
        return text(
            language,
            "card",
            ref=tip.ref,
            icon=STATUS_ICONS.get(tip.status, "📄"),
            status=plain(language, f"status_{tip.status}"),
            urgent=Html(text(language, "card_urgent")) if urgent else "",
            category=plain(language, f"cat_{tip.category}"),
            area=area,
            when=Html(escape(answer) + "\n" + received),
            place=content.get("place") or plain(language, "not_given"),
            files=len(content.get("attachments", [])),
            pin=plain(language, "card_pin_follows") if content.get("location") else "",
            description=description,
            state=state if state is not None else text(
                language, "card_state", status=plain(language, f"status_{tip.status}")
            ),
        )

    # The first message shares its room with the header (a place can be 500 characters). The
    # header's HTML is never shorter than what Telegram counts after parsing, so it fits.
    room = max(500, min(CHUNK, TELEGRAM_LIMIT - len(header("")) - 100))
    first_piece = chunks(body, room)[0] if body else ""
    remainder = body[len(first_piece) :].lstrip("\n ")
    pieces = [first_piece, *(chunks(remainder) if remainder else [])]
    first = header(first_piece)
    rest = [
        text(language, "card_continued", ref=tip.ref, part=i + 2, parts=len(pieces), body=p)
        for i, p in enumerate(pieces[1:])
    ]
    return [first, *rest]


def card_keyboard(tip: Tip, language: str) -> InlineKeyboardMarkup:
    """The card's actions; every press is checked again against the presser's role."""

    def button(key: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(plain(language, key), callback_data=f"o:{action}:{tip.tip_id}")

    first = [button("btn_reply", "rep")]
    if tip.status == "new":
        first.insert(0, button("btn_ack", "ack"))
    return InlineKeyboardMarkup(
        [first, [button("btn_set_status", "st"), button("btn_reassign", "mv")]]
    )


async def send_card(
    bot: Bot, chat_id: int, tip: Tip, language: str, areas: Areas, progress: Progress, *,
    zone: tzinfo,
) -> int:
    """Send the whole card; returns the id of its first message (the one with the buttons).

    Raises the first Telegram error (the outbox retries the row). `progress` is awaited
    before each message, so the outbox can keep the row claimed.
    """
    first_id = 0
    for index, body in enumerate(card_texts(tip, language, areas, zone=zone)):
        await progress()
        markup = card_keyboard(tip, language) if index == 0 else None
        sent = await bot.send_message(chat_id, body, reply_markup=markup)
        first_id = first_id or sent.message_id
    location = tip.content.get("location")
    if location:
        await progress()
        await bot.send_location(chat_id, latitude=location["lat"], longitude=location["lon"])
    attachments = tip.content.get("attachments", [])
    await send_attachments(bot, chat_id, tip.ref, attachments, language, progress)
    return first_id


async def send_addition(
    bot: Bot, chat_id: int, tip: Tip, message: ThreadMessage, language: str, progress: Progress
) -> None:
    """A resident's follow-up to a tip the officer holds."""
    body = message.body.get("text") or ""
    pieces = chunks(body) if body else [""]
    for i, piece in enumerate(pieces):
        await progress()
        await bot.send_message(
            chat_id,
            text(language, "card_addition", ref=tip.ref, body=piece or "—")
            if i == 0
            else text(language, "card_continued", ref=tip.ref, part=i + 1, parts=len(pieces),
                      body=piece),
        )
    attachments = message.body.get("attachments", [])
    await send_attachments(bot, chat_id, tip.ref, attachments, language, progress)


async def send_attachments(
    bot: Bot,
    chat_id: int,
    ref: str,
    attachments: list[dict[str, str]],
    language: str,
    progress: Progress,
) -> None:
    """Each file again by its file id: for documents, audio, videos and animations that is the
    clean copy's (evidence-N.ext, uploaded when the resident sent it), never the original's.
    An entry without a file id (none is stored so; a defence) is skipped."""
    attachments = [a for a in attachments if a.get("file_id")]
    for number, attachment in enumerate(attachments, start=1):
        await progress()
        method, field = _SENDERS.get(attachment.get("kind", ""), ("send_document", "document"))
        kwargs: dict[str, object] = {field: attachment["file_id"]}
        if method != "send_video_note":
            kwargs["caption"] = text(
                language, "card_evidence", ref=ref, number=number, total=len(attachments)
            )
        try:
            await getattr(bot, method)(chat_id, **kwargs)
        except BadRequest as error:
            # This one file was refused (voice messages disabled, a file id Telegram no longer
            # knows...): say so and carry on, so the card and the other files still arrive.
            # Network errors, RetryAfter and a vanished chat propagate (the row is retried or
            # the recipient marked unreachable).
            if is_unreachable(error):
                raise
            kind = attachment.get("kind", "")
            log.warning("%s: file %s/%s (%s) refused: %s", ref, number, len(attachments), kind,
                        error)
            await progress()
            await bot.send_message(
                chat_id,
                text(language, "card_file_refused", ref=ref, number=number,
                     total=len(attachments), kind=file_kind_label(language, kind)),
            )


