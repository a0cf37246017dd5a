"""Telegram text formatting: HTML, MarkdownV2 and legacy Markdown, the way Telegram parses them.

The parsers walk the UTF-8 bytes exactly like TDLib's ``parse_html`` / ``parse_markdown_v2`` /
``parse_markdown`` do, so that error messages carry the same byte offsets and entity offsets are
counted in UTF-16 code units. A bot that only ever talks to this emulator must not be able to
send anything that the real Telegram would reject as "can't parse entities".
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ParseError",
    "char_len",
    "detect_entities",
    "normalize_url",
    "parse_formatted",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

UserResolver = Callable[[int], dict[str, Any] | None]

# TDLib's sort priority for entities that start and end at the same position.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "mention": 50,
    "hashtag": 50,
    "cashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "phone_number": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
    "date_time": 99,
}

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_SPACES = frozenset(b" \t\r\n\v\f\x00")


class ParseError(Exception):
    """A TDLib-style entity parsing error (message without the "can't parse entities" prefix)."""


@dataclass
class _Entity:
    type: str
    offset: int
    length: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "offset": self.offset, "length": self.length, **self.extra}


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def char_len(text: str) -> int:
    """Length in Unicode code points, the unit Telegram uses for its text length limits."""
    return len(text)


def _is_space(c: int) -> bool:
    return c in _SPACES


def _u16(c: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte (0 for continuation bytes)."""
    if c & 0xC0 == 0x80:
        return 0
    return 2 if c >= 0xF0 else 1


def normalize_url(url: str) -> str | None:
    """Validate a link like TDLib's ``check_link``; returns the normalized URL or None."""
    url = url.strip()
    if not url:
        return None
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*)://", url)
    if m:
        scheme = m.group(1).lower()
        if scheme in ("tg", "ton", "tonsite"):
            return url
        if scheme not in ("http", "https"):
            return None
    else:
        if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", url) and not re.match(r"^[^:/]+:\d", url):
            return None  # javascript:, mailto: and friends
        url = "http://" + url
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    if not host or not re.fullmatch(r"[A-Za-z0-9\-._~\u0080-\uffff]+", host):
        return None
    if "." not in host and host != "localhost":
        return None
    if not parts.path:
        url = urllib.parse.urlunsplit(parts._replace(path="/"))
    return url


def _link_user_id(url: str) -> int | None:
    m = re.fullmatch(r"tg://user\?id=(\d{1,15})", url.strip(), flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


def _link_entity(
    offset: int, length: int, url: str, resolve_user: UserResolver | None
) -> _Entity | None:
    user_id = _link_user_id(url)
    if user_id is not None:
        user = resolve_user(user_id) if resolve_user else None
        return _Entity("text_mention", offset, length, {"user": user}) if user else None
    norm = normalize_url(url)
    return _Entity("text_link", offset, length, {"url": norm}) if norm else None


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """Decode ``&...;`` at ``pos``; returns (code point, next position) or None (keep '&')."""
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
                if res >= 0x10FFFF:
                    return None
        else:
            while ord("0") <= at(end) <= ord("9"):
                res = res * 10 + at(end) - ord("0")
                end += 1
                if res >= 0x10FFFF:
                    return None
        if res == 0 or res >= 0x10FFFF or end - pos >= 10 or 0xD800 <= res <= 0xDFFF:
            return None
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end):
            end += 1
        name = data[pos + 1 : end]
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
        if name not in named:
            return None
        res = ord(named[name])
    if at(end) == ord(";"):
        end += 1
    return res, end


@dataclass
class _OpenTag:
    tag: str
    argument: str
    offset: int
    out_pos: int
    extra: dict[str, str] = field(default_factory=dict)


