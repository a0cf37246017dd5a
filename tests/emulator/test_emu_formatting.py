"""Parsers produce Telegram's text/entities and Telegram's error messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.formatting import (
    ParseError,
    parse_formatted,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)


def test_html_entities_and_utf16_offsets() -> None:
    text, ents = parse_formatted("😀 <b>đậm <i>nghiêng</i></b> &lt;&#65;&#x42;&gt; &amp;", "HTML")
    assert text == "😀 đậm nghiêng <AB> &"
    assert ents == [
        {"type": "bold", "offset": 3, "length": 11},
        {"type": "italic", "offset": 7, "length": 7},
    ]


def test_html_unknown_entity_and_bare_ampersand_kept() -> None:
    text, _ = parse_formatted("a &foo; b & c", "HTML")
    assert text == "a &foo; b & c"


def test_html_links_pre_code_spoiler_blockquote() -> None:
    html = (
        '<a href="example.com">x</a> <a href="javascript:alert(1)">y</a> '
        '<pre><code class="language-python">p</code></pre> <code>c</code> '
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> '
        "<blockquote expandable>q</blockquote> <u>u</u><s>z</s>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    text, ents = parse_formatted(html, "HTML")
    assert text == "x y p c s t q uz👍"
    types = {e["type"]: e for e in ents}
    assert types["text_link"]["url"] == "http://example.com/"
    assert len([e for e in ents if e["type"] == "text_link"]) == 1  # javascript: dropped
    assert types["pre"]["language"] == "python"
    assert "language" not in types["code"]
    assert len([e for e in ents if e["type"] == "spoiler"]) == 2
    assert types["expandable_blockquote"]["length"] == 1
    assert types["custom_emoji"] == {
        "type": "custom_emoji",
        "offset": 16,
        "length": 2,
        "custom_emoji_id": "5368324170671202286",
    }


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("Hello world <script>x</script>", 'Unsupported start tag "script" at byte offset 12'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("đ <foo>", 'Unsupported start tag "foo" at byte offset 3'),
    ],
)
def test_html_errors(html: str, error: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_html(html)
    assert str(info.value) == error


def test_markdown_v2() -> None:
    text, ents = parse_formatted(
        r"*b* _i_ __u__ ~s~ ||sp|| [l](http://a.com/x\)y) `c` 1\.5", "MarkdownV2"
    )
    assert text == "b i u s sp l c 1.5"
    assert [e["type"] for e in ents] == [
        "bold", "italic", "underline", "strikethrough", "spoiler", "text_link", "code",
    ]  # fmt: skip
    assert ents[5]["url"] == "http://a.com/x)y"


def test_markdown_v2_pre_and_quote() -> None:
    text, ents = parse_formatted("```python\nprint(1)\n```\n>quoted\n>more", "MarkdownV2")
    assert text == "print(1)\n\nquoted\nmore"
    assert {"type": "pre", "offset": 0, "length": 9, "language": "python"} in ents
    assert {"type": "blockquote", "offset": 10, "length": 11} in ents


@pytest.mark.parametrize(
    ("md", "error"),
    [
        ("Hello.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("x _it", "Can't find end of Italic entity at byte offset 2"),
        ("[a](http://x.com", "Can't find end of a URL at byte offset 4"),
    ],
)
def test_markdown_v2_errors(md: str, error: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_markdown_v2(md)
    assert str(info.value) == error


def test_legacy_markdown() -> None:
    text, ents = parse_formatted("*b* _i_ [t](http://a.com) `c` a.b-c", "Markdown")
    assert text == "b i t c a.b-c"
    assert [e["type"] for e in ents] == ["bold", "italic", "text_link", "code"]
    with pytest.raises(ParseError, match="Can't find end of the entity starting at byte offset 0"):
        parse_formatted("*open", "Markdown")


def test_trimming_and_detection() -> None:
    text, ents = parse_formatted("  \n<b>x</b> /start https://t.me @someone #tag  \n", "HTML")
    assert text == "x /start https://t.me @someone #tag"
    assert [e["type"] for e in ents] == ["bold", "bot_command", "url", "mention", "hashtag"]
    assert ents[0] == {"type": "bold", "offset": 0, "length": 1}


@given(st.text(max_size=60))
def test_escaped_html_roundtrips(text: str) -> None:
    """Any text escaped with &lt; &gt; &amp; comes back unchanged (modulo trimming)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    plain, ents = parse_formatted(f"<b>{escaped}</b>", "HTML")
    assert plain == text.strip(" \t\r\n")
    for ent in ents:
        assert ent["offset"] >= 0 and ent["offset"] + ent["length"] <= utf16_len(plain)
