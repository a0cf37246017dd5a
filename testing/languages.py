"""Translation catalogs for tests: a deployment's added language, made from vi.po."""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from texts.catalog import LOCALES


def write_catalog(
    folder: Path, code: str, name: str, *, mark: str, leave_out: Iterable[str] = ()
) -> Path:
    """`folder/<code>.po`: every Vietnamese text with `mark` in front, named `name` in its
    header; the ids in `leave_out` untranslated (an incomplete catalog)."""
    with (LOCALES / "vi.po").open("rb") as source:
        catalog = read_po(source)
    catalog.language_team = name
    skipped = set(leave_out)
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if isinstance(message.string, tuple):
            message.string = tuple("" if key in skipped else mark + s for s in message.string)
        else:
            message.string = "" if key in skipped else mark + message.string
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}.po"
    buffer = BytesIO()
    write_po(buffer, catalog, width=100)
    header = f'"Language: {code}\\n"'.encode()
    path.write_bytes(buffer.getvalue().replace(b'"Language: vi\\n"', header))
    return path
