"""Campaign counters and the rotation of bundled campaign messages.

Counts only: a campaign link opened adds one to (campaign, category); submitted tips are counted
from the campaign code a tip carries. Nothing here says who opened a link or sent a tip.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database

ROTATION = "default"


@dataclass(frozen=True)
class CampaignCount:
    campaign: str
    category: str
    starts: int
    tips: int


class Campaigns:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def count_start(self, campaign: str, category: str) -> None:
        await self._db.execute(
            "INSERT INTO campaign_starts (campaign, category, starts) VALUES (?, ?, 1)"
            " ON CONFLICT (campaign, category) DO UPDATE SET starts = starts + 1",
            (campaign, category),
        )

    async def counts(self, campaign: str) -> list[CampaignCount]:
        """Starts and submitted tips of one campaign, per category (only non-zero ones)."""
        starts = {
            r["category"]: int(r["starts"])
            for r in await self._db.fetchall(
                "SELECT category, starts FROM campaign_starts WHERE campaign = ?", (campaign,)
            )
        }
        tips = {
            r["category"]: int(r["n"])
            for r in await self._db.fetchall(
                "SELECT category, count(*) AS n FROM tips WHERE campaign = ? GROUP BY category",
                (campaign,),
            )
        }
        return [
            CampaignCount(campaign, category, starts.get(category, 0), tips.get(category, 0))
            for category in sorted(starts.keys() | tips.keys())
        ]

    async def summary(self, limit: int = 30) -> list[CampaignCount]:
        """Every campaign with its totals (category '*'), most opened first."""
        rows = await self._db.fetchall(
            "SELECT campaign, sum(starts) AS starts, sum(tips) AS tips FROM ("
            " SELECT campaign, starts, 0 AS tips FROM campaign_starts"
            " UNION ALL"
            " SELECT campaign, 0 AS starts, 1 AS tips FROM tips WHERE campaign IS NOT NULL)"
            " GROUP BY campaign ORDER BY starts DESC, tips DESC, campaign LIMIT ?",
            (limit,),
        )
        return [CampaignCount(r["campaign"], "*", int(r["starts"]), int(r["tips"])) for r in rows]

    async def next_in_rotation(self, size: int) -> int:
        """The index of the next bundled message to post, and move on; the caller holds the
        transaction that also creates the broadcast, so a position is never used twice."""
        if size <= 0:
            raise ValueError("the rotation is empty")
        row = await self._db.fetchone(
            "SELECT position FROM campaign_rotation WHERE name = ?", (ROTATION,)
        )
        position = int(row["position"]) if row else 0
        await self._db.execute(
            "INSERT INTO campaign_rotation (name, position) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (ROTATION, position + 1),
        )
        return position % size

    async def rotation_position(self) -> int:
        row = await self._db.fetchone(
            "SELECT position FROM campaign_rotation WHERE name = ?", (ROTATION,)
        )
        return int(row["position"]) if row else 0
