"""rules/links.py: what an officer may not send a resident (a link, an @name, a /command: one
tap can give the resident away) and what they may (phone numbers, codes, money, times,
Vietnamese abbreviations). Both sides are listed, since a rule that refuses too much makes
officers stop answering and one that refuses too little is the finding of review 3 (no. 8)."""

from __future__ import annotations

import time

import pytest

from rules import links
from rules.links import as_shown, find, top_level_domains, without_links

REFUSED = [
    # what the reviewer's probe sent
    "Gửi ảnh an toàn hơn qua https://t.me/district_evidence_bot?start=tip42",
    "hoặc @district_evidence_bot",
    "hoặc https://x.example/u?t=42",
    # schemes
    "http://example.org/a",
    "HTTPS://EXAMPLE.ORG",
    "ftp://files.example.net",
    "tg://resolve?domain=district_evidence_bot&start=tip42",
    "tg://user?id=123456",
    "ton://example",
    "mailto:congan@example.vn",
    "tg:resolve?domain=abc",
    "zalo:0912345678",
    "xem tại intent://scan/#Intent;scheme=zxing;end",
    "javascript:alert(1)",
    "something://anything",
    # Telegram's own domains, bare
    "t.me/district_evidence_bot?start=tip42",
    "T.ME/joinchat/AAAA",
    "telegram.me/abc",
    "telegram.dog/abc",
    "vào t.me/abc nhé",
    # www. and bare domains with common and Vietnamese top-level domains
    "www.example",
    "www.congan.gov.vn",
    "congan.hue.gov.vn",
    "thongtin.com.vn/trang",
    "example.com",
    "example.net.",
    "example.org, rồi",
    "example.me",
    "bit.ly/abc",
    "abc.io",
    "abc.xyz",
    "abc.vn",
    "abc.app",
    "example.com:8080/x",
    "(example.com)",
    "«example.com»",
    # a dot with no space after it makes a domain of two words when the second is a TLD
    "anh.Ba",
    # e-mail addresses (a tap opens a mail to whoever holds the address)
    "congan@example.vn",
    "viết cho ai@gmail.com",
    # mentions and bot commands
    "@abc",
    "@ab",
    "@gif",
    "(@someone)",
    "/start",
    "/start@district_evidence_bot",
    "gõ /status nhé",
    "(/forget)",
    # IPv4 addresses
    "192.168.1.1",
    "vào 10.0.0.1:8080",
    "1.200.200.200 đồng",
    # punycode and internationalised names
    "xn--80ak6aa92e.com",
    "abc.xn--p1ai",
    "пример.рф",
    "bücher.de",
    "công-an.vn",
    # lookalikes of the dot, the @ and the slash; full-width letters
    "evil\u3002com",
    "evil\uff0ecom",
    "evil\uff61com",
    "evil\u2024com",
    "evil\ufe52com",
    "\uff54\uff0e\uff4d\uff45/abc",
    "\uff48\uff54\uff54\uff50\uff53\uff1a\uff0f\uff0fexample",
    "\uff20district_evidence_bot",
    "\ufe6bdistrict_evidence_bot",
    "\uff0fstart",
    # zero-width and other invisible characters between the parts
    "t.\u200bme/abc",
    "t\u200c.me/abc",
    "t.\u200dme/abc",
    "t.\u2060me/abc",
    "t.\ufeffme/abc",
    "t.\u00adme/abc",
    "ex\u200bample\u200b.\u200bcom",
    "h\u200bttps://x",
    "@\u200bdistrict_evidence_bot",
    "/\u200bstart",
    "t.me\ufe0f/abc",
    "t.\u202ame/abc",
    # written to be typed in
    "evil[.]com",
    "evil (.) com",
]

