"""The demo people of the sandbox, and the sample photo and location its page can send.

Their ids are fixed so that a kept `--data` folder finds the same officer and the same resident
(and their drafts and language choices) next time.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPerson:
    role: str  # "resident", "officer" or "admin": the pane that plays them
    user_id: int
    first_name: str
    language_code: str = "vi"


RESIDENT = DemoPerson("resident", 5_550_001, "Người dân")
OFFICER = DemoPerson("officer", 5_550_002, "Minh")
ADMIN = DemoPerson("admin", 5_550_003, "Quản trị")
PEOPLE = (RESIDENT, OFFICER, ADMIN)

OFFICER_DISPLAY_NAME = "Cán bộ Minh (demo)"
BOT_USERNAME = "tipline_sandbox_bot"
BOT_FIRST_NAME = "Tipline"

#: Near the centre of A Lưới town (Thừa Thiên Huế), the bundled district.
SAMPLE_LOCATION = {"latitude": 16.2745, "longitude": 107.2287}


@functools.cache
def sample_photo() -> bytes:
    """A small landscape picture (PNG), drawn here so the project ships no binary file."""
    width, height = 360, 240
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # PNG filter type "none" for this row
        for x in range(width):
            rows += bytes(_pixel(x, y, width, height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + _chunk(b"IEND", b"")
    )


def _pixel(x: int, y: int, width: int, height: int) -> tuple[int, int, int]:
    """Sky, sun, two mountain ridges and a river: enough to look like a photo of a place."""
    far = height * 0.45 + 18 * math.sin(x / 37.0) + 9 * math.sin(x / 13.0 + 1.3)
    near = height * 0.62 + 22 * math.sin(x / 53.0 + 2.0) + 6 * math.sin(x / 7.0)
    river = height * 0.84 + 10 * math.sin(x / 45.0)
    if (x - width * 0.78) ** 2 + (y - height * 0.2) ** 2 < 18**2:
        return (255, 214, 120)
    if y < far:
        t = y / far
        return (int(120 + 90 * t), int(170 + 60 * t), int(230 - 10 * t))
    if y < near:
        shade = int(20 * math.sin(x / 5.0 + y / 9.0))
        return (70 + shade // 2, 110 + shade, 95)
    if abs(y - river) < 7:
        return (90, 150, 200)
    shade = int(15 * math.sin(x / 3.0) * math.cos(y / 4.0))
    return (50 + shade, 120 + shade, 60)


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)
