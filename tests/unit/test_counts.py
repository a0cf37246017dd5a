"""The rule by which campaign counts are shown (views/counts.py): counts under 5, 0 included,
read "fewer than 5"; a total only when every part it adds up is shown exactly; a list names only
the campaigns with a count of 5 or more, ordered by what is shown. Whatever is shown is a
function of the parts as shown, so no subtraction, between views or moments, gives a small
count."""

from __future__ import annotations

from itertools import product

import pytest

from storage.campaigns import CampaignCount
from views.counts import (
    SMALL_COUNT,
    coarse,
    coarse_total,
    listed,
    shown_campaigns,
    shown_sum,
    total,
    total_text,
)


@pytest.mark.parametrize("count", range(SMALL_COUNT))
def test_zero_and_every_count_under_5_read_fewer_than_5(count):
    assert coarse(count, "vi") == "dưới 5"
    assert coarse(count, "en") == "fewer than 5"


@pytest.mark.parametrize("count", [5, 6, 17, 1200])
def test_from_5_the_count_itself_is_shown(count):
    assert coarse(count, "vi") == coarse(count, "en") == str(count)


def test_a_total_is_shown_only_when_every_part_is_shown_exactly():
    assert total([5, 7, 12]) == 24
    assert total([5, 1]) is None  # 6 would say the "fewer than 5" part is 1
    assert total([5, 0]) is None  # and 5 that it is 0
    assert total([4]) is None and total([0, 0]) is None  # not even "fewer than 5"
    assert coarse_total([5, 5], "vi") == "10"
    assert coarse_total([5, 4], "vi") == coarse_total([5, 4], "en") == "—"
    assert total_text(None, "vi") == "—" and total_text(9, "en") == "9"


def test_lists_and_rankings_use_the_shown_parts_only():
    assert not listed([0, 4, 4]) and listed([0, 5])
    assert shown_sum([5, 4, 7, 0]) == 12


def rows(campaign: str, values: dict[str, tuple[int, int]]) -> list[CampaignCount]:
    return [CampaignCount(campaign, c, s, t) for c, (s, t) in values.items()]


def test_the_attack_a_padded_category_and_one_person_change_nothing_shown():
    # The admin pads drugs with 5 openings; the target then opens theft once and reports.
    before = rows("x1", {"drugs": (5, 0)})
    after = rows("x1", {"drugs": (5, 0), "theft": (1, 1)})
    assert shown_campaigns(before, ("drugs", "theft")) == shown_campaigns(
        after, ("drugs", "theft"))
    shown = shown_campaigns(after, ("drugs", "theft"))
    assert [(c.campaign, c.starts, c.tips) for c in shown] == [("x1", None, None)]
    # A fresh campaign that one person opened is not named at all.
    assert shown_campaigns(rows("y1", {"drugs": (1, 1)}), ("drugs", "theft")) == []


def test_a_category_without_a_row_is_a_part_at_zero():
    # drugs and theft both at 5, forest never opened: no total (it would say forest is 0).
    both = rows("z", {"drugs": (5, 5), "theft": (6, 5)})
    assert shown_campaigns(both, ("drugs", "theft", "forest"))[0].starts is None
    assert shown_campaigns(both, ("drugs", "theft"))[0].starts == 11
    assert shown_campaigns(both, ("drugs", "theft"))[0].tips == 10


def test_campaigns_are_ordered_by_what_is_shown_then_by_code():
    data = [*rows("b", {"drugs": (5, 0), "theft": (4, 0)}),
            *rows("a", {"drugs": (5, 0), "theft": (0, 0)}),
            *rows("c", {"drugs": (9, 0)})]
    # b's 4 and a's 0 are both "fewer than 5": they tie and go by code.
    assert [c.campaign for c in shown_campaigns(data, ("drugs", "theft"))] == ["c", "a", "b"]


def test_everything_shown_follows_from_the_parts_as_shown():
    """Every pair of counters that reads the same per part gives the same list, totals and
    ranking: no view adds anything to the parts."""
    values = (0, 1, 4, 5, 6)
    seen: dict[tuple[str, ...], object] = {}
    for a_starts, a_tips, b_starts, b_tips in product(values, repeat=4):
        data = rows("k", {"drugs": (a_starts, a_tips), "theft": (b_starts, b_tips)})
        parts = tuple(coarse(v, "en") for v in (a_starts, a_tips, b_starts, b_tips))
        shown = (shown_campaigns(data, ("drugs", "theft")),
                 coarse_total([a_starts, b_starts], "en"), coarse_total([a_tips, b_tips], "en"))
        assert seen.setdefault(parts, shown) == shown, parts
