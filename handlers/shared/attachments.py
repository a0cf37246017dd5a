"""The evidence file a message carries, as the report, /status and an officer's reply take it."""

from __future__ import annotations

from typing import Any

from telegram import Message

# A GIF arrives with both `animation` and `document` set: animation must be looked at first.
ATTACHMENT_KINDS = ("photo", "animation", "video", "voice", "audio", "video_note", "document")


def attachment_of(message: Message) -> dict[str, Any] | None:
    """The evidence file of a message as {kind, file_id}. Photos, voice and video notes are
    resent by this file id; documents, audio, videos and animations are cleaned first (see
    handlers/resident/evidence.py) and only the clean copy's file id is kept."""
    if message.photo:
        return {"kind": "photo", "file_id": message.photo[-1].file_id}
    for kind in ATTACHMENT_KINDS[1:]:
        media = getattr(message, kind, None)
        if media is not None:
            return {"kind": kind, "file_id": media.file_id}
    return None