def parse_html(
    text: str, resolve_user: UserResolver | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML; returns (plain text, entities) or raises :class:`ParseError`."""
    data = text.encode("utf-8")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    u16 = 0
    stack: list[_OpenTag] = []
    entities: list[_Entity] = []
    i = 0
    while i < n:
        c = data[i]
        if c == ord("&"):
            decoded = _decode_html_entity(data, i)
            if decoded is not None:
                cp, i = decoded
                out += chr(cp).encode("utf-8")
                u16 += 2 if cp > 0xFFFF else 1
                continue
        if c != ord("<"):
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while not _is_space(at(i)) and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise ParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise ParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            attrs: dict[str, str] = {}
            while at(i) != ord(">"):
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == ord(">"):
                    break
                if at(i) == 0:
                    raise ParseError(f"Unclosed start tag at byte offset {begin}")
                attr_begin = i
                while not _is_space(at(i)) and at(i) not in (ord("="), ord(">")):
                    i += 1
                attr_name = data[attr_begin:i].decode("utf-8", "replace")
                if not attr_name:
                    raise ParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) != ord("="):
                    if at(i) == 0:
                        raise ParseError(f"Unclosed start tag at byte offset {begin}")
                    if tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                        continue
                    raise ParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {begin}"
                    )
                i += 1
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise ParseError(f"Unclosed start tag at byte offset {begin}")
                value = bytearray()
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-"):
                        if at(i) == 0:
                            break
                        i += 1
                    value += data[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ord(">"):
                        raise ParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    while at(i) != quote and at(i) != 0:
                        if at(i) == ord("&"):
                            decoded = _decode_html_entity(data, i)
                            if decoded is not None:
                                cp, i = decoded
                                value += chr(cp).encode("utf-8")
                                continue
                        value.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                if at(i) == 0:
                    raise ParseError(f"Unclosed start tag at byte offset {begin}")
                val = value.decode("utf-8", "replace")
                attrs[attr_name] = val
                if tag == "a" and attr_name == "href":
                    argument = val
                elif tag == "code" and attr_name == "class" and val.startswith("language-"):
                    argument = val[len("language-") :]
                elif tag == "span" and attr_name == "class" and val.startswith("tg-"):
                    argument = val[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = val
            if tag == "span" and argument != "spoiler":
                raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append(_OpenTag(tag, argument, u16, len(out), attrs))
            i += 1  # skip '>'
            continue

        # end tag
        if not stack:
            raise ParseError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(at(i)) and at(i) != ord(">"):
            i += 1
        end_name = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while _is_space(at(i)) and at(i) != 0:
            i += 1
        if at(i) != ord(">"):
            raise ParseError(f"Unclosed end tag at byte offset {begin}")
        opened = stack[-1]
        if end_name and end_name != opened.tag:
            raise ParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", '
                f'found "</{end_name}>"'
            )
        stack.pop()
        i += 1
        if u16 <= opened.offset:
            continue
        offset, length = opened.offset, u16 - opened.offset
        tag = opened.tag
        if tag in _SIMPLE_HTML:
            entities.append(_Entity(_SIMPLE_HTML[tag], offset, length))
        elif tag == "a":
            url = opened.argument or out[opened.out_pos :].decode("utf-8", "replace")
            ent = _link_entity(offset, length, url, resolve_user)
            if ent:
                entities.append(ent)
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last
                and last.type == "code"
                and (last.offset, last.length) == (offset, length)
                and last.extra.get("language")
            ):
                last.type = "pre"
            else:
                entities.append(_Entity("pre", offset, length))
        elif tag == "code":
            last = entities[-1] if entities else None
            if (
                last
                and last.type == "pre"
                and (last.offset, last.length) == (offset, length)
                and opened.argument
            ):
                last.extra["language"] = opened.argument
            else:
                extra_lang = {"language": opened.argument} if opened.argument else {}
                entities.append(_Entity("code", offset, length, extra_lang))
        elif tag == "tg-emoji":
            if not re.fullmatch(r"-?\d{1,19}", opened.argument or ""):
                raise ParseError("Invalid custom emoji identifier specified")
            entities.append(
                _Entity("custom_emoji", offset, length, {"custom_emoji_id": opened.argument})
            )
        elif tag == "tg-time":
            unix = opened.extra.get("unix", "")
            if not re.fullmatch(r"\d{1,12}", unix):
                raise ParseError('Tag "tg-time" must have a valid "unix" attribute')
            extra: dict[str, Any] = {"unix_time": int(unix)}
            if opened.extra.get("format"):
                extra["date_time_format"] = opened.extra["format"]
            entities.append(_Entity("date_time", offset, length, extra))
        elif tag == "blockquote":
            kind = "expandable_blockquote" if opened.argument else "blockquote"
            entities.append(_Entity(kind, offset, length))
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    # A "code" with a language that was not wrapped in "pre" carries no language.
    for ent in entities:
        if ent.type == "code":
            ent.extra.pop("language", None)
    return out.decode("utf-8"), [e.to_dict() for e in entities]


_MDV2_RESERVED = b"_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _MdOpen:
    kind: str
    argument: str
    offset: int
    byte_offset: int
    out_pos: int


def parse_markdown_v2(
    text: str, resolve_user: UserResolver | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2 (including ``>`` block quotations); raises :class:`ParseError`."""
    data = text.encode("utf-8")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    u16 = 0
    stack: list[_MdOpen] = []
    entities: list[_Entity] = []
    quote_start: int | None = None
    quote_expandable = False
    quote_end = 0
    i = 0
    while i < n:
        c = data[i]
        line_start = i == 0 or data[i - 1] == ord("\n")
        in_code = bool(stack) and stack[-1].kind in ("code", "pre", "pre_code")
        if line_start and not in_code:
            if c == ord(">") or (data[i : i + 3] == b"**>" and quote_start is None):
                if quote_start is None:
                    quote_start = u16
                    quote_expandable = c == ord("*")
                i += 3 if c == ord("*") else 1
                continue
            if quote_start is not None:
                entities.append(
                    _Entity(
                        "expandable_blockquote" if quote_expandable else "blockquote",
                        quote_start,
                        quote_end - quote_start,
                    )
                )
                quote_start = None
        if c == ord("\\") and 0 < at(i + 1) <= 126:
            i += 1
            u16 += 1
            out.append(data[i])
            i += 1
            if quote_start is not None:
                quote_end = u16
            continue
        if quote_start is not None and c == ord("\n"):
            quote_end = u16
        reserved = b"`" if in_code else _MDV2_RESERVED
        if (
            quote_start is not None
            and quote_expandable
            and data[i : i + 2] == b"||"
            and at(i + 2) in (0, ord("\n"))
            and not (stack and stack[-1].kind == "spoiler")
        ):
            i += 2
            continue
        if c not in reserved:
            u16 += _u16(c)
            out.append(c)
            i += 1
            if quote_start is not None and c != ord("\n"):
                quote_end = u16
            continue

        is_end = False
        if stack:
            kind = stack[-1].kind
            is_end = {
                "bold": c == ord("*"),
                "italic": c == ord("_") and at(i + 1) != ord("_"),
                "code": c == ord("`"),
                "pre": c == ord("`") and at(i + 1) == ord("`") and at(i + 2) == ord("`"),
                "pre_code": c == ord("`") and at(i + 1) == ord("`") and at(i + 2) == ord("`"),
                "text_link": c == ord("]"),
                "underline": c == ord("_") and at(i + 1) == ord("_"),
                "strikethrough": c == ord("~"),
                "spoiler": c == ord("|") and at(i + 1) == ord("|"),
                "custom_emoji": c == ord("]"),
            }[kind]
        if not is_end:
            byte_offset = i
            argument = ""
            ch = chr(c)
            if c == ord("_"):
                if at(i + 1) == ord("_"):
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == ord("*"):
                kind = "bold"
            elif c == ord("~"):
                kind = "strikethrough"
            elif c == ord("|") and at(i + 1) == ord("|"):
                i += 1
                kind = "spoiler"
            elif c == ord("["):
                kind = "text_link"
            elif c == ord("`"):
                if at(i + 1) == ord("`") and at(i + 2) == ord("`"):
                    i += 3
                    kind = "pre"
                    lang_end = i
                    while not _is_space(at(lang_end)) and at(lang_end) != ord("`"):
                        lang_end += 1
                    if i != lang_end and lang_end < n and at(lang_end) != ord("`"):
                        kind = "pre_code"
                        argument = data[i:lang_end].decode("utf-8", "replace")
                        i = lang_end
                    if at(i) in (ord("\n"), ord("\r")):
                        if at(i + 1) in (ord("\n"), ord("\r")) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif c == ord("!") and at(i + 1) == ord("["):
                i += 1
                kind = "custom_emoji"
            else:
                raise ParseError(
                    f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
                )
            stack.append(_MdOpen(kind, argument, u16, byte_offset, len(out)))
            i += 1
            continue

        opened = stack.pop()
        kind = opened.kind
        skip = u16 == opened.offset
        extra: dict[str, Any] = {}
        ent_type = kind
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
            ent_type = "pre"
            if kind == "pre_code":
                extra["language"] = opened.argument
        elif kind == "text_link":
            if at(i + 1) != ord("("):
                url = out[opened.out_pos :].decode("utf-8", "replace")
            else:
                i += 2
                url_begin = i
                url_bytes = bytearray()
                while i < n and data[i] != ord(")"):
                    if data[i] == ord("\\") and 0 < at(i + 1) <= 126:
                        url_bytes.append(data[i + 1])
                        i += 2
                        continue
                    url_bytes.append(data[i])
                    i += 1
                if at(i) != ord(")"):
                    raise ParseError(f"Can't find end of a URL at byte offset {url_begin}")
                url = url_bytes.decode("utf-8", "replace")
            if not skip:
                ent = _link_entity(opened.offset, u16 - opened.offset, url, resolve_user)
                if ent is None:
                    skip = True
                else:
                    ent_type, extra = ent.type, ent.extra
        elif kind == "custom_emoji":
            if at(i + 1) != ord("("):
                raise ParseError("Custom emoji entity must contain a tg://emoji URL")
            i += 2
            url_begin = i
            while i < n and data[i] != ord(")"):
                i += 1
            if at(i) != ord(")"):
                raise ParseError(f"Can't find end of a custom emoji URL at byte offset {url_begin}")
            m = re.fullmatch(rb"tg://emoji\?id=(\d{1,19})", data[url_begin:i])
            if not m:
                raise ParseError("Invalid custom emoji identifier specified")
            extra["custom_emoji_id"] = m.group(1).decode()
        if not skip:
            entities.append(_Entity(ent_type, opened.offset, u16 - opened.offset, extra))
        i += 1
    if stack:
        opened = stack[-1]
        raise ParseError(
            f"Can't find end of {_MDV2_NAMES[opened.kind]} entity at byte offset "
            f"{opened.byte_offset}"
        )
    if quote_start is not None:
        kind = "expandable_blockquote" if quote_expandable else "blockquote"
        entities.append(_Entity(kind, quote_start, quote_end - quote_start))
    return out.decode("utf-8"), [e.to_dict() for e in entities if e.length > 0]


def parse_markdown(
    text: str, resolve_user: UserResolver | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, ``[link](url)``, ``code``, pre)."""
    data = text.encode("utf-8")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    u16 = 0
    entities: list[_Entity] = []
    i = 0
    while i < n:
        c = data[i]
        if c == ord("\\") and at(i + 1) in b"_*`[" and at(i + 1):
            i += 1
            out.append(data[i])
            u16 += 1
            i += 1
            continue
        if c not in b"_*`[":
            u16 += _u16(c)
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = ord("]") if c == ord("[") else c
        is_pre = False
        i += 1
        language = ""
        if c == ord("`") and at(i) == ord("`") and at(i + 1) == ord("`"):
            i += 2
            is_pre = True
            lang_end = i
            while not _is_space(at(lang_end)) and at(lang_end) != ord("`"):
                lang_end += 1
            if i != lang_end and lang_end < n and at(lang_end) != ord("`"):
                language = data[i:lang_end].decode("utf-8", "replace")
                i = lang_end
            if at(i) in (ord("\n"), ord("\r")):
                if at(i + 1) in (ord("\n"), ord("\r")) and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        start_u16 = u16
        while i < n and (
            data[i] != end_char
            or (is_pre and not (at(i + 1) == ord("`") and at(i + 2) == ord("`")))
        ):
            u16 += _u16(data[i])
            out.append(data[i])
            i += 1
        if i == n:
            raise ParseError(f"Can't find end of the entity starting at byte offset {begin}")
        if start_u16 != u16:
            length = u16 - start_u16
            if c == ord("_"):
                entities.append(_Entity("italic", start_u16, length))
            elif c == ord("*"):
                entities.append(_Entity("bold", start_u16, length))
            elif c == ord("["):
                if at(i + 1) != ord("("):
                    url = data[begin + 1 : i].decode("utf-8", "replace")
                else:
                    i += 2
                    url_start = i
                    while i < n and data[i] != ord(")"):
                        i += 1
                    url = data[url_start:i].decode("utf-8", "replace")
                ent = _link_entity(start_u16, length, url, resolve_user)
                if ent:
                    entities.append(ent)
            elif is_pre:
                extra = {"language": language} if language else {}
                entities.append(_Entity("pre", start_u16, length, extra))
            else:
                entities.append(_Entity("code", start_u16, length))
        if is_pre:
            i += 2
        i += 1
    return out.decode("utf-8"), [e.to_dict() for e in entities]


_DETECTORS = [
    ("url", re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w])")),
]


def _utf16_offsets(text: str) -> list[int]:
    """Prefix sums: UTF-16 offset of every code point index (plus the end)."""
    offs = [0]
    for ch in text:
        offs.append(offs[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offs


def detect_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Find URLs, e-mails, bot commands, mentions, hashtags and cashtags like Telegram does.

    Only a practical subset of TDLib's detection; spans overlapping explicit entities that
    cannot contain others (code, pre, links) are skipped.
    """
    offs = _utf16_offsets(text)
    blocked = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in ("code", "pre", "text_link", "text_mention", "custom_emoji")
    ]
    found: list[dict[str, Any]] = []
    for kind, rx in _DETECTORS:
        for m in rx.finditer(text):
            start, end = m.start(), m.end()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?)]'\"":
                    end -= 1
            s16, e16 = offs[start], offs[end]
            if e16 <= s16:
                continue
            if any(s16 < b_end and b_start < e16 for b_start, b_end in blocked):
                continue
            blocked.append((s16, e16))
            found.append({"type": kind, "offset": s16, "length": e16 - s16})
    return found


