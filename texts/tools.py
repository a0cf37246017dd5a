"""`python -m texts.tools pot | check FILE.po...`: the translators' two commands.

`pot` writes texts/locales/tipline.pot, the template a new language starts from (every message id
of vi.po, untranslated, with who reads it), after a text was added to vi.po. `check` reads
catalogs as the bot will (see texts.catalog.read_catalog) and says what is missing; it exits 1
when a catalog cannot be used. To start a language: copy tipline.pot to `<code>.po`, put the
language's own name in `Language-Team` and its rule in `Plural-Forms`, translate (Poedit or any
gettext editor works), check, and put it in TIPBOT_LANGUAGES_DIR. `pybabel update -i
texts/locales/tipline.pot -o <code>.po` brings an existing translation up to date.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from texts.catalog import LOCALES, SOURCE_LANGUAGE, CatalogError, keys, read_catalog

TEMPLATE = LOCALES / "tipline.pot"


def template_bytes() -> bytes:
    """The template made from vi.po: same ids, order and comments, no translation."""
    with (LOCALES / f"{SOURCE_LANGUAGE}.po").open("rb") as handle:
        source = read_po(handle)
    header = (
        "# The texts of Tipline, to translate: copy to <code>.po (e.g. pac.po),\n"
        "# set Language-Team to the language's own name and Plural-Forms to its\n"
        "# rule, translate every msgstr, check with `python -m texts.tools check`."
    )
    template = Catalog(project=source.project, version=source.version, fuzzy=True,
                       creation_date=source.creation_date, header_comment=header)
    for message in source:
        if message.id:
            empty = ("",) * 2 if message.pluralizable else ""
            template.add(message.id, empty, auto_comments=message.auto_comments)
    buffer = BytesIO()
    write_po(buffer, template, width=100, sort_output=False)
    return buffer.getvalue()


def check(path: Path) -> int:
    try:
        catalog = read_catalog(path, read_catalog(LOCALES / f"{SOURCE_LANGUAGE}.po", None))
    except CatalogError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        return 1
    missing = [key for key in keys() if key not in catalog.texts]
    state = "complete" if not missing else f"{len(missing)} of {len(keys())} texts missing"
    print(f"{path}: {catalog.language.code}, {catalog.language.name}: {state}")
    for key in missing:
        print(f"  missing: {key}")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["pot"]:
        TEMPLATE.write_bytes(template_bytes())
        print(f"wrote {TEMPLATE}")
        return 0
    if len(argv) > 1 and argv[0] == "check":
        return max(check(Path(name)) for name in argv[1:])
    print(__doc__.strip().splitlines()[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
