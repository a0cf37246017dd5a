"""The broadcast progress bar reads as text: not set as code (a monospace block on Telegram)."""

from __future__ import annotations

import time

from emulator.formatting import parse_formatted
from storage.broadcasts import Broadcast, Counts
from workers.broadcaster import progress_text


def test_the_progress_bar_is_plain_text_in_both_languages():
    broadcast = Broadcast(5, "admin", None, 1, "sending", 200, 1, 2, False, time.time(), None, {})
    counts = Counts(200, 98, 2, 95, 1, 3, 1, 0, 0)
    for language in ("vi", "en"):
        body = progress_text(language, broadcast, counts, seconds_left=4.0, final=False)
        assert "<code>" not in body and "<pre>" not in body
        shown, entities = parse_formatted(body, "HTML")
        bar_line = next(line for line in shown.splitlines() if "▓" in line)
        assert bar_line == "▓▓▓▓▓░░░░░ 50%"
        assert not any(e["type"] in ("code", "pre") for e in entities)
