"""Catalog texts of times people read and of counts too small to show.

Merged into `texts.catalog.MESSAGES`; same rules: Vietnamese first, HTML templates, values
escaped by `texts.catalog.text`.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    # On the card and /tip, under "When": the exact moment the tip reached the line.
    "card_received": {"vi": "<b>Nhận lúc:</b> {time}", "en": "<b>Received:</b> {time}"},
    # Added to the broadcast's final report.
    "broadcast_report_times": {
        "vi": "Bắt đầu: {start} · kết thúc: {end}",
        "en": "Started: {start} · ended: {end}",
    },
}
