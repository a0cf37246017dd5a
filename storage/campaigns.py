"""Campaign counters and the rotation of bundled campaign messages.

Counts only: a campaign link opened adds one to (campaign, category), and a tip sent from a report
that such a link opened adds one to the same pair's tips, in the transaction that stores the tip.
A tip itself does not record the campaign (a link sent to one person would single out their tip),
and nothing here says who opened a link or sent a tip, nor when.
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


async def count_campaign_tip(db: Database, campaign: str, category: str) -> None:
    """One more tip for (campaign, category); run it in the transaction that stores the tip
    (storage.tips.Tips.insert), so the count and the tip are committed together."""
    await db.execute(
        "INSERT INTO campaign_starts (campaign, category, starts, tips) VALUES (?, ?, 0, 1)"
        " ON CONFLICT (campaign, category) DO UPDATE SET tips = campaign_starts.tips + 1",
        (campaign, category),
    )


class Campaigns:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def count_start(self, campaign: str, category: str) -> None:
        await self._db.execute(
            "INSERT INTO campaign_starts (campaign, category, starts) VALUES (?, ?, 1)"
            " ON CONFLICT (campaign, category) DO UPDATE SET starts = campaign_starts.starts + 1",
            (campaign, category),
        )

    async def counts(self, campaign: str) -> list[CampaignCount]:
        """Openings and submitted tips of one campaign, per category (only the ones seen)."""
        rows = await self._db.fetchall(
            "SELECT category, starts, tips FROM campaign_starts WHERE campaign = ?"
            " ORDER BY category",
            (campaign,),
        )
        return [
            CampaignCount(campaign, r["category"], int(r["starts"]), int(r["tips"])) for r in rows
        ]

    async def listed_counts(self, threshold: int, limit: int = 30) -> list[CampaignCount]:
        """Per category, the counters of the campaigns that have one counter (openings or tips)
        of at least `threshold`: the campaigns that views/counts.py lets a list name. The limit
        is on campaigns, the first by code (not by their counts, which a list must not reveal
        through its order or its cut)."""
        rows = await self._db.fetchall(
            "SELECT campaign, category, starts, tips FROM campaign_starts WHERE campaign IN ("
            " SELECT campaign FROM campaign_starts WHERE starts >= ? OR tips >= ?"
            " GROUP BY campaign ORDER BY campaign LIMIT ?)"
            " ORDER BY campaign, category",
            (threshold, threshold, limit),
        )
        return [
            CampaignCount(r["campaign"], r["category"], int(r["starts"]), int(r["tips"]))
            for r in rows
        ]

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