def _sort_key(e: dict[str, Any]) -> tuple[int, int, int]:
    return (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50))


def _inside(ent: dict[str, Any], spans: list[tuple[int, int]]) -> bool:
    return any(s <= ent["offset"] and ent["offset"] + ent["length"] <= t for s, t in spans)


def _finalize(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace, drop entities nested in code/pre, auto-detect and sort."""
    stripped_left = text.lstrip(" \t\r\n")
    shift = utf16_len(text) - utf16_len(stripped_left)
    new_text = stripped_left.rstrip(" \t\r\n")
    total = utf16_len(new_text)
    fixed: list[dict[str, Any]] = []
    for ent in entities:
        start = max(ent["offset"] - shift, 0)
        end = min(ent["offset"] + ent["length"] - shift, total)
        if end <= start:
            continue
        fixed.append({**ent, "offset": start, "length": end - start})
    code_spans = [
        (e["offset"], e["offset"] + e["length"]) for e in fixed if e["type"] in ("code", "pre")
    ]
    pre_spans = [(e["offset"], e["offset"] + e["length"]) for e in fixed if e["type"] == "pre"]
    fixed = [
        e
        for e in fixed
        if e["type"] == "pre"
        or (e["type"] == "code" and not _inside(e, pre_spans))
        or (e["type"] != "code" and not _inside(e, code_spans))
    ]
    fixed.extend(detect_entities(new_text, fixed))
    fixed.sort(key=_sort_key)
    return new_text, fixed


def _validate_entities(text: str, entities: list[Any]) -> list[dict[str, Any]]:
    total = utf16_len(text)
    result = []
    for ent in entities:
        if not isinstance(ent, dict) or "type" not in ent:
            raise ParseError('Can\'t parse MessageEntity: Field "type" must be of type String')
        offset, length = ent.get("offset"), ent.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise ParseError("Can't parse MessageEntity: wrong offset or length")
        if offset < 0 or length <= 0 or offset + length > total:
            continue
        result.append(dict(ent))
    return result


def parse_formatted(
    text: str,
    parse_mode: str | None,
    entities: list[Any] | None = None,
    resolve_user: UserResolver | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Turn a (text, parse_mode, entities) triple into Telegram's final (text, entities).

    Explicit ``entities`` win over ``parse_mode`` (as on Telegram). Raises :class:`ParseError`
    for malformed markup and :class:`ValueError` for an unknown parse mode.
    """
    if entities:
        return _finalize(text, _validate_entities(text, entities))
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return _finalize(text, [])
    if mode == "html":
        plain, ents = parse_html(text, resolve_user)
    elif mode == "markdownv2":
        plain, ents = parse_markdown_v2(text, resolve_user)
    elif mode == "markdown":
        plain, ents = parse_markdown(text, resolve_user)
    else:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    return _finalize(plain, ents)
