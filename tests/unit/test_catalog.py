"""Tests of the text catalog: every text in both languages, valid Telegram HTML, values escaped,
and every key the code asks for present (a missing key is a crash in front of a resident).

The texts are the gettext catalogs texts/locales/vi.po and en.po, read as the bot reads them
(`texts.catalog`); a plural text is checked in each of its forms.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.formatting import ParseError, char_len, parse_formatted
from handlers.resident.report import EDITABLE, STEPS, WHEN_CHOICES
from storage.staff import PENDING, REACHABLE, UNREACHABLE
from texts.catalog import (
    CATEGORIES,
    LANGUAGES,
    LOCALES,
    READERS,
    STATUSES,
    Html,
    escape,
    forms,
    is_plural,
    keys,
    placeholders,
    plain,
    read_catalog,
    reader_of,
    text,
)
from workers.menus import ADMIN_COMMANDS, OFFICER_COMMANDS, RESIDENT_COMMANDS

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "handlers", "workers", "views", "reports", "rules", "texts", "telegram_api")
CATALOG_FUNCTIONS = frozenset({"text", "plain"})

#: The values each f-string key prefix is combined with in the code. A new prefix in the code
#: makes `test_every_key_the_code_uses_exists` fail until it is listed here.
FOLLOWUPS = ("anon", "notify")  # the follow-up choices: r:fu:anon, r:fu:notify
STAFF_CHANGES = ("deactivate", "reactivate", "promote", "demote")  # handlers/admin/officers.py
PREFIX_VALUES: dict[str, tuple[str, ...]] = {
    "cat_": CATEGORIES,
    "status_": STATUSES,
    "when_": WHEN_CHOICES,
    # the summary step shows the summary itself, every other step asks its question
    "report_ask_": tuple(s for s in STEPS if s != "summary"),
    "report_hint_": STEPS,
    "edit_": EDITABLE,
    "cmd_": RESIDENT_COMMANDS + OFFICER_COMMANDS + ADMIN_COMMANDS,
    "followup_": FOLLOWUPS,
    "receipt_followup_": FOLLOWUPS,
    "reach_": (PENDING, REACHABLE, UNREACHABLE),
    "officers_done_": STAFF_CHANGES,
}

#: Entities Telegram finds in plain text by itself (not formatting a value could inject).
AUTO_DETECTED = frozenset({"bot_command", "url", "mention", "hashtag", "cashtag", "email"})
SAMPLE = 'Sample <b>bold</b> & "quoted" 1 < 2'


def html(message: str) -> str:
    """The text Telegram shows for `message` in HTML parse mode; ParseError if it rejects it."""
    shown, _entities = parse_formatted(message, "HTML")
    return shown


KEYS = sorted(keys())
#: The counts that pick each plural form of the shipped languages (vi has one, en two).
COUNTS = (0, 1, 2, 5)


def templates(language: str, key: str) -> tuple[str, ...]:
    """Every template of `key` in `language`: one, or one per plural form."""
    return forms(language, key)


def rendered(language: str, key: str, count: int = 5) -> Html:
    values: dict[str, object] = dict.fromkeys(placeholders(templates("vi", key)[0]), SAMPLE)
    if is_plural(key):
        values["count"] = count
    return text(language, key, **values)


# --- completeness -------------------------------------------------------------------------------


def missing_texts(language: str) -> list[str]:
    """The message ids of vi.po that `language` does not translate (or leaves empty)."""
    catalog = read_catalog(LOCALES / f"{language}.po", None)
    plural_forms = {"vi": 1, "en": 2}[language]
    wrong = []
    for key in KEYS:
        entry = catalog.texts.get(key)
        found = (entry,) if isinstance(entry, str) else entry or ()
        if not found or not all(t.strip() for t in found):
            wrong.append(f"{key}: no {language} text")
        elif is_plural(key) and len(found) != plural_forms:
            wrong.append(f"{key}: {len(found)} plural forms in {language}, not {plural_forms}")
    return wrong


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_id_has_a_vietnamese_and_an_english_text(language: str) -> None:
    wrong = missing_texts(language)
    assert not wrong, "\n".join(wrong)


def test_a_message_id_without_an_english_text_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the check above: an id left untranslated (or absent) in en.po is found."""
    po = (LOCALES / "en.po").read_text(encoding="utf-8")
    assert 'msgid "btn_send"\nmsgstr "📨 Send the report"' in po
    po = po.replace('msgid "btn_send"\nmsgstr "📨 Send the report"', 'msgid "btn_send"\nmsgstr ""')
    po = po.replace('msgid "btn_skip"\nmsgstr "Skip"\n', "")
    (tmp_path / "en.po").write_text(po, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.LOCALES", tmp_path)
    assert missing_texts("en") == ["btn_send: no en text", "btn_skip: no en text"]


@pytest.mark.parametrize("key", KEYS)
def test_every_text_exists_in_vietnamese_and_english(key: str) -> None:
    for language in LANGUAGES:
        found = templates(language, key)
        assert found, f"{key} is missing in {language}"
        for template in found:
            assert isinstance(template, str)
            assert template.strip(), f"{key} is empty in {language}"


@pytest.mark.parametrize("key", KEYS)
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    (vietnamese,) = templates("vi", key)
    for template in templates("en", key):
        assert placeholders(vietnamese) == placeholders(template)


@pytest.mark.parametrize("key", KEYS)
def test_placeholders_are_plain_names(key: str) -> None:
    """A format spec such as `{count:d}` would crash on the escaped (string) value."""
    for language in LANGUAGES:
        for template in templates(language, key):
            for _literal, name, spec, conversion in string.Formatter().parse(template):
                if name is not None:
                    assert name.isidentifier(), (key, language, name)
                    assert not spec and conversion is None, (key, language, name)


@pytest.mark.parametrize("key", [key for key in KEYS if is_plural(key)])
def test_a_plural_text_is_chosen_by_its_count(key: str) -> None:
    assert "count" in placeholders(templates("vi", key)[0])
    one, many = templates("en", key)
    assert plain("en", key, count=1, **_others(key)) == one.format(count=1, **_others(key))
    assert plain("en", key, count=2, **_others(key)) == many.format(count=2, **_others(key))
    assert plain("en", key, count=0, **_others(key)) == many.format(count=0, **_others(key))


def _others(key: str) -> dict[str, str]:
    return dict.fromkeys(placeholders(templates("vi", key)[0]) - {"count"}, "x")


def test_there_are_plural_texts() -> None:
    assert {"card_spoken", "report_spoken"} <= {k for k in KEYS if is_plural(k)}
    assert plain("en", "report_spoken", count=1) == "🎙 1 voice note"
    assert plain("en", "report_spoken", count=3) == "🎙 3 voice notes"
    assert plain("vi", "report_spoken", count=1) == "🎙 1 tin nhắn thoại"  # one form in vi


@pytest.mark.parametrize("key", KEYS)
def test_every_text_says_who_reads_it(key: str) -> None:
    assert reader_of(key) in READERS


def test_placeholders_finds_the_names_of_a_template() -> None:
    assert placeholders("<b>{ref}</b> {part}/{parts} {ref}") == {"ref", "part", "parts"}
    assert placeholders("no values") == set()


def test_every_category_and_status_has_a_label() -> None:
    for category in CATEGORIES:
        assert f"cat_{category}" in KEYS
    for status in STATUSES:
        assert f"status_{status}" in KEYS


def test_spec_categories_and_statuses() -> None:
    assert set(CATEGORIES) == {
        "drugs", "theft", "gambling", "disorder", "fraud", "smuggling", "forest", "domestic",
        "other",
    }  # fmt: skip
    assert set(STATUSES) == {
        "new",
        "acknowledged",
        "verifying",
        "resolved",
        "unfounded",
        "transferred",
    }


@pytest.mark.parametrize("name", RESIDENT_COMMANDS + OFFICER_COMMANDS + ADMIN_COMMANDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_command_descriptions_fit_telegrams_menu(name: str, language: str) -> None:
    description = plain(language, f"cmd_{name}")
    assert 1 <= len(description) <= 256


# --- valid HTML and escaping --------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_valid_telegram_html(key: str, language: str) -> None:
    for count in COUNTS if is_plural(key) else (5,):
        message = rendered(language, key, count)
        try:
            shown = html(message)
        except ParseError as error:
            pytest.fail(f"{key} ({language}) is not valid Telegram HTML: {error}")
        assert char_len(shown) <= 4096
        names = placeholders(templates(language, key)[0]) - ({"count"} if is_plural(key) else set())
        if names:
            assert SAMPLE in shown  # the value is shown as typed, not interpreted


@pytest.mark.parametrize(
    "value",
    ["<b>", "&", "<script>alert(1)</script>", "1 < 2", "a > b", "&amp;", 'say "hi"', "it's"],
)
def test_values_are_escaped_and_shown_as_typed(value: str) -> None:
    message = text("en", "area_item", name=value)
    assert "<" not in message and ">" not in message
    assert html(message) == value


def test_values_cannot_inject_formatting() -> None:
    body = "<b>bold</b> <i>it</i> <a href='https://example.org'>link</a> <code>x</code>"
    message = text("vi", "card_addition", ref="T-1", body=body)
    shown, entities = parse_formatted(message, "HTML")
    assert body in shown
    markup = [e["type"] for e in entities if e["type"] not in AUTO_DETECTED]
    assert markup == ["bold"]  # only the catalog's own <b>


def test_html_values_are_not_escaped_again() -> None:
    inner = text("en", "card_urgent")
    message = text("en", "areas_list", count=1, lines=Html(inner))
    assert inner in message
    assert "URGENT" in html(message)
    assert "&lt;b&gt;" not in message


def test_a_plain_string_with_markup_is_escaped() -> None:
    message = text("en", "areas_list", count=1, lines="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in message


def test_escape_handles_non_strings() -> None:
    assert escape(3) == "3"
    assert escape(None) == "None"
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_unknown_language_falls_back_to_vietnamese() -> None:
    assert text("fr", "not_allowed") == templates("vi", "not_allowed")[0] == "Không được phép."
    assert plain("fr", "not_allowed") == templates("vi", "not_allowed")[0]


def test_plain_does_not_escape() -> None:
    assert plain("en", "area_item", name="a < b") == "a < b"


# --- every key the code asks for exists ---------------------------------------------------------


@dataclass(frozen=True)
class KeyUse:
    where: str
    keys: tuple[str, ...]
    problem: str = ""
    via_plain: bool = False


def _source_files() -> Iterator[Path]:
    for folder in SCANNED:
        yield from sorted((REPO / folder).rglob("*.py"))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _function_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def _strings(node: ast.AST) -> list[str]:
    """The string literals an expression can evaluate to (both branches of `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [value for element in node.elts for value in _strings(element)]
    return []


def _resolve_name(name: str, function: ast.AST | None) -> tuple[list[str], bool]:
    """String literals a local variable holding a key is set to; (values, is_a_parameter)."""
    if function is None:
        return [], False
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    params += [a.arg for a in function.args.kwonlyargs]
    if name in params:
        return [], True
    values: list[str] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            values += _strings(node.value)
        elif isinstance(node, ast.For | ast.comprehension):
            target, source = node.target, node.iter
            if isinstance(target, ast.Name) and target.id == name:
                values += _strings(source)
            elif isinstance(target, ast.Tuple) and isinstance(source, ast.Tuple | ast.List):
                for index, element in enumerate(target.elts):
                    if isinstance(element, ast.Name) and element.id == name:
                        for item in source.elts:
                            if isinstance(item, ast.Tuple | ast.List):
                                values += _strings(item.elts[index])
    return values, False


def _key_helpers(tree: ast.AST) -> dict[str, int]:
    """Functions of a module that pass one of their parameters as the key: {name: position}."""
    helpers: dict[str, int] = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        for call in ast.walk(function):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id in CATALOG_FUNCTIONS
                and len(call.args) > 1
                and isinstance(call.args[1], ast.Name)
                and call.args[1].id in params
            ):
                helpers[function.name] = params.index(call.args[1].id)
    return helpers


def _key_uses(path: Path, root: Path = REPO) -> Iterator[KeyUse]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "texts.catalog"
        for alias in node.names
    }
    if path.name == "catalog.py":
        imported = set(CATALOG_FUNCTIONS)
    positions = {name: 1 for name in CATALOG_FUNCTIONS & imported}
    positions.update(_key_helpers(tree) if positions else {})
    parents = _parents(tree)
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        position = positions.get(call.func.id)
        if position is None or len(call.args) <= position:
            continue
        where = f"{path.relative_to(root)}:{call.lineno}"
        via_plain = call.func.id != "text"
        key = call.args[position]
        if isinstance(key, ast.Constant | ast.IfExp) and _strings(key):
            yield KeyUse(where, tuple(_strings(key)), via_plain=via_plain)
        elif isinstance(key, ast.JoinedStr):
            parts = key.values
            if (
                len(parts) == 2
                and isinstance(parts[0], ast.Constant)
                and isinstance(parts[1], ast.FormattedValue)
            ):
                prefix = parts[0].value
                if prefix in PREFIX_VALUES:
                    keys = tuple(prefix + value for value in PREFIX_VALUES[prefix])
                    yield KeyUse(where, keys, via_plain=via_plain)
                else:
                    yield KeyUse(where, (), f"key prefix {prefix!r}: list its values here")
            else:
                yield KeyUse(where, (), "f-string key not of the form 'prefix_{value}'")
        elif isinstance(key, ast.Name):
            values, is_parameter = _resolve_name(key.id, _function_of(call, parents))
            if is_parameter:
                continue  # a helper; its callers are checked
            if values:
                yield KeyUse(where, tuple(values), via_plain=via_plain)
            else:
                yield KeyUse(where, (), f"cannot tell which keys {key.id!r} holds")
        else:
            yield KeyUse(where, (), f"key given as {type(key).__name__}, not understood")


ALL_USES = [use for path in _source_files() for use in _key_uses(path)]


def test_the_scan_finds_the_key_uses() -> None:
    """Guards the scan itself: it must see the literal, f-string and variable forms."""
    keys = {key for use in ALL_USES for key in use.keys}
    assert len(ALL_USES) > 50
    assert {"welcome", "card", "cat_drugs", "when_now", "edit_text", "cmd_tips"} <= keys
    assert {"invite_all_areas", "status_item_officer", "btn_send"} <= keys


def test_the_scan_reports_a_missing_key_and_an_unknown_prefix(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "from texts.catalog import plain, text\n"
        "def show(language, thing, key):\n"
        "    text(language, 'welcome')\n"
        "    text(language, 'no_such_key')\n"
        "    plain(language, f'cat_{thing}')\n"
        "    plain(language, f'mystery_{thing}')\n"
        "    text(language, key)\n"
        "    label = 'btn_send' if thing else 'btn_nowhere'\n"
        "    plain(language, label)\n",
        encoding="utf-8",
    )
    uses = list(_key_uses(module, tmp_path))
    missing = {key for use in uses for key in use.keys if key not in KEYS}
    assert missing == {"no_such_key", "btn_nowhere"}
    assert [use.where for use in uses if use.problem] == ["sample.py:6"]


def test_every_key_the_code_uses_exists() -> None:
    unclear = [f"{use.where}: {use.problem}" for use in ALL_USES if use.problem]
    assert not unclear, "\n".join(unclear)
    missing = [f"{use.where}: {key}" for use in ALL_USES for key in use.keys if key not in KEYS]
    assert not missing, "\n".join(missing)


def test_texts_shown_without_parse_mode_have_no_markup() -> None:
    """Button labels and menu entries are shown as typed: a tag or entity would show raw."""
    plain_only = {k for use in ALL_USES if use.via_plain for k in use.keys} - {
        k for use in ALL_USES if not use.via_plain for k in use.keys
    }
    marked = [
        f"{key} ({language})"
        for key in sorted(plain_only & set(KEYS))
        for language in LANGUAGES
        for template in templates(language, key)
        if "<" in template or "&" in template
    ]
    assert not marked, marked
