"""Tests of the tip card an officer receives: long texts split into messages Telegram accepts,
nothing of what the resident wrote lost or interpreted as markup, nothing that identifies them.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.formatting import char_len, parse_formatted
from rules.areas import Areas, load_areas
from storage.tips import Tip
from texts.catalog import LANGUAGES, escape, plain
from views.card import CHUNK, card_texts, chunks

TELEGRAM_LIMIT = 4096
AUTO_DETECTED = frozenset({"bot_command", "url", "mention", "hashtag", "cashtag", "email"})
AREAS: Areas = load_areas(None)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def make_tip(text: str = "Có người bán ma túy ở chợ.", **overrides: Any) -> Tip:
    content = {
        "place": "Gần cầu, thôn 2",
        "location": None,
        "when": "today",
        "text": text,
        "attachments": [],
        "language": "vi",
    }
    content.update(overrides.pop("content", {}))
    fields: dict[str, Any] = {
        "tip_id": 1,
        "ref": "T-7QK2MX",
        "category": "drugs",
        "area": "hong-van",
        "urgent": False,
        "status": "new",
        "created_at": "2024-05-01T19:57:42+00:00",
        "updated_at": "2024-05-01T19:57:42+00:00",
        "content": content,
        "notify_chat": None,
    }
    fields.update(overrides)
    return Tip(**fields)


def shown(message: str) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram shows for an HTML message (raises if it would reject the markup)."""
    return parse_formatted(message, "HTML")


def rejoined(parts: list[str], original: str) -> None:
    """`parts` are `original` cut in order, dropping only spaces and newlines at the cuts."""
    position = 0
    for index, part in enumerate(parts):
        if index:
            while position < len(original) and original[position] in " \n":
                position += 1
        assert original.startswith(part, position), (index, part[:40])
        position += len(part)
    assert position == len(original)


# --- chunks -------------------------------------------------------------------------------------


def test_short_text_is_one_piece() -> None:
    assert chunks("a short tip") == ["a short tip"]
    assert chunks("") == [""]
    assert chunks("x" * CHUNK) == ["x" * CHUNK]


def test_long_text_is_cut_at_a_line_break_when_there_is_one() -> None:
    body = "a" * 60 + " " + "b" * 20 + "\n" + "c" * 10 + " " + "d" * 30
    assert chunks(body, 100) == ["a" * 60 + " " + "b" * 20, "c" * 10 + " " + "d" * 30]


def test_long_text_without_line_breaks_is_cut_between_words() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    parts = chunks(words, 50)
    assert all(len(p) <= 50 for p in parts)
    assert all(re.fullmatch(r"word\d+( word\d+)*", p) for p in parts), parts
    rejoined(parts, words)


