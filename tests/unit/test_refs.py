"""Tip references with room to grow (issue 16): `T-` and two groups of four symbols."""

from __future__ import annotations

import re

from storage.tips import new_ref, normalise_ref


def test_a_new_reference_is_two_groups_of_four_crockford_symbols() -> None:
    refs = {new_ref() for _ in range(200)}
    assert len(refs) == 200
    assert all(re.fullmatch(r"T-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", r) for r in refs)


def test_a_reference_is_found_as_typed() -> None:
    assert normalise_ref("t-7qm4-xpa9") == "T-7QM4-XPA9"
    assert normalise_ref(" T-7QM4XPA9 ") == "T-7QM4-XPA9"
    assert normalise_ref("T-7QM4 XPA9") == "T-7QM4-XPA9"
    assert normalise_ref("t-7qk2mx") == "T-7QK2MX"  # the six symbols of older tips
    assert normalise_ref("7QM4XPA9") == "7QM4XPA9"  # no prefix: left as it is, not found
