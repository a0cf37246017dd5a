"""Small counts shown coarsely, wherever campaign numbers are shown (/campaign, /stats).

A campaign link sent to one person must not reveal, by a count going from 0 to 1, that this
person opened it or reported: counts under `SMALL_COUNT` read "fewer than 5".
"""

from __future__ import annotations

from texts.catalog import plain

SMALL_COUNT = 5


def coarse(count: int, language: str) -> str:
    """`count` as shown to staff: exact from SMALL_COUNT up, "fewer than 5" below."""
    if 0 < count < SMALL_COUNT:
        return plain(language, "campaign_few_tips", limit=SMALL_COUNT)
    return str(count)
