"""The areas (communes and towns) a tip can be about, loaded from a TOML file.

Areas are configuration, not data: a deployment replaces the bundled A Lưới list with its own
file (`TIPBOT_AREAS_FILE`) without touching code. Codes are stable identifiers that tips,
officers and statistics refer to; names are shown in the user's language.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

AREA_CODE_PATTERN = re.compile(r"[a-z0-9-]{1,24}")
BUNDLED_AREAS = "areas-a-luoi.toml"


class AreasFileError(Exception):
    """The areas file is unreadable or malformed; the message says where and why."""


@dataclass(frozen=True)
class Area:
    code: str
    vi: str
    en: str

    def name(self, language: str) -> str:
        return self.en if language == "en" else self.vi


class Areas:
    """The ordered, validated list of areas with lookup by code."""

    def __init__(self, areas: list[Area]) -> None:
        self._ordered = tuple(areas)
        self._by_code = {a.code: a for a in areas}

    def __iter__(self) -> Iterator[Area]:
        return iter(self._ordered)

    def __len__(self) -> int:
        return len(self._ordered)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Area | None:
        return self._by_code.get(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self._ordered)

    def name(self, code: str | None, language: str) -> str | None:
        area = self._by_code.get(code or "")
        return area.name(language) if area else None


def parse_areas(text: str, source: str = "areas file") -> Areas:
    """Validate an areas document; every problem names the entry it is in."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AreasFileError(f"{source}: not valid TOML: {error}") from error
    entries = document.get("area")
    if not isinstance(entries, list) or not entries:
        raise AreasFileError(f"{source}: no [[area]] entries")
    areas: list[Area] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: area #{number}"
        if not isinstance(entry, dict):
            raise AreasFileError(f"{where}: not a table")
        code, vi, en = entry.get("code"), entry.get("vi"), entry.get("en")
        if not isinstance(code, str) or not AREA_CODE_PATTERN.fullmatch(code):
            raise AreasFileError(f"{where}: code must match [a-z0-9-]+, at most 24 characters")
        if code in seen:
            raise AreasFileError(f"{where}: code {code!r} is used twice")
        for lang, name in (("vi", vi), ("en", en)):
            if not isinstance(name, str) or not name.strip() or len(name) > 60:
                raise AreasFileError(f"{where} ({code}): {lang} name missing or over 60 characters")
        assert isinstance(vi, str) and isinstance(en, str)  # checked just above
        seen.add(code)
        areas.append(Area(code=code, vi=vi.strip(), en=en.strip()))
    return Areas(areas)


def load_areas(path: Path | None) -> Areas:
    """Load the deployment's areas file, or the bundled A Lưới list when none is configured."""
    if path is None:
        text = resources.files("rules.data").joinpath(BUNDLED_AREAS).read_text(encoding="utf-8")
        return parse_areas(text, BUNDLED_AREAS)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AreasFileError(f"{path}: cannot be read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise AreasFileError(f"{path}: not UTF-8 text; save it as UTF-8") from error
    return parse_areas(text, str(path))
