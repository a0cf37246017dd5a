"""The report's step keyboards are built once per shape and shared (handlers/resident/report.py
`_keyboard_for`), except the evidence step with files, whose buttons name them."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from handlers.resident.report import _keyboard_for
from handlers.shared.flows import ReportDraft
from rules.areas import Area, Areas

AREAS = Areas([Area(f"a{n}", f"Xã {n}", f"Commune {n}") for n in range(20)])


def services(max_attachments: int = 5) -> Any:
    return SimpleNamespace(areas=AREAS, config=SimpleNamespace(max_attachments=max_attachments))


def data(markup: Any) -> list[str]:
    return [b.callback_data for row in markup.inline_keyboard for b in row]


def test_the_same_step_shares_one_keyboard_and_each_shape_has_its_own() -> None:
    draft = ReportDraft(step="area")
    first = _keyboard_for(draft, "vi", services())
    assert _keyboard_for(draft, "vi", services()) is first
    assert _keyboard_for(draft, "en", services()) is not first
    next_page = _keyboard_for(replace(draft, area_page=1), "vi", services())
    assert data(next_page) != data(first) and "r:ap:0" in data(next_page)
    text = ReportDraft(step="text")
    assert "r:text:done" not in data(_keyboard_for(text, "vi", services()))
    assert "r:text:done" in data(_keyboard_for(replace(text, text=("x",)), "vi", services()))
    choosing = ReportDraft(step="summary", choosing_edit=True)
    assert "r:edit:evidence" in data(_keyboard_for(choosing, "vi", services()))
    assert "r:edit:evidence" not in data(_keyboard_for(choosing, "vi", services(0)))


def test_the_evidence_step_with_files_is_built_for_them() -> None:
    draft = ReportDraft(step="evidence", attachments=({"n": 1, "undecided": "tok1"},))
    keyboard = _keyboard_for(draft, "vi", services())
    assert "r:evk:tok1" in data(keyboard)
    other = replace(draft, attachments=({"n": 1, "undecided": "tok2"},))
    assert "r:evk:tok2" in data(_keyboard_for(other, "vi", services()))
    assert data(_keyboard_for(ReportDraft(step="evidence"), "vi", services()))[0] == "r:ev:skip"
