"""Catalog texts of the campaign: subscriptions, broadcasts, schedules, campaign links.

Merged into `bot.catalog.MESSAGES`; same rules: Vietnamese first, HTML templates, values
escaped by `bot.catalog.text`.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {}
