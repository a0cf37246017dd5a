"""Receipt codes: the only thing a resident keeps to follow up on a tip.

Spec: 12 symbols of Crockford base32 (digits and capital letters without I, L, O, U) in
three groups of four joined by ``-``, e.g. ``K7QM-4XPA-9TZD`` (60 bits). Input is forgiving
because residents retype codes from paper or memory on a phone keyboard: lower case,
spaces, missing or odd dashes, and O/I/L typed for 0/1/1 are accepted. ``U`` is rejected
(Crockford reserves it; accepting it would make V/U typos silently point elsewhere).

The canonical form returned by :func:`normalise_receipt_code` is what gets HMAC'ed for
lookup (``Keyring.receipt_hash``); the code itself is never stored.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 3
GROUP_LENGTH = 4
CODE_SYMBOLS = GROUPS * GROUP_LENGTH

_SYMBOL = "[0-9A-HJKMNP-TV-Z]"
RECEIPT_CODE_PATTERN = re.compile(
    rf"\A{_SYMBOL}{{{GROUP_LENGTH}}}(?:-{_SYMBOL}{{{GROUP_LENGTH}}}){{{GROUPS - 1}}}\Z"
)
"""Matches the canonical form only (``XXXX-XXXX-XXXX``). For user input, call
:func:`normalise_receipt_code` instead: it accepts the forgiving spellings."""

# Characters people type (or phones substitute) between groups. All are simply dropped.
_SEPARATORS = frozenset(
    "-_"
    "\u00ad"  # soft hyphen
    "\u2010\u2011\u2012\u2013\u2014\u2015"  # hyphen .. horizontal bar
    "\u2212"  # minus sign
    "\u2043"  # hyphen bullet
    "\ufe58\ufe63\uff0d"  # small em dash, small hyphen-minus, full-width hyphen-minus
    "\u30fc"  # katakana prolonged sound mark, a common IME dash
)
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# A code with generous spacing is well under this; anything longer is not a code, and the
# bound keeps normalisation cheap on hostile input.
_MAX_INPUT_CHARS = 64


def new_receipt_code() -> str:
    """A fresh random code in canonical form (60 bits from ``secrets``)."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    return _group(symbols)


def normalise_receipt_code(text: str) -> str | None:
    """Canonical ``XXXX-XXXX-XXXX`` for anything a resident might type, or None if invalid.

    Full-width characters are folded by NFKC; any other non-ASCII character makes the input
    invalid (this also stops ``str.upper`` from turning e.g. a dotless ``ı`` into ``I``).
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT_CHARS:
        return None
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(ch for ch in folded if not ch.isspace() and ch not in _SEPARATORS)
    if not kept.isascii():
        return None
    symbols = kept.upper().translate(_LOOKALIKES)
    if len(symbols) != CODE_SYMBOLS or any(ch not in ALPHABET for ch in symbols):
        return None
    return _group(symbols)


def is_canonical_receipt_code(text: str) -> bool:
    """True if ``text`` is already exactly in canonical form."""
    return isinstance(text, str) and RECEIPT_CODE_PATTERN.fullmatch(text) is not None


def _group(symbols: str) -> str:
    return "-".join(
        symbols[start : start + GROUP_LENGTH] for start in range(0, CODE_SYMBOLS, GROUP_LENGTH)
    )
