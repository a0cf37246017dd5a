"""Answering a button press while its work runs.

Telegram wants every press answered (the client shows a spinner until then), but the answer
carries nothing the step's next message depends on. Made one after the other, the answer, the
next prompt and the edit of the previous one are three round trips the resident waits through
on every step; made side by side they cost about one (issue 16, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import CallbackQuery


async def answered_while(query: CallbackQuery, work: Awaitable[None]) -> None:
    """Answer `query` and do `work` at once. The work's error wins; the answer's error is
    raised only after the work succeeded (so a failed answer never cuts a step in half)."""
    answer = asyncio.ensure_future(query.answer())
    try:
        await work
    except BaseException:
        await asyncio.wait([answer])
        if not answer.cancelled():
            answer.exception()  # retrieved: the work's error is the one that matters
        raise
    await answer
