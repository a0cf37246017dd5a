"""In the sandbox the demo admin can try /stats and /export on the tips made there: the demo
resident reports a tip, then the admin gets this month's numbers with the chart, and a
spreadsheet with content, which the page serves as the document's download."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from sandbox.demo import ADMIN, RESIDENT
from tests.sandbox.harness import SandboxProcess

TIP_TEXT = "Có nhóm người lạ tụ tập đánh bạc ở nhà văn hóa thôn 4."


class Control:
    """The emulator's control routes, as the page uses them."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}_emulator/{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["result"]

    def messages(self, user_id: int) -> list[dict[str, Any]]:
        return self._call("GET", f"chats/{user_id}/messages?include_user=0")

    def command(self, user_id: int, command: str) -> None:
        self._call("POST", f"users/{user_id}/command", {"command": command})

    def text(self, user_id: int, text: str) -> None:
        self._call("POST", f"users/{user_id}/text", {"text": text})

    def wait(self, user_id: int, predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages(user_id)):
                if not message["deleted"] and predicate(message):
                    return message
            time.sleep(0.1)
        raise TimeoutError(f"no such message for {user_id}: {self.messages(user_id)[-3:]}")

    def press(self, user_id: int, data: str) -> None:
        def offers(message):  # type: ignore[no-untyped-def]
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            return any(b.get("callback_data") == data for row in rows for b in row)

        message = self.wait(user_id, offers)
        self._call("POST", f"users/{user_id}/click",
                   {"message_id": message["message_id"], "callback_data": data})


def _texts(user_id: int, control: Control, part: str):  # type: ignore[no-untyped-def]
    return control.wait(user_id, lambda m: part in (m["text"] or ""))


def test_the_demo_admin_tries_stats_and_export_on_a_tip_made_in_the_sandbox(tmp_path):
    sandbox = SandboxProcess(tmp_path)
    try:
        control = Control(sandbox.start())
        # The demo resident reports a tip, as on the page.
        control.command(RESIDENT.user_id, "/report")
        control.press(RESIDENT.user_id, "r:cat:gambling")
        control.press(RESIDENT.user_id, "r:area:a-luoi")
        _texts(RESIDENT.user_id, control, "3. ")
        control.text(RESIDENT.user_id, "nhà văn hóa thôn 4")
        control.press(RESIDENT.user_id, "r:when:today")
        _texts(RESIDENT.user_id, control, "5. ")
        control.text(RESIDENT.user_id, TIP_TEXT)
        control.press(RESIDENT.user_id, "r:text:done")
        control.press(RESIDENT.user_id, "r:ev:skip")
        control.press(RESIDENT.user_id, "r:fu:anon")
        control.press(RESIDENT.user_id, "r:sum:send")
        _texts(RESIDENT.user_id, control, "biên nhận")

        # /stats: this month has that tip, and the chart follows.
        control.command(ADMIN.user_id, "/stats")
        control.press(ADMIN.user_id, "ss:p:m")
        answer = _texts(ADMIN.user_id, control, "Tổng số tin báo nhận được")
        assert "Tổng số tin báo nhận được: 1" in answer["text"]
        assert "• 🎲 Cờ bạc: 1" in answer["text"]
        assert "• Thị trấn A Lưới: 1" in answer["text"]
        chart = control.wait(ADMIN.user_id, lambda m: m["media_kind"] == "photo")
        with urllib.request.urlopen(
            f"{control.url}sandbox/media/{chart['file_id']}", timeout=10
        ) as response:
            assert response.read()[:8] == b"\x89PNG\r\n\x1a\n"

        # /export with content: the page serves the spreadsheet, with the tip's text in it.
        control.command(ADMIN.user_id, "/export")
        control.press(ADMIN.user_id, "ex:p:m")
        control.press(ADMIN.user_id, "ex:c:1:m")
        document = control.wait(ADMIN.user_id, lambda m: m["media_kind"] == "document")
        assert document["raw"]["document"]["file_name"].endswith(".xlsx")
        with urllib.request.urlopen(
            f"{control.url}sandbox/media/{document['file_id']}", timeout=10
        ) as response:
            book = load_workbook(BytesIO(response.read()))
        rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
        assert len(rows) == 1 and rows[0][11] == TIP_TEXT
    finally:
        assert sandbox.stop(signal.SIGTERM) == 0, sandbox.output
