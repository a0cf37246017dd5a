"""Stored files: uploads from the bot and media sent by emulated users.

Every file gets a Telegram-like ``file_id`` / ``file_unique_id`` pair and a ``file_path`` under
which getFile lets the bot download the exact bytes, so a bot that re-sends or downloads media
exercises the same code paths as against Telegram.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "FileStore", "StoredFile", "image_size"]

# Media kinds and the folder Telegram's file_path uses for them.
KINDS = {
    "photo": ("photos", "jpg", "image/jpeg"),
    "document": ("documents", "bin", "application/octet-stream"),
    "video": ("videos", "mp4", "video/mp4"),
    "voice": ("voice", "oga", "audio/ogg"),
    "audio": ("music", "mp3", "audio/mpeg"),
    "animation": ("animations", "mp4", "video/mp4"),
    "sticker": ("stickers", "webp", "image/webp"),
    "video_note": ("video_notes", "mp4", "video/mp4"),
}

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile: "file is too big" past this
MAX_UPLOAD_SIZE = 50 * 1024 * 1024  # multipart uploads: 413 past this


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width/height of a PNG, GIF or JPEG, so photo sizes look like the real upload."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            i += 2 + seg_len
    return None


@dataclass
class StoredFile:
    """One file as Telegram knows it; ``data`` is what a download returns."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    thumbnails: list[StoredFile] | None = None
    #: "user" (sent by an emulated user) or "bot" (uploaded by the bot with multipart)
    origin: str = "user"

    @property
    def size(self) -> int:
        return len(self.data)

    def base(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }

    def as_object(self) -> dict[str, Any]:
        """The Bot API object (Document, Video, Voice, ...) for this file, minus PhotoSize lists."""
        obj = self.base()
        if self.kind == "photo":
            obj.update(width=self.width or 0, height=self.height or 0)
        elif self.kind in ("video", "animation"):
            obj.update(
                width=self.width or 640, height=self.height or 360, duration=self.duration or 1
            )
        elif self.kind == "video_note":
            obj.update(length=self.width or 240, duration=self.duration or 1)
        elif self.kind in ("voice", "audio"):
            obj.update(duration=self.duration or 1)
        elif self.kind == "sticker":
            obj.update(
                type="regular",
                width=self.width or 512,
                height=self.height or 512,
                is_animated=False,
                is_video=False,
            )
        if self.kind not in ("photo", "sticker", "video_note", "voice") and self.file_name:
            obj["file_name"] = self.file_name
        if self.kind not in ("photo", "sticker", "video_note") and self.mime_type:
            obj["mime_type"] = self.mime_type
        return obj

    def as_document(self) -> dict[str, Any]:
        """The Document object Telegram adds next to an Animation."""
        obj = self.base()
        if self.file_name:
            obj["file_name"] = self.file_name
        if self.mime_type:
            obj["mime_type"] = self.mime_type
        return obj


class FileStore:
    """file_id -> bytes registry (not thread-safe on its own: used under the emulator lock)."""

    def __init__(self, salt: str = "") -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0
        self._salt = salt

    def add(
        self,
        kind: str,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
        origin: str = "user",
    ) -> StoredFile:
        """Store bytes as a new file of ``kind`` and return its record."""
        self._counter += 1
        n = self._counter
        digest = hashlib.sha256(f"{self._salt}:{n}:{kind}".encode()).hexdigest()
        folder, ext, default_mime = KINDS[kind]
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1][:8] or ext
        if kind == "photo" and (width is None or height is None):
            width, height = image_size(data) or (800, 600)
        stored = StoredFile(
            file_id=f"EMU{kind[:2].upper()}{n:06d}_{digest[:40]}",
            file_unique_id=f"AQAD{n:06d}{digest[40:46]}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}.{ext}",
            file_name=file_name,
            mime_type=mime_type or (None if kind == "photo" else default_mime),
            width=width,
            height=height,
            duration=duration,
            origin=origin,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def all(self) -> list[StoredFile]:
        return list(self._by_id.values())

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def photo_sizes(self, original: StoredFile) -> list[dict[str, Any]]:
        """PhotoSize list as Telegram sends it: a small thumbnail first, the original last."""
        if original.thumbnails is None:
            w, h = original.width or 800, original.height or 600
            scale = 90 / max(w, h)
            thumb = None
            if scale < 1:
                thumb = self.add(
                    "photo",
                    original.data,
                    width=max(1, round(w * scale)),
                    height=max(1, round(h * scale)),
                    origin=original.origin,
                )
            original.thumbnails = [thumb] if thumb else []
        return [t.as_object() for t in original.thumbnails] + [original.as_object()]
