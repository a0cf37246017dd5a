"""Every user-facing text, from one gettext catalog per language (`texts/locales/<code>.po`).

Texts are HTML templates for Telegram's HTML parse mode. `text()` is the one place where values
are put into them, and it escapes every value unless the caller marks it as already-safe
`Html` (only ever built from other catalog texts). So a resident who types `<b>` or `1 < 2`
can never break a message or inject formatting into an officer's chat.

The message ids are the keys the code passes (`text(language, "welcome")`). Vietnamese
(`vi.po`) is the source: it defines every id; English ships beside it, and a deployment adds a
language by putting `<code>.po` in `TIPBOT_LANGUAGES_DIR` (read by `add_languages`, at start). A
text a catalog lacks is taken from Vietnamese, never shown as its key. A language is offered by
/language only when its catalog is complete. The language's own name is the catalog's
`Language-Team` header (e.g. `Language-Team: Tiếng Việt`; a contact may follow in `<...>`).

Catalogs are read once (the shipped ones at import, added ones at start), so a call to `text()`
is two dictionary look-ups and a `str.format`.
"""

from __future__ import annotations

import gettext
import html
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from babel.messages.pofile import PoFileError, read_po

#: The catalogs that ship, in this order; Vietnamese is the source and the fallback.
SOURCE_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")
LOCALES = Path(__file__).resolve().with_name("locales")
#: A language code is a catalog's file name: 2 or 3 lower-case letters (ISO 639-1 or -3, so
#: `vi`, `en`, `pac` for Pa Kô, `kuf` for Cơ Tu). storage/ checks the same shape on its own.
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
#: Whose texts an entry is (`#. reader: ...` above every entry of vi.po): residents' texts are
#: read by everyone, officers' by officers and admins, admins' by admins.
READERS = ("resident", "officer", "admin")


class Html(str):
    """Text that is already valid Telegram HTML (built from catalog texts): not escaped again."""

    __slots__ = ()


class CatalogError(Exception):
    """A catalog cannot be used; `problems` has one line each (file and what is wrong)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Language:
    """A loaded catalog: its code, its own name, and whether every text is translated."""

    code: str
    name: str
    complete: bool


#: One text: a template, or the templates of each plural form (chosen by the `count` value).
Entry = str | tuple[str, ...]


@dataclass(frozen=True)
class _Catalog:
    language: Language
    texts: dict[str, Entry]
    plural: Callable[[int], int]
    readers: dict[str, str]


def escape(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode (`<`, `>`, `&` and quotes)."""
    return html.escape(str(value), quote=True)


def _template(language: str, key: str, values: Mapping[str, object]) -> str:
    catalog = _CATALOGS.get(language) or _SOURCE
    entry = catalog.texts.get(key)
    if entry is None:  # not translated (or an unknown language): Vietnamese
        catalog = _SOURCE
        entry = _SOURCE.texts[key]  # an unknown key is a KeyError, as a bug should be
    if type(entry) is str:
        return entry
    forms = entry
    return forms[min(catalog.plural(_count(values.get("count"))), len(forms) - 1)]


def _count(value: object) -> int:
    if isinstance(value, int):
        return value
    digits = str(value)
    return int(digits) if digits.isdecimal() else 0


def text(language: str, key: str, /, **values: object) -> Html:
    """The catalog text `key` in `language` (falling back to Vietnamese), with escaped values."""
    template = _template(language, key, values)
    safe = {k: v if isinstance(v, Html) else escape(v) for k, v in values.items()}
    return Html(template.format(**safe))


def plain(language: str, key: str, /, **values: object) -> str:
    """A catalog text for places without a parse mode (button labels, callback answers)."""
    template = _template(language, key, values)
    return template.format(**{k: str(v) for k, v in values.items()})


def file_kind_label(language: str, kind: str) -> str:
    """A file's kind ("photo", "voice"...) as a person reads it; anything else is a document."""
    for known, key in (
        ("photo", "file_kind_photo"),
        ("video", "file_kind_video"),
        ("voice", "file_kind_voice"),
        ("audio", "file_kind_audio"),
        ("animation", "file_kind_animation"),
        ("video_note", "file_kind_video_note"),
    ):
        if kind == known:
            return plain(language, key)
    return plain(language, "file_kind_document")


