"""Button data, parsed strictly: the one parser every button handler uses.

Button data comes back from the client and can be forged: anything can arrive, up to 64 bytes.
`str.isdigit()` accepts "²" (which `int()` rejects) and a 30-digit number overflows SQLite, so
numbers are taken only as 1 to 12 ASCII digits, hex masks only as 1 to 16 hex digits; anything
else makes the press "expired", and the handler answers that without logging an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-f]{1,16}")
_WORD = re.compile(r"[a-z0-9_-]{1,32}")


def number(field: str) -> int | None:
    """`field` as a non-negative int when it is 1 to 12 ASCII digits, else None."""
    return int(field) if _NUMBER.fullmatch(field) else None


def hex_mask(field: str) -> int | None:
    """`field` as an int when it is 1 to 16 lower-case hex digits, else None."""
    return int(field, 16) if _HEX.fullmatch(field) else None


def word(field: str) -> str | None:
    """`field` when it is a short code word (`[a-z0-9_-]{1,32}`), else None."""
    return field if _WORD.fullmatch(field) else None


@dataclass(frozen=True)
class ButtonData:
    """`prefix:field:field...` split once; fields are read with the typed accessors."""

    prefix: str
    fields: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.fields)

    def text(self, index: int) -> str | None:
        return self.fields[index] if 0 <= index < len(self.fields) else None

    def number(self, index: int) -> int | None:
        field = self.text(index)
        return None if field is None else number(field)

    def hex_mask(self, index: int) -> int | None:
        field = self.text(index)
        return None if field is None else hex_mask(field)

    def word(self, index: int) -> str | None:
        field = self.text(index)
        return None if field is None else word(field)


def parse(data: str | None) -> ButtonData:
    """Split button data into its prefix and fields (never raises)."""
    prefix, *fields = (data or "").split(":")
    return ButtonData(prefix, tuple(fields))
