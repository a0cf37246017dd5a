"""What in a text a Telegram client would turn into something to tap that gives a resident away.

An officer's reply reaches the resident as the bot's message. Telegram's clients link URLs,
bare domains (`example.com`, `t.me/other_bot?start=x`), `@usernames`, e-mail addresses and
`/commands` on their own, in plain text without any entity: escaping for the parse mode does
not stop it. One tap on a `t.me/<bot>?start=` link hands the resident's Telegram id, name and
username to whoever runs that bot; a tap on any web link gives the resident's internet address
to whoever runs the site; a `mailto:` their e-mail address. So the officer's text is checked here
before it is stored (`handlers/officer/desk.py` refuses it and says why) and again before it
is sent (`workers/delivery.py`, for anything stored before this check existed).

The rules follow what Telegram's own detection (TDLib's `find_entities`, the Android client's
Linkify) links, widened wherever a miss would cost more than a refusal:

- any `scheme://` (http, https, ftp, tg, ton, anything), and `mailto:`, `tg:` and a few app
  schemes without the slashes;
- `www.` at the start of a word;
- a bare domain: dotted labels whose last label is a top-level domain (the ICANN list of
  `rules/data/tlds.json`, in ASCII or Unicode) or any punycode label (`xn--`); Telegram links
  only known top-level domains without a scheme, so "Tp.HCM", "v.v." and "1.500.000đ" are
  not links, but "anh.Ba" is (`.ba` is Bosnia's) and is refused: the officer adds a space;
- a dotted quad of numbers 0-255 (an IPv4 address: "192.168.1.1"; "2.000.000.000" is money);
- `@` followed by a letter, digit or underscore (a mention; an e-mail address is caught too);
- `/word` standing alone (a bot command; "24/7" and "và/hoặc" are not).

Before looking, the text is made to read as a client would show it: invisible characters
(zero-width spaces and joiners, soft hyphens, direction marks, variation selectors) are
removed, so "t.<ZWSP>me" is "t.me" (TDLib would stop at the zero-width space, other clients and
a resident copying the text would not); NFKC folds full-width and other compatibility forms
("ｔ．ｍｅ", "＠bot", "ｈｔｔｐｓ：／／"); and the dots that IDNA treats as label separators
(ideographic "。", full-width "．", half-width "｡") count as dots, because a browser given
"evil。com" opens evil.com. "[.]" and "(.)" count as dots too: they are the usual way to write
a link that is meant to be typed in.

Phone numbers, receipt codes ("K7QM-2XPR-9HDA"), tip references, times ("10:30", "10.30"),
dates ("03/12/2026"), money ("1.500.000đ") and ordinary Vietnamese abbreviations pass.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

#: Telegram entity types of a sender's own message that carry a link or a person: an officer's
#: message with one of them is refused like a typed link. A `text_link` or `text_mention` hides
#: its target behind words (the bot would drop it silently and the officer would believe it was
#: sent); `url`, `mention` and `email` are what Telegram itself found in the text, taken as a
#: second opinion. Bot commands are left to `find` (TDLib's rule, which the Bot API emulator
#: does not follow exactly: it marks the "/i" of a typed "</i>" as one).
LINK_ENTITY_TYPES = frozenset({"url", "text_link", "mention", "text_mention", "email"})

Kind = Literal["link", "mention", "command"]

#: The longest fragment quoted back to the officer.
FRAGMENT_MAX = 60

# Characters a client does not show but which a pattern would otherwise stop at.
_INVISIBLE_EXTRA = frozenset({"\u034f", "\u115f", "\u1160", "\u180e", "\u3164", "\uffa0"})
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": ".", "\ufe12": ".",
                       "\u2024": ".", "\ufe52": "."})
_BRACKETED_DOT = re.compile(r"\s?[\[(]\s?\.\s?[\])]\s?")

_LABEL = r"[\w\-~\u0300-\u036f]"
_DOMAIN = re.compile(rf"(?<!{_LABEL}){_LABEL}+(?:\.{_LABEL}+)+")
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]{0,31}://", re.IGNORECASE)
_APP_SCHEME = re.compile(
    r"(?<![a-z0-9])(?:mailto|tg|ton|intent|javascript|file|zalo|viber|skype|whatsapp"
    r"|sms|market|itms-apps?):\S",
    re.IGNORECASE,
)
_WWW = re.compile(r"(?<![\w.\-])www\d{0,3}\.", re.IGNORECASE)
_MENTION = re.compile(r"@[A-Za-z0-9_]+")
_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?(?![\w/<>])")
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")


@dataclass(frozen=True)
class Found:
    """The first thing that would be tappable: what kind, and the text of it as a client would
    read it (at most FRAGMENT_MAX characters), to quote back to the officer."""

    kind: Kind
    fragment: str


@cache
def top_level_domains() -> frozenset[str]:
    """The top-level domains Telegram's clients link without a scheme (rules/data/tlds.json)."""
    data = json.loads(resources.files("rules.data").joinpath("tlds.json").read_text("utf-8"))
    return frozenset(str(label) for label in data["tlds"])


