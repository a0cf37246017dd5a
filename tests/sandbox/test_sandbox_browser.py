"""The sandbox page in a real browser (Debian's chromium driven by Playwright): a resident reports
a tip with the buttons, the officer's pane shows the card, the resident checks the tip with
/status and the receipt code, the officer replies from the card, and the resident reads the reply
in /status.

Outside CI the test skips when /usr/bin/chromium is missing; with CI=true it must run. It never
downloads a browser. It saves a screenshot of the page in its temporary folder, and to
docs/sandbox.png when run with TIPLINE_SCREENSHOT_DOCS=1.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sandbox.demo import ADMIN
from tests.sandbox.harness import ROOT, SandboxProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI") == "true"
WAIT = 30_000  # milliseconds
RECEIPT = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
TIP_TEXT = "Tối nào cũng có người bán ma túy ở quán nước đầu cầu treo thôn 2."
REPLY_TEXT = "Cảm ơn bạn, công an xã đã nắm thông tin và đang xác minh."
AREA_BUTTON = '.ik-button[data-callback^="r:area:"]:not([data-callback="r:area:unsure"])'


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: with CI=true the browser test must run (.ci/run installs chromium)")
    pytest.skip(f"{reason}: install it (apt-get install chromium) to run the sandbox browser test")


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def sandbox(browser, tmp_path_factory):  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("sandbox")
    process = SandboxProcess(work, "--data", str(work / "data"))
    process.start()
    yield process
    assert process.stop() == 0, process.output


@pytest.fixture(scope="module")
def page(browser, sandbox):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def only_this_machine(route) -> None:  # type: ignore[no-untyped-def]
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_machine)
    page.goto(sandbox.url)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=WAIT)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not outside, f"the page asked the internet for: {outside}"


@pytest.fixture(scope="module")
def journey() -> dict[str, str]:
    """What the first test leaves for the next: the receipt code."""
    return {}


class Chat:
    """One pane of the page, used the way a person would: type, press buttons, attach."""

    def __init__(self, page, role: str) -> None:  # type: ignore[no-untyped-def]
        from playwright.sync_api import expect

        self.page = page
        self.expect = expect
        self.pane = page.locator(f'.pane[data-role="{role}"]')

    def send(self, text: str) -> None:
        box = self.pane.locator(".composer .input")
        box.fill(text)
        box.press("Enter")

    def press(self, data: str) -> None:
        self.pane.locator(f'.ik-button[data-callback="{data}"]').last.click(timeout=WAIT)

    def attach(self, what: str) -> None:
        self.pane.locator(".attach-button").click()
        self.pane.locator(f".attach-{what}").click()

    def bot_text(self, pattern: str | re.Pattern[str]):  # type: ignore[no-untyped-def]
        found = self.pane.locator(".msg.in .text", has_text=pattern).last
        self.expect(found).to_be_visible(timeout=WAIT)
        return found

    def bot_messages(self) -> int:
        return self.pane.locator(".msg.in").count()

    def wait_answer(self, before: int) -> None:
        self.expect(self.pane.locator(".msg.in")).not_to_have_count(before, timeout=WAIT)

    def menu(self) -> list[str]:
        self.pane.locator(".menu-button").click()
        items = self.pane.locator(".commands-popup button[data-command]")
        self.expect(items.first).to_be_visible(timeout=WAIT)
        commands = items.evaluate_all("nodes => nodes.map(n => n.dataset.command)")
        self.pane.locator(".menu-button").click()
        return commands


def _report_with_the_buttons(resident: Chat) -> str:
    """A drugs tip with a location pin, sent with the buttons; the receipt code shown for it.

    The receipts already in the chat are counted first: `.last` of the pattern alone would find
    an earlier receipt before the new one arrives."""
    from playwright.sync_api import expect

    receipts = resident.pane.locator(".msg.in .text", has_text=RECEIPT)
    earlier = receipts.count()
    resident.send("/report")
    resident.press("r:cat:drugs")
    resident.pane.locator(AREA_BUTTON).first.click(timeout=WAIT)
    expect(resident.pane.locator('[data-callback="r:place:skip"]').last).to_be_visible()
    resident.attach("location")  # the place: a location pin
    resident.press("r:when:today")
    expect(resident.pane.locator('[data-callback="r:when:today"]')).to_have_count(0)
    resident.send(TIP_TEXT)
    resident.press("r:text:done")
    resident.press("r:ev:skip")
    resident.press("r:fu:anon")
    resident.press("r:sum:send")
    expect(receipts).to_have_count(earlier + 1, timeout=WAIT)
    code = RECEIPT.search(receipts.last.inner_text())
    assert code
    return code.group(0)


def test_resident_reports_with_the_buttons_officer_sees_the_card_resident_checks_status(
    page, journey, tmp_path
):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    resident, officer, admin = Chat(page, "resident"), Chat(page, "officer"), Chat(page, "admin")
    assert "tips" in officer.menu() and "invite" in admin.menu()

    resident.pane.locator(".start-button").click()  # a new chat, as in Telegram
    resident.bot_text("113")
    assert "report" in resident.menu() and "tips" not in resident.menu()
    journey["code"] = _report_with_the_buttons(resident)

    card = officer.bot_text(TIP_TEXT)
    expect(card).to_contain_text("Ma túy")
    pin = officer.pane.locator(".msg.in .location").last
    expect(pin).to_be_visible(timeout=WAIT)
    expect(pin).to_contain_text("16.27450, 107.22870")
    expect(officer.pane.locator(".msg", has_text=journey["code"])).to_have_count(0)

    before = resident.bot_messages()
    resident.send("/status")
    resident.wait_answer(before)
    resident.send(journey["code"].lower().replace("-", " "))  # forgiving input
    expect(resident.pane.locator('.ik-button[data-callback^="st:add"]').last).to_be_visible(
        timeout=WAIT
    )
    expect(resident.pane.locator(".msg.in").last).to_contain_text("Ma túy")

    before = admin.bot_messages()
    admin.send("/areas")
    admin.wait_answer(before)
    _screenshot(page, tmp_path / "sandbox.png")


def test_officer_replies_from_the_card_and_the_resident_reads_it_in_status(
    page, journey, tmp_path
):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    officer, resident = Chat(page, "officer"), Chat(page, "resident")
    if "code" not in journey:  # run alone, or the report test above failed: report here
        if resident.pane.locator(".start-button").is_visible():
            resident.pane.locator(".start-button").click()
            resident.bot_text("113")
        journey["code"] = _report_with_the_buttons(resident)
    card = officer.pane.locator(".msg.in", has=page.locator(".text", has_text=TIP_TEXT)).last
    reply = card.locator('.ik-button[data-callback^="o:"]', has_text=re.compile("Trả lời|Reply"))
    expect(reply).to_have_count(1, timeout=WAIT)
    before = officer.bot_messages()
    reply.click()
    officer.wait_answer(before)
    before = officer.bot_messages()
    officer.send(REPLY_TEXT)
    officer.wait_answer(before)
    resident.send(f"/status {journey['code']}")
    expect(resident.pane.locator(".msg.in .text", has_text=REPLY_TEXT).last).to_be_visible(
        timeout=WAIT
    )
    _screenshot(page, tmp_path / "sandbox.png")


def test_page_shows_telegram_formatting_reply_keyboards_edits_and_deletions_live(
    page, sandbox
):  # type: ignore[no-untyped-def]
    """What the bot does not send today but Telegram clients show: sent here through the Bot API
    with the bot's own token and address, read from the bot process's environment."""
    from playwright.sync_api import expect

    bot_api = _bot_api(sandbox)
    admin = Chat(page, "admin")
    sent = bot_api(
        "sendMessage",
        chat_id=ADMIN.user_id,
        parse_mode="HTML",
        text="<b>đậm</b> <i>nghiêng</i> <u>gạch</u> <s>xóa</s> <code>mã</code> "
        '<a href="https://example.org/x">liên kết</a> <tg-spoiler>ẩn</tg-spoiler>\n'
        "<blockquote>trích dẫn</blockquote><pre>khối mã</pre> /help",
        reply_markup={"keyboard": [[{"text": "Có"}, {"text": "Không"}]], "one_time_keyboard": True},
    )
    message = admin.pane.locator(f'.msg[data-message-id="{sent["message_id"]}"]')
    for tag, text in (("b", "đậm"), ("i", "nghiêng"), ("u", "gạch"), ("s", "xóa"),
                      ("code", "mã"), (".spoiler", "ẩn"), ("blockquote", "trích dẫn"),
                      ("pre", "khối mã"), ('a[href="https://example.org/x"]', "liên kết"),
                      (".command", "/help")):  # fmt: skip
        expect(message.locator(f".text {tag}").first).to_have_text(text, timeout=WAIT)

    keyboard = admin.pane.locator(".reply-keyboard")
    expect(keyboard.locator(".rk-button", has_text="Không")).to_be_visible(timeout=WAIT)
    keyboard.locator(".rk-button", has_text="Có").click()
    expect(admin.pane.locator(".msg.out .text").last).to_have_text("Có", timeout=WAIT)
    expect(keyboard).to_be_hidden()  # one-time keyboard

    bot_api("editMessageText", chat_id=ADMIN.user_id, message_id=sent["message_id"],
            text="<b>đã đổi</b>", parse_mode="HTML")  # fmt: skip
    expect(message.locator(".text b")).to_have_text("đã đổi", timeout=WAIT)
    expect(message.locator(".edited")).to_be_visible()
    bot_api("deleteMessage", chat_id=ADMIN.user_id, message_id=sent["message_id"])
    expect(message).to_have_count(0, timeout=WAIT)


def test_page_shows_photos_switches_to_english_and_stacks_on_a_narrow_screen(page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    admin = Chat(page, "admin")
    admin.attach("photo")
    image = admin.pane.locator(".msg.out img.photo").last
    expect(image).to_be_visible(timeout=WAIT)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=WAIT
    )

    page.locator('.language-switch button[data-language="en"]').click()
    expect(page.locator('.pane[data-role="resident"] .role-name')).to_have_text("Resident")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator('.language-switch button[data-language="vi"]').click()
    expect(page.locator('.pane[data-role="resident"] .role-name')).to_have_text("Người dân")

    page.set_viewport_size({"width": 400, "height": 800})
    try:
        boxes = [
            page.locator(f'.pane[data-role="{role}"]').bounding_box()
            for role in ("resident", "officer", "admin")
        ]
        for upper, lower in itertools.pairwise(boxes):
            assert upper and lower
            assert lower["y"] >= upper["y"] + upper["height"] - 1, "panes stack"
            assert upper["x"] + upper["width"] <= 400 + 1, "no pane wider than the screen"
    finally:
        page.set_viewport_size({"width": 1440, "height": 900})


def _screenshot(page, artifact: Path) -> None:  # type: ignore[no-untyped-def]
    for role in ("resident", "officer", "admin"):
        page.locator(f'.pane[data-role="{role}"] .messages').evaluate(
            "list => { list.scrollTop = list.scrollHeight; }"
        )
    page.screenshot(path=str(artifact))
    print(f"screenshot: {artifact}")
    if os.environ.get("TIPLINE_SCREENSHOT_DOCS") == "1":
        shutil.copyfile(artifact, ROOT / "docs" / "sandbox.png")


def _bot_api(sandbox: SandboxProcess):  # type: ignore[no-untyped-def]
    """Call the emulator's Bot API as the sandbox's bot (its token is in the bot's environment)."""
    (pid,) = sandbox.children()
    env = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
        if "=" in item
    )
    base = f"{env['TIPBOT_API_BASE_URL']}{env['TIPBOT_TOKEN']}"

    def call(method: str, **params: object):  # type: ignore[no-untyped-def]
        request = urllib.request.Request(
            f"{base}/{method}",
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["ok"], answer
        return answer["result"]

    return call


LONG_TIP = " ".join([TIP_TEXT] * 20)  # a long report: the summary is taller than the chat
IN_VIEW = """node => {
    const list = node.closest('.messages');
    const a = node.getBoundingClientRect(), b = list.getBoundingClientRect();
    return a.height > 0 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
}"""
IMAGES_LOADED = """pane => [...pane.querySelectorAll('img.photo')]
    .every(img => img.complete && img.naturalWidth > 0)"""


STATE = """node => {
    const list = node.closest('.messages'), pane = node.closest('.pane');
    const a = node.getBoundingClientRect(), b = list.getBoundingClientRect();
    return {node: [a.top, a.bottom, a.height], list: [b.top, b.bottom], scrollTop: list.scrollTop,
            scrollHeight: list.scrollHeight, clientHeight: list.clientHeight,
            marker: !pane.querySelector('.new-messages').hidden,
            after: [...list.querySelectorAll('.msg')].slice(-3).map(m => m.innerText.slice(0, 80))};
}"""


def _wait_in_view(page, node) -> None:  # type: ignore[no-untyped-def]
    """Wait until NODE is inside its list's visible part; on a timeout, say where everything was."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    handle = node.element_handle()
    try:
        page.wait_for_function(IN_VIEW, arg=handle, timeout=WAIT)
    except PlaywrightTimeout:
        pytest.fail(f"not in view: {handle.evaluate(STATE)}")


def _settled(page, chat: Chat) -> None:  # type: ignore[no-untyped-def]
    """Every image of the chat loaded, and two frames drawn since."""
    page.wait_for_function(IMAGES_LOADED, arg=chat.pane.element_handle(), timeout=WAIT)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _visible_without_scrolling(page, chat: Chat, data: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    button = chat.pane.locator(f'.ik-button[data-callback="{data}"]').last
    expect(button).to_be_attached(timeout=WAIT)
    _settled(page, chat)
    _wait_in_view(page, button)


def test_chats_follow_the_newest_message_through_photos_and_a_long_report(page):  # type: ignore[no-untyped-def]
    """The last message's buttons are in view without scrolling, as in Telegram, even when a
    photo above them loads after they arrived and the summary is taller than the chat."""
    from playwright.sync_api import expect

    resident, officer = Chat(page, "resident"), Chat(page, "officer")
    photos = officer.pane.locator(".msg.in img.photo").count()
    if resident.pane.locator(".start-button").is_visible():  # run alone: a new chat
        resident.pane.locator(".start-button").click()
        resident.bot_text("113")
    resident.send("/report")
    resident.press("r:cat:theft")
    resident.pane.locator(AREA_BUTTON).first.click(timeout=WAIT)
    resident.press("r:place:skip")
    resident.press("r:when:today")
    expect(resident.pane.locator('[data-callback="r:when:today"]')).to_have_count(0)
    resident.send(LONG_TIP)
    _visible_without_scrolling(page, resident, "r:text:done")
    resident.press("r:text:done")
    expect(resident.pane.locator('[data-callback="r:ev:skip"]').last).to_be_visible(timeout=WAIT)
    resident.attach("photo")  # the evidence: the sample photo loads after its message is shown
    _visible_without_scrolling(page, resident, "r:ev:done")
    resident.press("r:ev:done")
    _visible_without_scrolling(page, resident, "r:fu:anon")
    resident.press("r:fu:anon")
    _visible_without_scrolling(page, resident, "r:sum:send")  # the demo's key moment
    # Count the receipts already in the chat (a run after the first test has one): `.last` of
    # the pattern alone would find the old receipt before the new one arrives.
    receipts = resident.pane.locator(".msg.in .text", has_text=RECEIPT)
    earlier = receipts.count()
    resident.press("r:sum:send")
    expect(receipts).to_have_count(earlier + 1, timeout=WAIT)
    receipt = receipts.last
    _settled(page, resident)
    _wait_in_view(page, receipt)

    # The officer's pane followed too: the new card and the photo sent with it end in view.
    card = officer.pane.locator(".msg.in", has=page.locator(".text", has_text=LONG_TIP[:60])).last
    expect(card).to_be_attached(timeout=WAIT)
    expect(officer.pane.locator(".msg.in img.photo")).not_to_have_count(photos, timeout=WAIT)
    _settled(page, officer)
    end = officer.pane.locator(".msg").last.locator(".meta, .inline-keyboard").last
    _wait_in_view(page, end)


def test_a_reader_who_scrolled_up_stays_put_and_is_offered_the_new_messages(
    page, sandbox
):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    bot_api = _bot_api(sandbox)
    admin = Chat(page, "admin")
    marker = admin.pane.locator(".new-messages")
    first = bot_api("sendMessage", chat_id=ADMIN.user_id, text="Tin một")
    expect(admin.pane.locator(f'.msg[data-message-id="{first["message_id"]}"]')).to_be_visible(
        timeout=WAIT
    )
    assert admin.pane.locator(f'.msg[data-message-id="{first["message_id"]}"]').evaluate(IN_VIEW)

    # An edit that makes the last message much taller keeps its end in view.
    long_text = "\n".join(f"Dòng {n}" for n in range(1, 41))
    bot_api("editMessageText", chat_id=ADMIN.user_id, message_id=first["message_id"],
            text=long_text)  # fmt: skip
    grown = admin.pane.locator(f'.msg[data-message-id="{first["message_id"]}"] .meta')
    expect(grown).to_be_attached(timeout=WAIT)
    expect(admin.pane.locator(".msg.in .text", has_text="Dòng 40").last).to_be_attached(
        timeout=WAIT
    )
    _wait_in_view(page, grown)

    # Scrolled up (the mouse wheel) to read history: new messages do not pull the reader down.
    messages = admin.pane.locator(".messages")
    box = messages.bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -100_000)
    page.wait_for_function("list => list.scrollTop === 0", arg=messages.element_handle())
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    expect(marker).to_be_hidden()
    for n in (2, 3):
        sent = bot_api("sendMessage", chat_id=ADMIN.user_id, text=f"Tin {n}")
        expect(admin.pane.locator(f'.msg[data-message-id="{sent["message_id"]}"]')).to_be_attached(
            timeout=WAIT
        )
    expect(marker).to_be_visible(timeout=WAIT)
    expect(marker).to_contain_text("2 tin mới")
    assert messages.evaluate("list => list.scrollTop") == 0
    marker.click()
    expect(marker).to_be_hidden()
    last = admin.pane.locator(".msg").last
    page.wait_for_function(IN_VIEW, arg=last.element_handle(), timeout=WAIT)
