"""Tests of the areas list: the bundled A Lưới communes, and clear errors for a bad areas file."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from rules.areas import Area, Areas, AreasFileError, load_areas, parse_areas

#: A Lưới in 2021 (see the spec's data/a-luoi.md): the town and its 17 communes.
TOWN = "A Lưới"
COMMUNES = (
    "A Ngo", "A Roàng", "Đông Sơn", "Hồng Bắc", "Hồng Hạ", "Hồng Kim", "Hồng Thái",
    "Hồng Thượng", "Hồng Thủy", "Hồng Vân", "Hương Nguyên", "Hương Phong", "Lâm Đớt",
    "Phú Vinh", "Quảng Nhâm", "Sơn Thủy", "Trung Sơn",
)  # fmt: skip


def without_diacritics(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def entry(code: str = "x", vi: str = "Xã X", en: str = "X commune") -> str:
    return f'[[area]]\ncode = "{code}"\nvi = "{vi}"\nen = "{en}"\n'


# --- the bundled list ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> Areas:
    return load_areas(None)


def test_bundled_list_is_the_town_and_the_17_communes(bundled: Areas) -> None:
    assert len(bundled) == 18
    names = [area.vi for area in bundled]
    assert names[0] == f"Thị trấn {TOWN}"
    assert sorted(names[1:]) == sorted(f"Xã {c}" for c in COMMUNES)


def test_bundled_codes_are_well_formed_and_unique(bundled: Areas) -> None:
    codes = bundled.codes
    assert len(set(codes)) == len(codes) == 18
    for code in codes:
        assert re.fullmatch(r"[a-z0-9-]+", code), code


def test_bundled_codes_are_the_names_in_ascii(bundled: Areas) -> None:
    for area in bundled:
        name = area.vi.removeprefix("Thị trấn ").removeprefix("Xã ")
        assert area.code == without_diacritics(name).lower().replace(" ", "-")


def test_english_names_are_vietnamese_without_diacritics(bundled: Areas) -> None:
    for area in bundled:
        if area.vi.startswith("Thị trấn "):
            expected = without_diacritics(area.vi.removeprefix("Thị trấn ")) + " town"
        else:
            assert area.vi.startswith("Xã "), area.vi
            expected = without_diacritics(area.vi.removeprefix("Xã ")) + " commune"
        assert area.en == expected
        assert area.en.isascii()


def test_names_are_shown_in_the_users_language(bundled: Areas) -> None:
    assert bundled.name("hong-van", "vi") == "Xã Hồng Vân"
    assert bundled.name("hong-van", "en") == "Hong Van commune"
    assert bundled.name("a-luoi", "en") == "A Luoi town"
    assert bundled.name("nowhere", "vi") is None
    assert bundled.name(None, "en") is None


def test_lookup_by_code(bundled: Areas) -> None:
    assert "lam-dot" in bundled
    assert "Lam Dot" not in bundled
    assert bundled.get("lam-dot") == Area("lam-dot", "Xã Lâm Đớt", "Lam Dot commune")
    assert bundled.get("nowhere") is None
    assert [a.code for a in bundled] == list(bundled.codes)


# --- a deployment's own file --------------------------------------------------------------------


def test_own_file_replaces_the_bundled_list(tmp_path: Path) -> None:
    path = tmp_path / "areas.toml"
    path.write_text(
        entry("phu-loc", "Xã Phú Lộc", "Phu Loc commune") + entry("ward-1", "Phường 1", "Ward 1"),
        encoding="utf-8",
    )
    areas = load_areas(path)
    assert areas.codes == ("phu-loc", "ward-1")  # in the file's order
    assert areas.name("phu-loc", "vi") == "Xã Phú Lộc"


def test_names_are_trimmed() -> None:
    areas = parse_areas(entry(vi="  Xã X ", en=" X commune  "))
    assert areas.get("x") == Area("x", "Xã X", "X commune")


def test_unreadable_file_is_an_areas_error(tmp_path: Path) -> None:
    with pytest.raises(AreasFileError, match="cannot be read"):
        load_areas(tmp_path / "missing.toml")


def test_file_not_in_utf8_is_an_areas_error(tmp_path: Path) -> None:
    path = tmp_path / "areas.toml"
    path.write_bytes(entry(vi="Xã A").encode("utf-8").replace("ã".encode(), b"\xe3"))
    with pytest.raises(AreasFileError, match=re.escape(str(path))):
        load_areas(path)


def test_bad_toml_names_the_file_and_the_line() -> None:
    with pytest.raises(AreasFileError) as caught:
        parse_areas(entry() + "[[area]]\ncode = x-without-quotes\n", "mine.toml")
    message = str(caught.value)
    assert message.startswith("mine.toml: not valid TOML")
    assert "line 6" in message


@pytest.mark.parametrize("document", ["", "# nothing\n", "[area]\ncode = 'x'\n", "area = []\n"])
def test_file_without_areas_is_refused(document: str) -> None:
    with pytest.raises(AreasFileError, match="no \\[\\[area\\]\\] entries"):
        parse_areas(document, "mine.toml")


def test_entry_that_is_not_a_table_is_named() -> None:
    with pytest.raises(AreasFileError, match="area #2: not a table"):
        parse_areas("area = [{code = 'x', vi = 'X', en = 'X'}, 'y']\n")


def test_duplicate_code_names_the_second_entry() -> None:
    document = entry("a-ngo") + entry("hong-van") + entry("a-ngo", "Xã Khác", "Other commune")
    with pytest.raises(AreasFileError) as caught:
        parse_areas(document, "mine.toml")
    message = str(caught.value)
    assert message.startswith("mine.toml: area #3")
    assert "'a-ngo'" in message and "twice" in message


@pytest.mark.parametrize(
    "code",
    ["Hong-Van", "hong van", "hồng-vân", "hong_van", "", "x" * 25, "hong/van"],
)
def test_bad_code_names_the_entry(code: str) -> None:
    with pytest.raises(AreasFileError, match=r"area #2: code must match \[a-z0-9-\]\+"):
        parse_areas(entry("ok") + entry(code))


@pytest.mark.parametrize("line", ["code = 5", "code = ['x']", ""])
def test_code_that_is_not_text_names_the_entry(line: str) -> None:
    with pytest.raises(AreasFileError, match="area #1: code"):
        parse_areas(f"[[area]]\n{line}\nvi = 'X'\nen = 'X'\n")


def test_code_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(AreasFileError, match="area #1: code"):
        parse_areas('[[area]]\ncode = "abc\\n"\nvi = "X"\nen = "X"\n')


@pytest.mark.parametrize(
    ("lines", "language"),
    [
        ("code = 'x'\nen = 'X commune'", "vi"),
        ("code = 'x'\nvi = 'Xã X'", "en"),
        ("code = 'x'\nvi = '   '\nen = 'X commune'", "vi"),
        ("code = 'x'\nvi = 'Xã X'\nen = 7", "en"),
        (f"code = 'x'\nvi = 'Xã X'\nen = '{'X' * 61}'", "en"),
    ],
)
def test_missing_or_bad_name_names_the_entry_and_language(lines: str, language: str) -> None:
    with pytest.raises(AreasFileError) as caught:
        parse_areas(f"{entry('ok')}[[area]]\n{lines}\n", "mine.toml")
    message = str(caught.value)
    assert message.startswith("mine.toml: area #2 (x):")
    assert f"{language} name" in message


def test_errors_from_a_file_name_its_path(tmp_path: Path) -> None:
    path = tmp_path / "areas.toml"
    path.write_text(entry("BAD"), encoding="utf-8")
    with pytest.raises(AreasFileError, match=re.escape(f"{path}: area #1")):
        load_areas(path)