def as_shown(text: str) -> str:
    """`text` as a client reads it for links: invisible characters gone, compatibility forms
    folded (NFKC), IDNA's other dots and "[.]" as dots."""
    visible = "".join(
        c for c in text
        if unicodedata.category(c) != "Cf" and c not in _INVISIBLE_EXTRA
        and not ("\ufe00" <= c <= "\ufe0f")
    )
    folded = unicodedata.normalize("NFKC", visible).translate(_DOTS)
    return _BRACKETED_DOT.sub(".", folded)


def find(text: str) -> Found | None:
    """The first link, mention or command a client would make tappable in `text`; None when
    there is none."""
    shown = as_shown(text)
    found: list[tuple[int, Kind, str]] = []
    for pattern in (_SCHEME, _APP_SCHEME, _WWW):
        if match := pattern.search(shown):
            found.append((match.start(), "link", _word_at(shown, match.start())))
    for match in _DOMAIN.finditer(shown):
        if _is_domain(match.group()):
            found.append((match.start(), "link", _word_at(shown, match.start())))
            break
    for match in _IPV4.finditer(shown):
        if all(_is_octet(part) for part in match.groups()):
            found.append((match.start(), "link", _word_at(shown, match.start())))
            break
    if match := _MENTION.search(shown):
        found.append((match.start(), "mention", _word_at(shown, match.start())))
    if match := _COMMAND.search(shown):
        found.append((match.start(), "command", _word_at(shown, match.start())))
    if not found:
        return None
    _, kind, fragment = min(found, key=lambda item: item[0])
    return Found(kind, fragment[:FRAGMENT_MAX])


def without_links(text: str, placeholder: str) -> str:
    """`text` with every word that holds a link, mention or command replaced by `placeholder`.

    For what is about to be sent but was stored before the check on the way in: the resident
    gets the rest of the officer's words. Should the words put back together still hold one
    (it never was seen to), the whole text is the placeholder."""
    parts = re.split(r"(\s+)", text)
    kept = "".join(
        placeholder if part and not part.isspace() and find(part) else part for part in parts
    )
    return placeholder if find(kept) else kept


def _is_domain(candidate: str) -> bool:
    labels = candidate.lower().split(".")
    if any(label.startswith("xn--") for label in labels):
        return True
    return labels[-1] in top_level_domains()


def _is_octet(part: str) -> bool:
    return int(part) <= 255 and (part == "0" or not part.startswith("0"))


def _word_at(text: str, start: int) -> str:
    """The run of non-space characters around `start` (what the officer would recognise)."""
    begin = start
    while begin > 0 and not text[begin - 1].isspace():
        begin -= 1
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[begin:end]
