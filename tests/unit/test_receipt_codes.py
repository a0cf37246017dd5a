"""Tests of receipt code generation and forgiving normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.receipt_codes import (
    ALPHABET,
    RECEIPT_CODE_PATTERN,
    is_canonical_receipt_code,
    new_receipt_code,
    normalise_receipt_code,
)

CANONICAL = "K7QM-4XPA-9TZD"


def test_alphabet_is_crockford() -> None:
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)


@pytest.mark.parametrize(
    "typed",
    [
        "K7QM-4XPA-9TZD",
        "k7qm-4xpa-9tzd",
        "K7qM-4xPa-9TzD",
        "K7QM 4XPA 9TZD",
        "K7QM4XPA9TZD",
        "k7qm4xpa9tzd",
        "  K7QM-4XPA-9TZD \n",
        "K7QM—4XPA–9TZD",  # em dash, en dash
        "K7QM‐4XPA−9TZD",  # hyphen, minus sign
        "K7QM－4XPA＿9TZD",  # full-width hyphen-minus and low line
        "K 7 Q M 4 X P A 9 T Z D",
        "K7Q-M4XPA9-TZD",  # dashes in odd places
        "Ｋ７ＱＭ－４ＸＰＡ－９ＴＺＤ",  # full-width characters
        "K7QM-4XPA-9TZD\t",
    ],
)
def test_accepts_forgiving_input(typed: str) -> None:
    assert normalise_receipt_code(typed) == CANONICAL


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("O0OO-IIII-LLLL", "0000-1111-1111"),
        ("o0oo-iiii-llll", "0000-1111-1111"),
        ("ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN"),
        ("PQRS-TVWX-YZ00", "PQRS-TVWX-YZ00"),
    ],
)
def test_lookalikes(typed: str, expected: str) -> None:
    assert normalise_receipt_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "K7QM-4XPA-9TZU",  # U is not Crockford
        "u7QM-4XPA-9TZD",
        "K7QM-4XPA-9TZ",  # 11 symbols
        "K7QM-4XPA-9TZDA",  # 13 symbols
        "K7QM-4XPA",
        "K7QM-4XPA-9TZ!",
        "K7QM.4XPA.9TZD",  # dots are not separators
        "K7QM-4XPA-9TZĐ",  # Vietnamese Đ
        "K7QM-4XPA-9TZı",  # dotless i would upper() to I
        "К7QM-4XPA-9TZD",  # Cyrillic К
        "K7QM-4XPA-9TZD" * 10,
        "0" * 100,
    ],
)
def test_rejects_invalid(typed: str) -> None:
    assert normalise_receipt_code(typed) is None


def test_compatibility_characters_fold_to_ascii() -> None:
    # NFKC folds the Kelvin sign to ASCII K: a harmless, unambiguous reading.
    assert normalise_receipt_code("K7QM-4XPA-9TZ\u212a") == "K7QM-4XPA-9TZK"


def test_rejects_non_strings() -> None:
    assert normalise_receipt_code(None) is None  # type: ignore[arg-type]
    assert normalise_receipt_code(123) is None  # type: ignore[arg-type]


def test_generated_codes_are_well_formed_and_distinct() -> None:
    codes = {new_receipt_code() for _ in range(10_000)}
    assert len(codes) == 10_000
    for code in codes:
        assert RECEIPT_CODE_PATTERN.match(code)
        assert is_canonical_receipt_code(code)
        assert normalise_receipt_code(code) == code
        assert normalise_receipt_code(code.lower().replace("-", " ")) == code


def test_generated_codes_use_whole_alphabet() -> None:
    seen = set("".join(new_receipt_code() for _ in range(2_000)).replace("-", ""))
    assert seen == set(ALPHABET)


def test_pattern_is_canonical_only() -> None:
    assert RECEIPT_CODE_PATTERN.match(CANONICAL)
    assert not RECEIPT_CODE_PATTERN.match(CANONICAL.lower())
    assert not RECEIPT_CODE_PATTERN.match(CANONICAL + "\n")
    assert not RECEIPT_CODE_PATTERN.match("K7QM4XPA9TZD")
    assert not is_canonical_receipt_code("K7QM-4XPA-9TZU")


#: What a resident may type for one symbol of a code: the symbol itself, its lower case, its
#: look-alike (O for 0, I or L for 1) and the full-width form of any of these.
_SPELLINGS = {
    symbol: sorted({symbol, symbol.lower()} | ({"O", "o"} if symbol == "0" else set())
                   | ({"I", "i", "L", "l"} if symbol == "1" else set()))
    for symbol in ALPHABET
}
_NOISE = st.lists(st.sampled_from(["-", "_", " ", "\n", "\t", "\u00ad", "\u2013", "\u2014",
                                   "\u2212", "\uff0d", "\u30fc", "\u3000"]), max_size=2)


def _full_width(char: str) -> str:
    return chr(ord(char) + 0xFEE0)


@st.composite
def _typed_codes(draw: st.DrawFn) -> tuple[str, str]:
    """(the canonical code, a spelling of it with separators and spaces between symbols)."""
    symbols = draw(st.lists(st.sampled_from(ALPHABET), min_size=12, max_size=12))
    typed = "".join(draw(_NOISE))
    for symbol in symbols:
        char = draw(st.sampled_from(_SPELLINGS[symbol]))
        typed += (_full_width(char) if draw(st.booleans()) else char) + "".join(draw(_NOISE))
    canonical = "-".join("".join(symbols[i : i + 4]) for i in range(0, 12, 4))
    return canonical, typed


@given(_typed_codes())
def test_every_forgiving_spelling_of_a_code_normalises_to_it_and_stays(
    case: tuple[str, str],
) -> None:
    canonical, typed = case
    result = normalise_receipt_code(typed)
    assert result == canonical, typed
    assert is_canonical_receipt_code(result)
    assert normalise_receipt_code(result) == result


@given(_typed_codes(), st.integers(min_value=0), st.text(min_size=1, max_size=3))
def test_normalise_never_crashes_and_is_idempotent(
    case: tuple[str, str], where: int, noise: str
) -> None:
    """A valid spelling with arbitrary characters put in: a code (then canonical and stable)
    or None, never an exception; a symbol of the alphabet put in makes it no code."""
    _canonical, typed = case
    at = where % (len(typed) + 1)
    text = typed[:at] + noise + typed[at:]
    result = normalise_receipt_code(text)
    if result is not None:
        assert is_canonical_receipt_code(result)
        assert normalise_receipt_code(result) == result
    if any(ch in ALPHABET for ch in noise.upper()):
        assert result is None, "thirteen symbols are not a code"


@given(st.text(max_size=70))
def test_normalise_of_any_text_never_crashes(text: str) -> None:
    result = normalise_receipt_code(text)
    assert result is None or normalise_receipt_code(result) == result
