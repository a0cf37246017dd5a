"""Languages a deployment adds (SPEC "Languages"): one `<code>.po` in TIPBOT_LANGUAGES_DIR.

A complete catalog is offered and used; an incomplete one's missing texts are Vietnamese, never a
key; a catalog that cannot be used is one line of configuration problem. The language to use for
someone is decided by one rule (`pick_language`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.config import ConfigError, load_config
from testing.languages import write_catalog
from texts import tools
from texts.catalog import (
    LANGUAGES,
    LOCALES,
    CatalogError,
    add_languages,
    forms,
    is_language,
    keys,
    languages,
    offered,
    pick_language,
    placeholders,
    plain,
    text,
)

KEY = "A" * 43 + "="  # base64 of 32 bytes
ENV = {"TIPBOT_TOKEN": "1:a", "TIPBOT_KEY": KEY}


@pytest.fixture(autouse=True)
def shipped_only() -> Iterator[None]:
    """Each test starts and ends with only the shipped catalogs (they are process-wide)."""
    add_languages(None)
    yield
    add_languages(None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "languages"
    write_catalog(folder, "pac", "Pa Kô", mark="[pac] ")
    write_catalog(folder, "kuf", "Cơ Tu", mark="[kuf] ", leave_out=("btn_send", "welcome"))
    return folder


def test_the_shipped_languages_are_vietnamese_and_english_by_their_own_names() -> None:
    assert [(x.code, x.name, x.complete) for x in languages()] == [
        ("vi", "Tiếng Việt", True), ("en", "English", True)]
    assert [x.code for x in offered()] == list(LANGUAGES) == ["vi", "en"]


def test_a_complete_added_catalog_is_offered_and_used(folder: Path) -> None:
    assert add_languages(folder) == ("kuf", "pac")
    assert [(x.code, x.name) for x in offered()] == [
        ("vi", "Tiếng Việt"), ("en", "English"), ("pac", "Pa Kô")]
    assert text("pac", "btn_send") == "[pac] " + text("vi", "btn_send")
    assert plain("pac", "report_spoken", count=3) == "[pac] 🎙 3 tin nhắn thoại"
    assert text("pac", "card_addition", ref="T-1", body="<b>") .endswith("&lt;b&gt;")


def test_an_incomplete_catalog_is_not_offered_and_falls_back_to_vietnamese(folder: Path) -> None:
    add_languages(folder)
    kuf = next(x for x in languages() if x.code == "kuf")
    assert not kuf.complete and kuf.name == "Cơ Tu"
    assert "kuf" not in {x.code for x in offered()}
    assert is_language("kuf")  # still usable, e.g. as TIPBOT_LANGUAGE
    assert text("kuf", "btn_send") == text("vi", "btn_send") == "📨 Gửi tin báo"
    assert text("kuf", "welcome") == text("vi", "welcome")
    assert text("kuf", "btn_skip") == "[kuf] Bỏ qua"
    for key in keys():  # never a key name, in any language
        for code in ("vi", "en", "pac", "kuf"):
            assert plain(code, key, **_values(key)) != key


def _values(key: str) -> dict[str, object]:
    return dict.fromkeys(placeholders(forms("vi", key)[0]), 2)


def test_adding_again_replaces_the_added_languages(folder: Path) -> None:
    add_languages(folder)
    add_languages(None)
    assert not is_language("pac")
    assert text("pac", "btn_send") == "📨 Gửi tin báo"


def test_the_one_rule_for_the_language_to_use(folder: Path) -> None:
    add_languages(folder)
    assert pick_language("en", "vi", "pac") == "en"  # the choice first
    assert pick_language("pac", "vi") == "pac"
    assert pick_language("xx", "vi") == "vi"  # a catalog since removed
    assert pick_language(None, "vi", "en-US") == "en"  # then the Telegram app's language
    assert pick_language(None, "vi", "EN") == "en"
    assert pick_language(None, "en", "pac") == "pac"  # an added complete language too
    assert pick_language(None, "en", "kuf") == "en"  # not an incomplete one
    assert pick_language(None, "en", "fr") == "en"  # else the default
    assert pick_language(None, "en", None) == "en"
    assert pick_language("", "vi", "") == "vi"


def test_the_configuration_reads_the_folder_and_accepts_its_languages(folder: Path) -> None:
    config = load_config({**ENV, "TIPBOT_LANGUAGES_DIR": str(folder), "TIPBOT_LANGUAGE": "pac"})
    assert config.languages_dir == folder
    assert config.language == "pac"
    assert is_language("pac")
    with pytest.raises(ConfigError) as error:
        load_config({**ENV, "TIPBOT_LANGUAGE": "pac"})  # not without the folder
    assert error.value.problems == ["TIPBOT_LANGUAGE: 'pac' is not one of vi, en"]


def problems(tmp_path: Path, name: str, po: str) -> list[str]:
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(po, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config({**ENV, "TIPBOT_LANGUAGES_DIR": str(folder)})
    return error.value.problems


HEADER = ('msgid ""\nmsgstr ""\n"Language-Team: Pa Kô\\n"\n'
          '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n')


def test_a_folder_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config({**ENV, "TIPBOT_LANGUAGES_DIR": str(tmp_path / "nowhere")})
    (line,) = error.value.problems
    assert line.startswith(f"TIPBOT_LANGUAGES_DIR: {tmp_path / 'nowhere'}: cannot be read")
    assert not is_language("pac")


@pytest.mark.parametrize(
    ("name", "po", "says"),
    [
        ("pac.po", "this is not a catalog\n", "not a valid gettext catalog"),
        ("pac.po", 'msgid "btn_send"\nmsgstr "x"\n', "must name the language"),
        ("pac.po", HEADER + 'msgid "btn_send"\nmsgstr "{oops}"\n',
         "btn_send: uses {oops} but the Vietnamese text uses none"),
        ("pac.po", HEADER + 'msgid "report_receipt"\nmsgstr "no code"\n', "report_receipt: uses"),
        ("pac.po", HEADER + 'msgid "btn_send"\nmsgstr "{"\n', "btn_send: a {value} is malformed"),
        ("pac.po", HEADER.replace("plural=0", "plural=n +* 1") + 'msgid "a"\nmsgstr "b"\n',
         "Plural-Forms"),
        ("Pa-Ko.po", HEADER, "the file name must be a language code"),
    ],
)
def test_a_catalog_that_cannot_be_used_is_one_line(
    tmp_path: Path, name: str, po: str, says: str
) -> None:
    (line,) = problems(tmp_path, name, po)
    assert line.startswith(f"TIPBOT_LANGUAGES_DIR: {tmp_path / 'bad' / name}: ")
    assert says in line
    assert "\n" not in line
    assert not is_language("pac")


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "pac.po").write_bytes(HEADER.encode() + b'msgid "btn_send"\nmsgstr "\xff\xfe"\n')
    with pytest.raises(CatalogError) as error:
        add_languages(folder)
    (line,) = error.value.problems
    assert "not a valid gettext catalog" in line


def test_fuzzy_and_empty_texts_are_not_translations(tmp_path: Path) -> None:
    folder = tmp_path / "l"
    folder.mkdir()
    (folder / "pac.po").write_text(
        HEADER + '#, fuzzy\nmsgid "btn_send"\nmsgstr "[pac] maybe"\n\n'
        'msgid "btn_skip"\nmsgstr ""\n\nmsgid "btn_back"\nmsgstr "[pac] back"\n',
        encoding="utf-8",
    )
    add_languages(folder)
    assert text("pac", "btn_send") == text("vi", "btn_send")
    assert text("pac", "btn_skip") == text("vi", "btn_skip")
    assert text("pac", "btn_back") == "[pac] back"
    assert "pac" not in {x.code for x in offered()}


def test_the_template_lists_every_message_id_untranslated() -> None:
    """texts/locales/tipline.pot, the start of a new translation, follows vi.po."""
    with (LOCALES / "tipline.pot").open("rb") as handle:
        template = read_po(handle)
    ids = [m.id[0] if isinstance(m.id, tuple) else m.id for m in template if m.id]
    assert ids == list(keys())
    assert all(not any(m.string) if isinstance(m.string, tuple) else not m.string
               for m in template if m.id)
    assert all(any(c.startswith("reader: ") for c in m.auto_comments) for m in template if m.id)


def test_the_check_command_says_what_is_missing(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tools.main(["check", str(folder / "kuf.po"), str(folder / "pac.po")]) == 0
    out = capsys.readouterr().out
    assert f"{folder / 'kuf.po'}: kuf, Cơ Tu: 2 of {len(keys())} texts missing" in out
    assert "  missing: btn_send\n" in out and "  missing: welcome\n" in out
    assert f"{folder / 'pac.po'}: pac, Pa Kô: complete" in out
    (tmp_path / "xx.po").write_text("nonsense\n", encoding="utf-8")
    assert tools.main(["check", str(tmp_path / "xx.po")]) == 1
    assert "not a valid gettext catalog" in capsys.readouterr().err


def test_the_template_is_what_the_pot_command_writes() -> None:
    assert (LOCALES / "tipline.pot").read_bytes() == tools.template_bytes()