ALLOWED = [
    "",
    "Cảm ơn bạn, chúng tôi đang xác minh.",
    "Đã tiếp nhận, đang xác minh.",
    # phone numbers
    "Gọi 113 hoặc 0912 345 678.",
    "0912.345.678",
    "0912-345-678",
    "+84 912 345 678",
    "(0234) 3822 123",
    # receipt codes and references
    "Mã của bạn: K7QM-2XPR-9HDA",
    "K7QM 2XPR 9HDA",
    "Tin T-AB12-CD34 đã được chuyển.",
    # times and dates
    "Hẹn 10:30 sáng mai",
    "lúc 10.30",
    "ngày 03/12/2026",
    "3/12",
    "24/7",
    "từ 7h-11h30",
    # money and amounts
    "1.500.000đ",
    "1.500.000 đ",
    "2.000.000.000 đồng",
    "khoảng 1,5 triệu",
    "3.5km",
    "2.5kg",
    "1.5.2",
    "50%",
    # ordinary Vietnamese with dots and slashes
    "Tp.HCM",
    "TP. Huế",
    "TT.Huế",
    "v.v.",
    "ông A. đã khai",
    "ông A.",
    "H.A Lưới",
    "Q.1, P.5",
    "X.Hồng Vân",
    "Đ/c Hùng sẽ gặp",
    "Con bò màu gì? <i>cần</i> & gấp",
    "và/hoặc",
    "nam/nữ",
    "Xong. Tôi sẽ gọi lại.",
    "...",
    "Chờ nhé...",
    # an @ or a slash or a dot alone
    "email @ ở đâu",
    "a / b",
    "a . b",
    "đường số 5 / ngõ 3",
    # hashtags and cashtags: tapping them only searches, nothing leaves the phone
    "#Ma_tuý",
    # numbers with dots that are not IPv4 addresses
    "1.2.3",
    "300.1.1.1",
    "01.02.03.04",
    "1.2.3.4.5",
]


@pytest.mark.parametrize("value", REFUSED)
def test_refused(value: str) -> None:
    assert find(value) is not None, value


@pytest.mark.parametrize("value", ALLOWED)
def test_allowed(value: str) -> None:
    assert find(value) is None, (value, find(value))


def fragment(value: str) -> str:
    found = find(value)
    assert found is not None, value
    return found.fragment


def test_what_is_found_names_the_word_as_shown() -> None:
    found = find("Gửi qua t.\u200bme/other_bot?start=42 nhé")
    assert found == links.Found("link", "t.me/other_bot?start=42")
    assert find("hỏi @other_bot đi") == links.Found("mention", "@other_bot")
    assert find("gõ /start") == links.Found("command", "/start")
    long_link = "https://" + "a" * 200 + ".com"
    assert fragment("x " * 10 + long_link) == long_link[: links.FRAGMENT_MAX]


def test_the_first_one_is_named() -> None:
    assert fragment("@first rồi t.me/second") == "@first"
    assert fragment("t.me/first rồi @second") == "t.me/first"


def test_as_shown_folds_what_a_client_folds() -> None:
    assert as_shown("\uff54\u200b\uff0e\uff4d\uff45") == "t.me"
    assert as_shown("evil\u3002com") == "evil.com"
    assert as_shown("Trộm bò ở bản Pa Ring") == "Trộm bò ở bản Pa Ring"


def test_the_top_level_domains_are_the_whole_list() -> None:
    tlds = top_level_domains()
    assert len(tlds) > 1000
    for tld in ("vn", "com", "net", "org", "me", "ly", "io", "dog", "xyz", "app", "рф"):
        assert tld in tlds
    assert "hcm" not in tlds and "huế" not in tlds


def test_without_links_keeps_the_other_words() -> None:
    assert without_links("Xem t.me/x hoặc\ngọi 113", "[-]") == "Xem [-] hoặc\ngọi 113"
    assert without_links("hỏi @bot, hoặc /start", "[-]") == "hỏi [-] hoặc [-]"
    assert without_links("Cảm ơn bạn.", "[-]") == "Cảm ơn bạn."
    assert without_links("", "[-]") == ""
    for value in REFUSED:
        assert find(without_links(value, "[-]")) is None, value


def test_a_long_text_is_checked_quickly() -> None:
    """A reply of the longest size with no link, and one made of dots and letters, each
    checked in well under a second (the check runs in the event loop)."""
    started = time.perf_counter()
    assert find("a" * 3500) is None
    assert find("a." * 1750) is None
    assert find("Tp.HCM " * 500) is None
    assert find("1." * 1750) is None
    assert find("@" * 3500) is None
    assert time.perf_counter() - started < 0.5