def test_text_without_spaces_is_cut_at_the_limit() -> None:
    assert chunks("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


@settings(max_examples=200, deadline=None)
@given(
    body=st.text(alphabet=st.sampled_from("ab <&\nđ😀"), max_size=1500),
    size=st.integers(min_value=2, max_value=400),
)
def test_chunks_stay_under_the_limit_and_lose_nothing(body: str, size: int) -> None:
    parts = chunks(body, size)
    assert all(len(p) <= size for p in parts)
    rejoined(parts, body)


# --- the card -----------------------------------------------------------------------------------


LONG_TEXTS = {
    "words": ("Tôi thấy 1 < 2 & <b>kẻ</b> bán ma túy; A&B <script> " * 200)[:8000],
    "lines": ("dòng <i>một</i> & hai\n" * 400)[:8000],
    "one word": ("<&" * 4000)[:8000],
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(LONG_TEXTS))
def test_a_long_tip_arrives_in_messages_telegram_accepts(language: str, kind: str) -> None:
    body = LONG_TEXTS[kind]
    tip = make_tip(
        body,
        urgent=True,
        content={
            "when": "now",
            "location": {"lat": 16.2, "lon": 107.3},
            "attachments": [{"kind": "photo", "file_id": f"file-{i}"} for i in range(10)],
        },
    )
    messages = card_texts(tip, language, AREAS, zone=ZONE)
    pieces = chunks(body)
    assert len(messages) == len(pieces) > 1
    for number, (message, piece) in enumerate(zip(messages, pieces, strict=True), start=1):
        text, entities = shown(message)
        assert char_len(text) <= TELEGRAM_LIMIT, (number, char_len(text))
        assert escape(piece) in message  # escaped, not interpreted
        assert text.endswith(piece.strip())  # shown exactly as the resident typed it
        markup = [e for e in entities if e["type"] not in AUTO_DETECTED]
        assert all(e["offset"] + e["length"] <= len(text) - len(piece) for e in markup)
        if number > 1:
            assert f"{tip.ref}" in text and f"{number}/{len(pieces)}" in text
    rejoined(pieces, body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_place_and_a_long_text_still_fit(language: str) -> None:
    tip = make_tip(
        LONG_TEXTS["words"],
        urgent=True,
        content={"place": "Gần cầu <treo> & chợ" * 25, "location": {"lat": 1.0, "lon": 2.0}},
    )
    assert len(tip.content["place"]) == 500
    for message in card_texts(tip, language, AREAS, zone=ZONE):
        assert char_len(shown(message)[0]) <= TELEGRAM_LIMIT


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_short_tip_is_one_card_with_everything(language: str) -> None:
    tip = make_tip(
        "Có người bán <ma túy> & đánh bạc",
        urgent=True,
        content={
            "place": "Chợ <A Lưới> & bến xe",
            "when": "now",
            "location": {"lat": 16.2, "lon": 107.3},
            "attachments": [{"kind": "photo", "file_id": "a"}, {"kind": "voice", "file_id": "b"}],
        },
    )
    (message,) = card_texts(tip, language, AREAS, zone=ZONE)
    text, _ = shown(message)
    assert tip.ref in text
    assert plain(language, "cat_drugs") in text
    assert AREAS.name("hong-van", language) in text
    assert plain(language, "when_now") in text
    assert plain(language, "card_pin_follows") in text
    assert "Chợ <A Lưới> & bến xe" in text
    assert "Có người bán <ma túy> & đánh bạc" in text
    assert re.search(r"\b2\b", text)  # two attachments
    assert ("KHẨN" if language == "vi" else "URGENT") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_tip_that_is_not_urgent_says_nothing_of_urgency(language: str) -> None:
    (message,) = card_texts(make_tip(), language, AREAS, zone=ZONE)
    text, _ = shown(message)
    assert "KHẨN" not in text and "URGENT" not in text
    assert plain(language, "card_pin_follows") not in text  # no location was sent


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_details_are_shown_as_not_given(language: str) -> None:
    tip = make_tip(area=None, content={"place": None, "when": None})
    (message,) = card_texts(tip, language, AREAS, zone=ZONE)
    text, _ = shown(message)
    assert plain(language, "area_unsure") in text
    assert text.count(plain(language, "not_given")) == 2


def test_an_area_removed_from_the_file_does_not_break_the_card() -> None:
    (message,) = card_texts(make_tip(area="old-commune"), "en", AREAS, zone=ZONE)
    assert plain("en", "area_unsure") in shown(message)[0]


def test_the_card_carries_nothing_that_identifies_the_resident() -> None:
    tip = make_tip(notify_chat=987654321, content={"language": "en"})
    for language in LANGUAGES:
        for message in card_texts(tip, language, AREAS, zone=ZONE):
            assert "987654321" not in message


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_card_says_when_the_tip_was_received_in_the_districts_time(language: str) -> None:
    # 19:57 UTC on 1 May is 02:57 on 2 May in Vietnam: the officer reads the district's clock.
    (message,) = card_texts(make_tip(), language, AREAS, zone=ZONE)
    text, _ = shown(message)
    assert "02/05/2024 02:57" in text
    assert "19:57" not in text and "2024-05-01" not in text