def placeholders(template: str) -> set[str]:
    """The `{names}` a template uses; the catalog test checks both languages agree."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --- languages -----------------------------------------------------------------------------


def languages() -> tuple[Language, ...]:
    """Every loaded language: the shipped ones, then those added by the deployment."""
    return tuple(catalog.language for catalog in _CATALOGS.values())


def offered() -> tuple[Language, ...]:
    """The languages /language offers: those whose catalog translates every text."""
    return tuple(language for language in languages() if language.complete)


def is_language(code: object) -> bool:
    """True for the code of a loaded catalog (complete or not)."""
    return isinstance(code, str) and code in _CATALOGS


def pick_language(chosen: str | None, default: str, telegram_code: str | None = None) -> str:
    """The one rule for the language to use for someone.

    Their choice (/language) while its catalog is loaded, else the language their Telegram app
    uses when a complete catalog has it (`pt-br` matches `pt`), else the deployment's default.
    """
    if chosen and chosen in _CATALOGS:
        return chosen
    if telegram_code:
        code = telegram_code.lower().replace("_", "-")
        for language in offered():
            if code == language.code or code.startswith(language.code + "-"):
                return language.code
    return default


def keys() -> tuple[str, ...]:
    """Every message id, in the order of vi.po (grouped by reader)."""
    return tuple(_SOURCE.texts)


def forms(language: str, key: str) -> tuple[str, ...]:
    """The templates `language` has for `key`: one, or one per plural form; () if untranslated."""
    catalog = _CATALOGS.get(language)
    entry = catalog.texts.get(key) if catalog else None
    if entry is None:
        return ()
    return (entry,) if isinstance(entry, str) else entry


def reader_of(key: str) -> str:
    """Who reads `key` first (resident, officer or admin), as vi.po says."""
    return _SOURCE.readers[key]


def is_plural(key: str) -> bool:
    """True when the text has plural forms, chosen by its `count` value."""
    return not isinstance(_SOURCE.texts[key], str)


# --- reading catalogs ----------------------------------------------------------------------


def read_catalog(path: Path, source: _Catalog | None, *, check: bool = True) -> _Catalog:
    """Read and check one `.po` file; CatalogError (one line each problem) when it is unusable.

    Checked: it parses, its header names the language, its plural rule is valid, and each text
    uses exactly the `{values}` of the Vietnamese one (another would crash or drop a value).
    Untranslated and fuzzy entries are left out, so those texts come from Vietnamese.
    `check=False` skips the `{values}` check (the shipped catalogs: tests/unit/test_catalog.py
    checks them, and start-up time matters).
    """
    code = path.stem
    where = str(path)
    if not LANGUAGE_CODE.fullmatch(code):
        raise CatalogError([f"{where}: the file name must be a language code (2 or 3 lower-case"
                            " letters, e.g. pac.po)"])
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=None, abort_invalid=True, charset="utf-8")
    except OSError as error:
        raise CatalogError([f"{where}: cannot be read ({error.strerror or error})"]) from None
    except (PoFileError, UnicodeDecodeError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CatalogError([f"{where}: not a valid gettext catalog ({first})"]) from None
    problems: list[str] = []
    name = (catalog.language_team or "").split("<")[0].strip()
    if not name or name.upper() == "LANGUAGE":
        problems.append(f"{where}: the header must name the language in its own words"
                        " (Language-Team: <name>)")
    try:
        plural = gettext.c2py(catalog.plural_expr)
        plural(1)
    except (ValueError, SyntaxError, TypeError, ZeroDivisionError):
        problems.append(f"{where}: the Plural-Forms header is not a valid plural rule")
        plural = _one_form
    texts: dict[str, Entry] = {}
    readers: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        readers.update((key, c.split(":", 1)[1].strip()) for c in message.auto_comments
                       if c.startswith("reader:"))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            continue
        expected = (
            _placeholders_of(source.texts[key])
            if check and source is not None and key in source.texts else None
        )
        for template in strings if expected is not None else ():
            try:
                used = placeholders(template)
            except ValueError as error:
                problems.append(f"{where}: {key}: a {{value}} is malformed ({error})")
                break
            if expected is not None and used != expected:
                problems.append(f"{where}: {key}: uses {_names(used)} but the Vietnamese text"
                                f" uses {_names(expected)}")
                break
        texts[key] = strings[0] if len(strings) == 1 and not message.pluralizable else strings
    if problems:
        raise CatalogError(problems)
    if source is not None:
        texts = {key: texts[key] for key in source.texts if key in texts}  # vi's order
        complete = len(texts) == len(source.texts)
    else:
        complete = True
    return _Catalog(Language(code, name, complete), texts, plural, readers)


def _one_form(n: int) -> int:
    return 0


def _placeholders_of(entry: Entry) -> set[str]:
    return set().union(*(placeholders(t) for t in ((entry,) if isinstance(entry, str) else entry)))


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"


def add_languages(folder: Path | None) -> tuple[str, ...]:
    """Load every `<code>.po` of `folder` beside the shipped catalogs; their codes.

    Replaces the languages added before (None: only the shipped ones). A shipped code in the
    folder replaces the shipped catalog of that language. CatalogError lists what is wrong.
    """
    added: dict[str, _Catalog] = {}
    if folder is not None:
        try:
            paths = sorted(p for p in folder.iterdir() if p.suffix == ".po")
        except OSError as error:
            raise CatalogError(
                [f"{folder}: cannot be read as a folder ({error.strerror or error})"]
            ) from None
        problems: list[str] = []
        for path in paths:
            try:
                added[path.stem] = read_catalog(path, _SOURCE)
            except CatalogError as error:
                problems.extend(error.problems)
        if problems:
            raise CatalogError(problems)
    _CATALOGS.clear()
    _CATALOGS.update(_SHIPPED)
    _CATALOGS.update(added)
    return tuple(added)


def _load_shipped() -> dict[str, _Catalog]:
    source = read_catalog(LOCALES / f"{SOURCE_LANGUAGE}.po", None)
    shipped = {SOURCE_LANGUAGE: source}
    for code in LANGUAGES[1:]:
        shipped[code] = read_catalog(LOCALES / f"{code}.po", source, check=False)
    return shipped


_SHIPPED = _load_shipped()
_SOURCE = _SHIPPED[SOURCE_LANGUAGE]
_CATALOGS: dict[str, _Catalog] = dict(_SHIPPED)

#: The shipped texts by key and language (plural texts: their first form), read-only.
MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    key: MappingProxyType({
        code: (entry if isinstance(entry, str) else entry[0])
        for code in LANGUAGES
        if (entry := _SHIPPED[code].texts.get(key)) is not None
    })
    for key in _SOURCE.texts
})

CATEGORIES = (
    "drugs",
    "theft",
    "gambling",
    "disorder",
    "fraud",
    "smuggling",
    "forest",
    "domestic",
    "other",
)

STATUSES = ("new", "acknowledged", "verifying", "resolved", "unfounded", "transferred")
