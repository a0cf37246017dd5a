"""Small counts shown coarsely, wherever campaign numbers are shown (/campaign, /stats, the
monthly review, the spreadsheet).

A campaign link sent to one person must not reveal, by a count going from 0 to 1, that this
person opened it or reported. The rule, the same in every view:

- **Parts.** The counters are the (campaign, category) pairs, openings and tips apart. A part is
  shown exactly from `SMALL_COUNT` up and as "fewer than 5" below, 0 included (`coarse`): 0 and 1
  read the same, so a fresh campaign shows nothing when its first person opens it.
- **Totals.** A total is shown only when every part it sums is itself shown exactly (each at
  least `SMALL_COUNT`); otherwise it is left out (`total` gives None), never rounded. A total
  rounded by the same rule would still leak: parts "fewer than 5" of 5 (padded) and 1 (the target)
  make a total of 6, and even a total shown only as "fewer than 5" or not tells, once it crosses 5,
  that the small parts grew. A total that is either exact (all parts exact) or absent (some part
  small) is a function of the shown parts, so it tells nothing they do not.
- **Which campaigns.** A campaign is named in a list only when one of its parts is shown exactly
  (`listed`): a campaign whose counters are all small is not named, or its appearing would be the
  0 to 1 step again. Lists are ordered by what is shown (`shown_sum`, then the code), not by the
  exact counts.
- **No total over campaigns.** A total over every campaign has among its parts the counters of
  codes nobody has opened yet (0, so small): it would be left out by the rule above, always, and
  it is not shown.

So everything shown anywhere is a function of the parts as shown, and no two views (or two
moments) combine to an exact small count. The known limit: whoever can raise a counter (anyone
can open a link; sending tips is seen by officers) can pad it to 4 and watch for 5; no threshold
defeats that on that counter (docs/campaign.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.campaigns import CampaignCount
from texts.catalog import plain

SMALL_COUNT = 5


def is_exact(count: int) -> bool:
    """Whether `count` is shown as it is (from SMALL_COUNT up)."""
    return count >= SMALL_COUNT


def coarse(count: int, language: str) -> str:
    """`count` as shown to staff: exact from SMALL_COUNT up, "fewer than 5" below, 0 included."""
    if not is_exact(count):
        return plain(language, "campaign_few_tips", limit=SMALL_COUNT)
    return str(count)


def total(parts: Iterable[int]) -> int | None:
    """The sum of `parts` when every part is shown exactly, else None (left out, not rounded).

    `parts` must be every counter the total sums, those at 0 included (a category nobody opened
    is a part at 0): a part left out would hide that it is small."""
    values = list(parts)
    if not all(is_exact(p) for p in values):
        return None
    return sum(values)


def coarse_total(parts: Iterable[int], language: str) -> str:
    """`total` as text: the sum, or "not shown" when a part is under SMALL_COUNT."""
    return total_text(total(parts), language)


def listed(parts: Iterable[int]) -> bool:
    """Whether a campaign with these counters (openings and tips) may be named in a list."""
    return any(is_exact(p) for p in parts)


def shown_sum(parts: Iterable[int]) -> int:
    """The sum of the parts shown exactly: a ranking key that depends only on what is shown."""
    return sum(p for p in parts if is_exact(p))


@dataclass(frozen=True)
class ShownCampaign:
    """A campaign as a list shows it: its totals (None when left out) and its ranking key."""

    campaign: str
    starts: int | None
    tips: int | None
    #: (shown openings, shown tips): sums of the exact parts only
    rank: tuple[int, int]


def shown_campaigns(
    rows: Iterable[CampaignCount], categories: Iterable[str]
) -> list[ShownCampaign]:
    """The campaigns of `rows` (per category counters) a list may name, with their totals by
    the rule above (every category of `categories` is a part, at 0 when it has no row), most
    shown openings first, then by code."""
    by_campaign: dict[str, dict[str, CampaignCount]] = {}
    for row in rows:
        by_campaign.setdefault(row.campaign, {})[row.category] = row
    shown = []
    for campaign, counts in by_campaign.items():
        names = list(dict.fromkeys([*categories, *counts]))
        starts = [counts[c].starts if c in counts else 0 for c in names]
        tips = [counts[c].tips if c in counts else 0 for c in names]
        if not listed([*starts, *tips]):
            continue
        shown.append(ShownCampaign(campaign, total(starts), total(tips),
                                   (shown_sum(starts), shown_sum(tips))))
    return sorted(shown, key=lambda c: (-c.rank[0], -c.rank[1], c.campaign))


def total_text(value: int | None, language: str) -> str:
    """A total from `total` (or `ShownCampaign`) as text: the number, or "not shown"."""
    return plain(language, "count_total_hidden") if value is None else str(value)
