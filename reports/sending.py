"""A period's numbers sent to a chat: the text, then the chart (for `/stats` and the monthly
review alike)."""

from __future__ import annotations

import asyncio

from telegram import Bot

from reports.chart import render_chart
from reports.stats import StatsReport, chart_caption, report_text
from rules.areas import Areas
from texts.catalog import Html


async def send_report(
    bot: Bot,
    chat_id: int,
    language: str,
    report: StatsReport,
    areas: Areas,
    *,
    intro: Html | None = None,
) -> None:
    """The text, then the chart (drawn in a thread, so other chats are not held up)."""
    body = report_text(language, report, areas)
    await bot.send_message(chat_id, Html((intro or "") + body))
    picture = await asyncio.to_thread(render_chart, report, language, areas)
    await bot.send_photo(
        chat_id, picture, caption=chart_caption(language, report),
        filename="tipline-stats.png",
    )
