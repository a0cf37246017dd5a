"""Every user-facing text, in Vietnamese first and English second.

Texts are HTML templates for Telegram's HTML parse mode. `text()` is the one place where values
are put into them, and it escapes every value unless the caller marks it as already-safe
`Html` (only ever built from other catalog texts). So a resident who types `<b>` or `1 < 2`
can never break a message or inject formatting into an officer's chat.
"""

from __future__ import annotations

import html
import string

from texts import campaign as texts_campaign
from texts import evidence as texts_evidence
from texts import officer as texts_officer
from texts import privacy as texts_privacy
from texts import stats as texts_stats

LANGUAGES = ("vi", "en")


class Html(str):
    """Text that is already valid Telegram HTML (built from catalog texts): not escaped again."""

    __slots__ = ()


def escape(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode (`<`, `>`, `&` and quotes)."""
    return html.escape(str(value), quote=True)


def text(language: str, key: str, /, **values: object) -> Html:
    """The catalog text `key` in `language` (falling back to Vietnamese), with escaped values."""
    entry = MESSAGES[key]
    template = entry.get(language) or entry["vi"]
    safe = {k: v if isinstance(v, Html) else escape(v) for k, v in values.items()}
    return Html(template.format(**safe))


def plain(language: str, key: str, /, **values: object) -> str:
    """A catalog text for places without a parse mode (button labels, callback answers)."""
    entry = MESSAGES[key]
    template = entry.get(language) or entry["vi"]
    return template.format(**{k: str(v) for k, v in values.items()})


def file_kind_label(language: str, kind: str) -> str:
    """A file's kind ("photo", "voice"...) as a person reads it; anything else is a document."""
    for known, key in (
        ("photo", "file_kind_photo"),
        ("video", "file_kind_video"),
        ("voice", "file_kind_voice"),
        ("audio", "file_kind_audio"),
        ("animation", "file_kind_animation"),
        ("video_note", "file_kind_video_note"),
    ):
        if kind == known:
            return plain(language, key)
    return plain(language, "file_kind_document")


def placeholders(template: str) -> set[str]:
    """The `{names}` a template uses; the catalog test checks both languages agree."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


CATEGORIES = (
    "drugs",
    "theft",
    "gambling",
    "disorder",
    "fraud",
    "smuggling",
    "forest",
    "domestic",
    "other",
)

STATUSES = ("new", "acknowledged", "verifying", "resolved", "unfounded", "transferred")

MESSAGES: dict[str, dict[str, str]] = {
    # --- welcome, help, language -------------------------------------------------------------
    "welcome": {
        "vi": (
            "<b>Đường dây tố giác tội phạm ẩn danh</b>\n"
            "Công an và Ủy ban MTTQ Việt Nam — phong trào "
            "«Toàn dân bảo vệ an ninh Tổ quốc».\n\n"
            "Bạn có thể báo tin về ma túy, trộm cắp, cờ bạc, gây rối, lừa đảo, buôn lậu, "
            "phá rừng, bạo lực gia đình… mà không cần cho biết mình là ai.\n\n"
            "🔒 <b>Quyền riêng tư</b>\n"
            "• Cán bộ tiếp nhận <b>không bao giờ</b> biết bạn là ai: không tên, không tài khoản, "
            "không số điện thoại.\n"
            "• Được lưu, đã mã hóa: nội dung tin báo, nơi xảy ra và tệp bạn gửi. "
            "Không lưu tên hay tên tài khoản của bạn; mã số cuộc trò chuyện chỉ được lưu "
            "(mã hóa) nếu bạn chọn nhận thông báo.\n"
            "• Bạn nhận một mã biên nhận để theo dõi tin báo; chỉ bạn giữ mã này.\n"
            "• Lưu ý: bản thân Telegram biết ai nhắn tin cho bất kỳ bot nào.\n\n"
            "🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "<b>Anonymous crime tip-off line</b>\n"
            "Police and the Fatherland Front committee — the movement "
            "“All people protect national security”.\n\n"
            "You can report drugs, theft, gambling, public disorder, scams, smuggling, illegal "
            "logging, domestic violence… without saying who you are.\n\n"
            "🔒 <b>Privacy</b>\n"
            "• The officers who receive your tip <b>never</b> learn who you are: no name, no "
            "account, no phone number.\n"
            "• Kept, encrypted: what you report, the place and the files you send. Your "
            "name and username are not kept; this chat's id is kept (encrypted) only if you "
            "ask to be notified.\n"
            "• You get a receipt code to follow your tip; only you hold it.\n"
            "• Note: Telegram itself knows who writes to any bot.\n\n"
            "🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "help": {
        "vi": (
            "<b>Cách dùng</b>\n"
            "/report — báo tin mới\n"
            "/status — tra cứu tin đã báo bằng mã biên nhận\n"
            "/language — đổi ngôn ngữ\n"
            "/forget — xóa liên kết thông báo và đăng ký nhận tin của cuộc trò chuyện này\n"
            "/cancel — hủy việc đang làm\n\n"
            "🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "<b>How to use</b>\n"
            "/report — report something new\n"
            "/status — check a tip with its receipt code\n"
            "/language — change language\n"
            "/forget — remove this chat's notification links and subscription\n"
            "/cancel — cancel what you are doing\n\n"
            "🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "staff_header": {
        "vi": (
            "👮 <b>{name}</b>, bạn là <b>{role}</b> — địa bàn: {areas}.\n"
            "📥 Tin báo đang mở: <b>{open}</b> — xem bằng /tips. Các lệnh của bạn: /help.\n"
            "Bạn vẫn có thể dùng đường dây như mọi người dân (bên dưới).\n\n"
        ),
        "en": (
            "👮 <b>{name}</b>, you are <b>{role}</b> — areas: {areas}.\n"
            "📥 Open tips: <b>{open}</b> — see them with /tips. Your commands: /help.\n"
            "You can still use the line like any resident (below).\n\n"
        ),
    },
    "staff_role_officer": {"vi": "cán bộ tiếp nhận", "en": "an officer"},
    "staff_role_admin": {"vi": "quản trị viên", "en": "an admin"},
    "help_officer": {
        "vi": (
            "\n\n<b>Cán bộ</b>\n/tips — tin báo của địa bàn\n/tip MÃ — xem một tin\n"
            "/stats — thống kê tin báo và biểu đồ\n"
            "Trên thẻ tin: Đã nhận, Trả lời, Tình trạng, Chuyển."
        ),
        "en": (
            "\n\n<b>Officers</b>\n/tips — tips of your areas\n/tip REF — one tip\n"
            "/stats — tip statistics and a chart\n"
            "On a tip card: Acknowledge, Reply, Status, Reassign."
        ),
    },
    "help_admin": {
        "vi": (
            "\n\n<b>Quản trị</b>\n/invite — mời cán bộ\n/officers — quản lý cán bộ\n"
            "/areas — danh sách địa bàn\n/export — xuất bảng tính tin báo (.xlsx)"
        ),
        "en": (
            "\n\n<b>Admins</b>\n/invite — invite an officer\n/officers — manage officers\n"
            "/areas — the areas\n/export — export tips to a spreadsheet (.xlsx)"
        ),
    },
    "menu_report": {"vi": "📝 Báo tin", "en": "📝 Report"},
    "menu_status": {"vi": "🔎 Tra cứu tin đã báo", "en": "🔎 Check a tip"},
    "menu_language": {"vi": "🌐 Language / Ngôn ngữ", "en": "🌐 Ngôn ngữ / Language"},
    "language_choose": {
        "vi": "Chọn ngôn ngữ / Choose a language:",
        "en": "Choose a language / Chọn ngôn ngữ:",
    },
    "language_set": {
        "vi": "Đã chuyển sang tiếng Việt.",
        "en": "Language set to English.",
    },
    "cmd_start": {"vi": "Bắt đầu, giới thiệu", "en": "Start, about this line"},
    "cmd_report": {"vi": "Báo tin mới", "en": "Report something"},
    "cmd_status": {"vi": "Tra cứu tin đã báo", "en": "Check a tip"},
    "cmd_language": {"vi": "Đổi ngôn ngữ", "en": "Change language"},
    "cmd_forget": {
        "vi": "Xóa liên kết thông báo và đăng ký nhận tin",
        "en": "Remove notification links and subscription",
    },
    "cmd_help": {"vi": "Hướng dẫn", "en": "Help"},
    "cmd_cancel": {"vi": "Hủy việc đang làm", "en": "Cancel"},
    "cmd_tips": {"vi": "Tin báo của địa bàn", "en": "Tips of my areas"},
    "cmd_tip": {"vi": "Xem một tin báo", "en": "Show one tip"},
    "cmd_invite": {"vi": "Mời cán bộ", "en": "Invite an officer"},
    "cmd_areas": {"vi": "Danh sách địa bàn", "en": "The areas"},
    "cmd_officers": {"vi": "Quản lý cán bộ", "en": "Manage officers"},
    # --- generic answers to bad input ---------------------------------------------------------
    "private_only": {
        "vi": "Vì an toàn của bạn, hãy nhắn riêng cho bot, không báo tin trong nhóm.",
        "en": "For your safety, write to the bot privately; do not report in a group.",
    },
    "edited_ignored": {
        "vi": "Tin đã sửa không được ghi nhận. Nếu cần, hãy gửi lại nội dung mới.",
        "en": "Edited messages are not taken into account. Please send the new text again.",
    },
    "unknown_input": {
        "vi": "Mình chưa hiểu. Gõ /report để báo tin, /status để tra cứu, /help để xem hướng dẫn.",
        "en": "I did not understand. Type /report to report, /status to check a tip, /help.",
    },
    "button_expired": {
        "vi": "Nút này đã hết hạn.",
        "en": "This button has expired.",
    },
    "not_allowed": {"vi": "Không được phép.", "en": "Not allowed."},
    "slow_down": {
        "vi": (
            "Bạn đang gửi quá nhanh. Xin chờ một phút rồi gửi tiếp: những tin gửi trong "
            "lúc này sẽ không được đọc.\n\n🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "You are sending messages too fast. Please wait a minute, then carry on: what you "
            "send meanwhile is not read.\n\n🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "tips_limit_reached": {
        "vi": (
            "Cảm ơn bạn. Mỗi người có thể gửi tối đa {limit} tin báo trong 24 giờ, và hôm "
            "nay bạn đã gửi đủ. Bạn vẫn có thể bổ sung thông tin cho tin đã gửi bằng /status "
            "và mã tiếp nhận.\n\n🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "Thank you. Each person can send up to {limit} tips in 24 hours, and you have "
            "reached that today. You can still add information to a tip you sent with "
            "/status and its receipt code.\n\n🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "error_try_again": {
        "vi": "Xin lỗi, đã có lỗi. Hãy thử lại sau ít phút. Nguy hiểm ngay lúc này? Gọi 113.",
        "en": "Sorry, something went wrong. Please try again in a few minutes. Danger now? 113.",
    },
    # --- the report conversation --------------------------------------------------------------
    "report_not_staffed": {
        "vi": (
            "Đường dây chưa có cán bộ tiếp nhận, nên chưa thể nhận tin báo. "
            "Không có gì được lưu.\n\n🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "The line is not staffed yet, so it cannot take tips. Nothing was kept.\n\n"
            "🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "report_intro": {
        "vi": (
            "📝 <b>Báo tin mới</b> — vài bước ngắn; bấm <b>Hủy</b> hoặc gõ /cancel bất cứ lúc "
            "nào. Không ai biết bạn là ai.\n🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "📝 <b>New report</b> — a few short steps; press <b>Cancel</b> or type /cancel at "
            "any time. Nobody learns who you are.\n🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "report_resuming": {
        "vi": "Bạn đang có một tin báo dở dang; tiếp tục từ bước đang làm:",
        "en": "You have a report in progress; carrying on from where you were:",
    },
    "report_cancelled": {
        "vi": "Đã hủy. Không có gì được gửi hay lưu lại.",
        "en": "Cancelled. Nothing was sent or kept.",
    },
    "report_continue_hint": {
        "vi": "Nút đó không còn dùng được. Bấm để tiếp tục tin báo từ bước đang làm.",
        "en": "That button can no longer be used. Press to continue your report where it is.",
    },
    "report_none_in_progress": {
        "vi": "Không có tin báo nào đang làm dở. Bắt đầu tin mới?",
        "en": "There is no report in progress. Start a new one?",
    },
    "btn_continue": {"vi": "▶️ Tiếp tục", "en": "▶️ Continue"},
    "report_ask_category": {
        "vi": "<b>1. Loại vụ việc</b>\nBạn muốn báo về việc gì?",
        "en": "<b>1. Kind of incident</b>\nWhat do you want to report?",
    },
    "report_ask_area": {
        "vi": "<b>2. Địa bàn</b>\nViệc xảy ra ở xã, thị trấn nào? (trang {page}/{pages})",
        "en": "<b>2. Area</b>\nIn which commune or town did it happen? (page {page}/{pages})",
    },
    "report_ask_place": {
        "vi": (
            "<b>3. Nơi cụ thể</b> (không bắt buộc)\nGõ tên thôn, đường, địa điểm dễ nhận ra, "
            "hoặc gửi một vị trí (📎 → Vị trí). Hoặc bấm <b>Bỏ qua</b>.\n⚠️ «Gửi vị trí hiện "
            "tại» cho biết chỗ bạn đang đứng: nếu bạn không ở nơi xảy ra, hãy chọn điểm trên bản "
            "đồ."
        ),
        "en": (
            "<b>3. Exact place</b> (optional)\nType a village, road or landmark, or send a "
            "location pin (📎 → Location). Or press <b>Skip</b>.\n⚠️ “Send my current "
            "location” shows where you are standing: if you are not at the place, pick a point "
            "on the map."
        ),
    },
    "report_ask_when": {
        "vi": "<b>4. Khi nào?</b> (không bắt buộc)",
        "en": "<b>4. When?</b> (optional)",
    },
    "report_ask_text": {
        "vi": (
            "<b>5. Chuyện gì đã xảy ra?</b>\nKể lại những gì bạn thấy: ai (đặc điểm), làm gì, "
            "bao nhiêu người, phương tiện… Có thể gửi nhiều tin nhắn, hoặc nói bằng tin nhắn "
            "thoại; xong thì bấm "
            "<b>Xong phần mô tả</b>.\nĐừng ghi điều gì làm lộ danh tính của bạn."
        ),
        "en": (
            "<b>5. What happened?</b>\nTell what you saw: who (description), doing what, how "
            "many people, vehicles… You can send several messages, or speak in voice notes; "
            "then press <b>Description "
            "done</b>.\nDo not write anything that would reveal who you are."
        ),
    },
    "report_ask_evidence": {
        "vi": (
            "<b>6. Bằng chứng</b> (không bắt buộc, tối đa {limit} tệp; đã có {count})\n"
            "Gửi ảnh, video, ghi âm hoặc tài liệu. Tệp gửi dạng <i>tài liệu</i>, âm thanh "
            "và video được bot làm sạch (xoá tên tệp, vị trí, thiết bị, tác giả) trước khi "
            "đến cán bộ.\n⚠️ Giọng nói trong ghi âm và khuôn mặt trong video có thể bị nhận ra."
        ),
        "en": (
            "<b>6. Evidence</b> (optional, up to {limit} files; {count} so far)\n"
            "Send photos, videos, voice notes or documents. Documents, audio and videos are "
            "cleaned by the bot (file name, place, device, author removed) before officers "
            "get them.\n⚠️ A voice in a recording and a face in a video can be recognised."
        ),
    },
    "report_ask_followup": {
        "vi": (
            "<b>7. Theo dõi tin báo</b>\n• <b>Ẩn danh hoàn toàn</b>: bạn tự tra cứu bằng mã "
            "biên nhận.\n• <b>Báo cho tôi</b>: bot nhắn vào cuộc trò chuyện này khi có tin mới, "
            "không đổ chuông (cán bộ vẫn không biết bạn là ai)."
        ),
        "en": (
            "<b>7. Follow-up</b>\n• <b>Fully anonymous</b>: you check back with the receipt "
            "code.\n• <b>Notify me</b>: the bot writes to this chat when there is news, silently "
            "(no ring; officers still do not learn who you are)."
        ),
    },
    "report_ask_edit": {
        "vi": "Bạn muốn sửa phần nào?",
        "en": "Which part do you want to change?",
    },
    "report_summary": {
        "vi": (
            "<b>8. Kiểm tra lại trước khi gửi</b>\n\n"
            "<b>Loại:</b> {category}\n<b>Địa bàn:</b> {area}\n<b>Nơi cụ thể:</b> {place}\n"
            "<b>Khi nào:</b> {when}\n<b>Tệp đính kèm:</b> {attachments}\n"
            "<b>Theo dõi:</b> {followup}\n\n<b>Nội dung:</b>\n{description}"
        ),
        "en": (
            "<b>8. Check before sending</b>\n\n"
            "<b>Kind:</b> {category}\n<b>Area:</b> {area}\n<b>Exact place:</b> {place}\n"
            "<b>When:</b> {when}\n<b>Attachments:</b> {attachments}\n"
            "<b>Follow-up:</b> {followup}\n\n<b>What happened:</b>\n{description}"
        ),
    },
    "report_hint_category": {
        "vi": "Hãy chọn loại vụ việc bằng một nút bên dưới.",
        "en": "Please choose the kind of incident with a button below.",
    },
    "report_hint_area": {
        "vi": "Hãy chọn địa bàn bằng một nút bên dưới (hoặc «Không rõ»).",
        "en": "Please choose the area with a button below (or “Not sure”).",
    },
    "report_hint_place": {
        "vi": "Ở bước này, hãy gõ tên nơi chốn hoặc gửi một vị trí, hoặc bấm Bỏ qua.",
        "en": "At this step, type a place or send a location pin, or press Skip.",
    },
    "report_hint_when": {
        "vi": "Hãy chọn thời điểm bằng một nút bên dưới.",
        "en": "Please choose when with a button below.",
    },
    "report_hint_text": {
        "vi": "Ở bước này hãy viết hoặc gửi tin nhắn thoại. Ảnh và tệp gửi ở bước sau.",
        "en": "At this step write, or send voice notes. Photos and files come at the next step.",
    },
    "report_voice_added": {
        "vi": "Đã ghi nhận tin nhắn thoại ({count}). Nói hoặc viết thêm, hoặc bấm "
        "<b>Xong phần mô tả</b>.",
        "en": "Voice note received ({count}). Say or write more, or press <b>Description "
        "done</b>.",
    },
    "report_voice_warning": {
        "vi": "⚠️ Giọng nói có thể bị nhận ra. Nếu lo ngại, hãy nói nhỏ, đổi giọng, hoặc viết "
        "thay vì nói.",
        "en": "⚠️ A voice can be recognised. If that worries you, speak softly, change your "
        "voice, or write instead.",
    },
    "report_voice_full": {
        "vi": "Đã đủ {limit} tin nhắn thoại cho phần mô tả. Bấm <b>Xong phần mô tả</b>.",
        "en": "That is {limit} voice notes for the description. Press <b>Description done</b>.",
    },
    "report_spoken": {"vi": "🎙 {count} tin nhắn thoại", "en": "🎙 {count} voice note(s)"},
    "card_spoken": {
        "vi": "🎙 Mô tả bằng giọng nói: {count} tin nhắn thoại, gửi kèm ngay sau thẻ này.",
        "en": "🎙 Spoken description: {count} voice note(s), sent right after this card.",
    },
    "report_hint_evidence": {
        "vi": "Ở bước này hãy gửi ảnh, video, ghi âm hoặc tài liệu, hoặc bấm một nút.",
        "en": "At this step send photos, videos, voice notes or documents, or press a button.",
    },
    "report_hint_followup": {
        "vi": "Hãy chọn cách theo dõi bằng một nút bên dưới.",
        "en": "Please choose how to follow up with a button below.",
    },
    "report_hint_summary": {
        "vi": "Hãy bấm Gửi, Sửa hoặc Hủy bên dưới.",
        "en": "Please press Send, Edit or Cancel below.",
    },
    "report_place_too_long": {
        "vi": "Phần nơi chốn dài quá (tối đa 500 ký tự). Hãy viết ngắn hơn.",
        "en": "The place is too long (500 characters at most). Please shorten it.",
    },
    "report_text_added": {
        "vi": "Đã ghi nhận ({count} tin nhắn). Gửi thêm, hoặc bấm Xong phần mô tả.",
        "en": "Noted ({count} messages). Send more, or press Description done.",
    },
    "report_text_full": {
        "vi": "Phần mô tả đã đủ dài (tối đa {limit} ký tự); tin nhắn này không được thêm vào.",
        "en": "The description is full ({limit} characters at most); this message was not added.",
    },
    "report_evidence_added": {
        "vi": "Đã nhận tệp ({count}/{limit}). Gửi thêm, hoặc bấm Xong.",
        "en": "File received ({count}/{limit}). Send more, or press Done.",
    },
    "report_evidence_full": {
        "vi": "Đã đủ {limit} tệp; tệp này không được thêm vào.",
        "en": "{limit} files already; this one was not added.",
    },
    "report_pin_attached": {"vi": "📍 có gửi vị trí", "en": "📍 location pin sent"},
    "report_sent_summary": {
        "vi": "✅ Tin báo đã được gửi.",
        "en": "✅ Your report was sent.",
    },
    "report_receipt": {
        "vi": (
            "✅ <b>Đã nhận tin báo của bạn.</b> Cảm ơn bạn đã góp phần giữ bình yên cho "
            "thôn bản.\n\nMã biên nhận của bạn:\n<code>{code}</code>\n\n"
            "🔑 Hãy chép lại mã này và giữ kín: ai có mã đều đọc được tin báo. Dùng /status "
            "và nhập mã để xem tiến độ, đọc trả lời của cán bộ và gửi thêm thông tin. "
            "Sau khi chép, bạn có thể xóa cuộc trò chuyện này.\n{notify}\n\n"
            "🚨 Nguy hiểm ngay lúc này? Gọi <b>113</b>."
        ),
        "en": (
            "✅ <b>Your report was received.</b> Thank you for helping keep your village "
            "safe.\n\nYour receipt code:\n<code>{code}</code>\n\n"
            "🔑 Copy this code and keep it private: whoever has it can read the tip. Use "
            "/status with the code to see progress, read officers' answers and add more. "
            "Once copied, you may delete this chat.\n{notify}\n\n"
            "🚨 In danger right now? Call <b>113</b>."
        ),
    },
    "receipt_replaced": {
        "vi": (
            "⚠️ Lần trước mã biên nhận chưa đến được với bạn, nên đây là mã mới cho tin báo "
            "bạn đã gửi (tin báo vẫn được lưu và chuyển cho cán bộ). Mã cũ, nếu có, không còn "
            "dùng được."
        ),
        "en": (
            "⚠️ Your receipt code did not reach you last time, so here is a new code for the "
            "tip you sent (the tip was stored and went to the officers). Any earlier code no "
            "longer works."
        ),
    },
    "receipt_followup_anon": {
        "vi": "Bạn đã chọn ẩn danh hoàn toàn: bot sẽ không tự nhắn cho bạn.",
        "en": "You chose fully anonymous: the bot will not write to you on its own.",
    },
    "receipt_followup_notify": {
        "vi": (
            "Bot sẽ nhắn vào đây khi có tin mới (không đổ chuông). /forget để hủy liên kết này."
        ),
        "en": (
            "The bot will write here when there is news (silently). /forget removes this link."
        ),
    },
    "area_unsure": {"vi": "❔ Không rõ", "en": "❔ Not sure"},
    "not_given": {"vi": "—", "en": "—"},
    "cat_drugs": {"vi": "💊 Ma túy", "en": "💊 Drugs"},
    "cat_theft": {"vi": "🔓 Trộm cắp", "en": "🔓 Theft"},
    "cat_gambling": {"vi": "🎲 Cờ bạc", "en": "🎲 Gambling"},
    "cat_disorder": {"vi": "📢 Gây rối trật tự", "en": "📢 Public disorder"},
    "cat_fraud": {"vi": "📱 Lừa đảo", "en": "📱 Fraud, scams"},
    "cat_smuggling": {"vi": "📦 Buôn lậu", "en": "📦 Smuggling"},
    "cat_forest": {"vi": "🌳 Phá rừng, săn bắt trái phép", "en": "🌳 Illegal logging, poaching"},
    "cat_domestic": {"vi": "🏠 Bạo lực gia đình", "en": "🏠 Domestic violence"},
    "cat_other": {"vi": "❓ Việc khác", "en": "❓ Something else"},
    "when_now": {"vi": "🔴 Đang xảy ra", "en": "🔴 Happening now"},
    "when_today": {"vi": "Hôm nay", "en": "Today"},
    "when_earlier": {"vi": "Trước đây", "en": "Earlier"},
    "followup_anon": {"vi": "🕶 Ẩn danh hoàn toàn", "en": "🕶 Fully anonymous"},
    "followup_notify": {"vi": "🔔 Báo cho tôi khi có tin", "en": "🔔 Notify me of news"},
    "btn_prev": {"vi": "◀️ Trước", "en": "◀️ Previous"},
    "btn_next": {"vi": "Tiếp ▶️", "en": "Next ▶️"},
    "btn_skip": {"vi": "Bỏ qua", "en": "Skip"},
    "btn_back": {"vi": "↩️ Quay lại", "en": "↩️ Back"},
    "btn_cancel": {"vi": "✖️ Hủy", "en": "✖️ Cancel"},
    "btn_text_done": {"vi": "✔️ Xong phần mô tả", "en": "✔️ Description done"},
    "btn_evidence_done": {"vi": "✔️ Xong", "en": "✔️ Done"},
    "btn_evidence_clear": {"vi": "🗑 Bỏ các tệp đã gửi", "en": "🗑 Remove the files sent"},
    "btn_send": {"vi": "📨 Gửi tin báo", "en": "📨 Send the report"},
    "btn_edit": {"vi": "✏️ Sửa", "en": "✏️ Edit"},
    "edit_category": {"vi": "Loại", "en": "Kind"},
    "edit_area": {"vi": "Địa bàn", "en": "Area"},
    "edit_place": {"vi": "Nơi cụ thể", "en": "Exact place"},
    "edit_when": {"vi": "Khi nào", "en": "When"},
    "edit_text": {"vi": "Nội dung", "en": "Description"},
    "edit_evidence": {"vi": "Tệp đính kèm", "en": "Attachments"},
    "edit_followup": {"vi": "Theo dõi", "en": "Follow-up"},
    "nothing_to_cancel": {
        "vi": "Không có việc gì đang làm dở.",
        "en": "There is nothing in progress.",
    },
    # --- /status --------------------------------------------------------------------------------
    "status_ask_code": {
        "vi": "Nhập mã biên nhận của bạn (ví dụ <code>K7QM-4XPA-9TZD</code>):",
        "en": "Type your receipt code (for example <code>K7QM-4XPA-9TZD</code>):",
    },
    "status_busy_with_report": {
        "vi": (
            "Bạn đang có một tin báo dở dang. Hãy gửi hoặc hủy (/cancel) tin đó trước khi "
            "tra cứu; bấm để tiếp tục."
        ),
        "en": (
            "You have a report in progress. Send it or cancel it (/cancel) before checking a "
            "tip; press to continue."
        ),
    },
    "status_wrong_code": {
        "vi": "Không tìm thấy tin báo với mã này. Hãy kiểm tra lại và nhập lại mã.",
        "en": "No tip has this code. Please check it and type it again.",
    },
    "status_rate_limited": {
        "vi": "Bạn đã nhập sai mã nhiều lần. Vì an toàn, hãy thử lại sau 10 phút.",
        "en": "Too many wrong codes. For safety, please try again in 10 minutes.",
    },
    "status_view": {
        "vi": (
            "<b>Tin báo của bạn</b>\n<b>Loại:</b> {category}\n<b>Địa bàn:</b> {area}\n"
            "<b>Gửi lúc:</b> {sent}\n<b>Cập nhật:</b> {updated}\n<b>Tình trạng:</b> {status}"
            "\n\n<b>Trao đổi</b>\n{thread}"
        ),
        "en": (
            "<b>Your tip</b>\n<b>Kind:</b> {category}\n<b>Area:</b> {area}\n"
            "<b>Sent:</b> {sent}\n<b>Updated:</b> {updated}\n<b>Status:</b> {status}"
            "\n\n<b>Messages</b>\n{thread}"
        ),
    },
    "status_item_officer": {
        "vi": "👮 <i>Cán bộ, {when}:</i> {text}",
        "en": "👮 <i>Officer, {when}:</i> {text}",
    },
    "status_item_you": {
        "vi": "🙋 <i>Bạn, {when}:</i> {text} (tệp: {files})",
        "en": "🙋 <i>You, {when}:</i> {text} (files: {files})",
    },
    "status_no_messages": {"vi": "Chưa có trao đổi.", "en": "No messages yet."},
    "status_hint_open": {
        "vi": "Bấm «Gửi thêm thông tin» để bổ sung, hoặc «Đóng».",
        "en": "Press “Add information” to add more, or “Close”.",
    },
    "btn_status_add": {"vi": "➕ Gửi thêm thông tin", "en": "➕ Add information"},
    "btn_status_close": {"vi": "✖️ Đóng", "en": "✖️ Close"},
    "status_ask_addition": {
        "vi": (
            "Gửi thêm chữ, ảnh, video, ghi âm hoặc tài liệu; mỗi tin sẽ được chuyển cho cán bộ. "
            "Xong thì bấm Xong. Tài liệu, âm thanh và video được bot làm sạch (xoá tên tệp, vị "
            "trí, thiết bị, tác giả) trước khi đến cán bộ.\n⚠️ Giọng nói và khuôn mặt có thể "
            "bị nhận ra."
        ),
        "en": (
            "Send more text, photos, videos, voice notes or documents; each one goes to the "
            "officers. Press Done when finished. Documents, audio and videos are cleaned by "
            "the bot (file name, place, device, author removed) before officers get them.\n"
            "⚠️ A voice and a face can be recognised."
        ),
    },
    "status_addition_received": {
        "vi": "✅ Đã nhận, sẽ chuyển cho cán bộ phụ trách.",
        "en": "✅ Received; it goes to the officers in charge.",
    },
    "status_addition_too_long": {
        "vi": "Tin này dài quá (tối đa {limit} ký tự) nên chưa được gửi. Hãy chia thành nhiều tin.",
        "en": "This message is too long ({limit} characters at most) and was not sent. "
        "Please split it.",
    },
    "status_addition_flood": {
        "vi": (
            "Bạn đã gửi {limit} tin bổ sung trong một giờ cho tin báo này; tin này chưa được "
            "gửi. Hãy thử lại sau ít phút. Nguy hiểm ngay lúc này? Gọi 113."
        ),
        "en": (
            "You sent {limit} additions to this tip within an hour; this one was not sent. "
            "Please try again in a while. Danger right now? Call 113."
        ),
    },
    "status_addition_hint": {
        "vi": "Hãy gửi chữ, ảnh, video, ghi âm hoặc tài liệu.",
        "en": "Please send text, a photo, a video, a voice note or a document.",
    },
    "status_closed": {
        "vi": "Đã đóng. Dùng /status để xem lại bất cứ lúc nào.",
        "en": "Closed. Use /status to look again at any time.",
    },
    "status_new": {"vi": "Mới tiếp nhận", "en": "New"},
    "status_acknowledged": {"vi": "Cán bộ đã nhận", "en": "Acknowledged"},
    "status_verifying": {"vi": "Đang xác minh", "en": "Being verified"},
    "status_resolved": {"vi": "Đã xử lý", "en": "Resolved"},
    "status_unfounded": {"vi": "Không có cơ sở", "en": "Unfounded"},
    "status_transferred": {"vi": "Đã chuyển cơ quan khác", "en": "Transferred to another agency"},
    "forget_done": {
        "vi": (
            "Đã xóa liên kết thông báo của cuộc trò chuyện này khỏi {count} tin báo, cùng "
            "mọi việc đang làm dở và lựa chọn ngôn ngữ. Bạn vẫn tra cứu được bằng mã biên nhận."
        ),
        "en": (
            "This chat's notification link was removed from {count} tips, together with "
            "anything in progress and your language choice. You can still check them with the "
            "receipt code."
        ),
    },
    # --- the officer's card -------------------------------------------------------------------
    "card": {
        "vi": (
            "{icon} <b>Tin báo {ref}</b> · {status}{urgent}\n{state}\n"
            "<b>Loại:</b> {category}\n<b>Địa bàn:</b> {area}\n"
            "<b>Khi nào:</b> {when}\n<b>Nơi cụ thể:</b> {place} {pin}\n"
            "<b>Tệp đính kèm:</b> {files}\n\n{description}"
        ),
        "en": (
            "{icon} <b>Tip {ref}</b> · {status}{urgent}\n{state}\n"
            "<b>Kind:</b> {category}\n<b>Area:</b> {area}\n"
            "<b>When:</b> {when}\n<b>Exact place:</b> {place} {pin}\n"
            "<b>Attachments:</b> {files}\n\n{description}"
        ),
    },
    "card_urgent": {
        "vi": " — 🔴 <b>KHẨN: đang xảy ra</b>",
        "en": " — 🔴 <b>URGENT: happening now</b>",
    },
    "card_pin_follows": {"vi": "(vị trí gửi kèm bên dưới)", "en": "(location pin below)"},
    "card_continued": {
        "vi": "<b>{ref}</b> (tiếp, {part}/{parts})\n{body}",
        "en": "<b>{ref}</b> (continued, {part}/{parts})\n{body}",
    },
    "card_addition": {
        "vi": "➕ <b>Người báo bổ sung cho tin {ref}</b>\n{body}",
        "en": "➕ <b>The reporter added to tip {ref}</b>\n{body}",
    },
    "card_evidence": {
        "vi": "{ref} · tệp {number}/{total}",
        "en": "{ref} · file {number}/{total}",
    },
    "card_file_refused": {
        "vi": "📎 {ref}: tệp {number}/{total} không hiển thị được ở đây ({kind}).",
        "en": "📎 {ref}: file {number}/{total} could not be shown here ({kind}).",
    },
    "file_kind_photo": {"vi": "ảnh", "en": "photo"},
    "file_kind_video": {"vi": "video", "en": "video"},
    "file_kind_voice": {"vi": "tin nhắn thoại", "en": "voice message"},
    "file_kind_audio": {"vi": "âm thanh", "en": "audio"},
    "file_kind_document": {"vi": "tài liệu", "en": "document"},
    "file_kind_animation": {"vi": "ảnh động", "en": "animation"},
    "file_kind_video_note": {"vi": "video tròn", "en": "video message"},
    "notice_tier_moved": {
        "vi": (
            "⚠️ Tin báo {ref}: không liên lạc được cán bộ phụ trách (đã chặn bot hoặc chưa mở "
            "bot), nên tin được chuyển cho: {recipients}."
        ),
        "en": (
            "⚠️ Tip {ref}: the officers in charge could not be reached (they blocked the bot or "
            "never opened it), so it went to: {recipients}."
        ),
    },
    "notice_undeliverable": {
        "vi": (
            "⚠️ Tin báo {ref}: chưa chuyển được cho ai. Tin sẽ được gửi ngay khi có cán bộ "
            "mở lại bot."
        ),
        "en": (
            "⚠️ Tip {ref}: nobody could be reached yet. It will be delivered as soon as an "
            "officer opens the bot again."
        ),
    },
    "tier_all_areas": {"vi": "cán bộ phụ trách toàn địa bàn", "en": "officers of all areas"},
    "tier_admins": {"vi": "quản trị viên", "en": "the admins"},
    # --- officers and invites -----------------------------------------------------------------
    "invite_choose": {
        "vi": "Chọn địa bàn cho cán bộ được mời (bấm để chọn/bỏ), rồi bấm Tạo liên kết:",
        "en": "Choose the invited officer's areas (press to toggle), then Create link:",
    },
    "invite_all_areas": {"vi": "🌐 Toàn bộ địa bàn", "en": "🌐 All areas"},
    "invite_make": {"vi": "🔗 Tạo liên kết", "en": "🔗 Create link"},
    "invite_cancelled": {"vi": "Đã hủy lời mời.", "en": "Invite cancelled."},
    "invite_link": {
        "vi": (
            "🔗 Liên kết mời cán bộ ({areas}), dùng được <b>một lần</b> trong {hours} giờ:\n"
            "{link}\n\nGửi riêng cho đúng người, qua kênh an toàn."
        ),
        "en": (
            "🔗 Officer invite link ({areas}), valid for <b>one use</b> within {hours} hours:\n"
            "{link}\n\nSend it privately to the right person, over a safe channel."
        ),
    },
    "invite_invalid": {
        "vi": (
            "Liên kết mời không hợp lệ, đã dùng hoặc đã hết hạn. "
            "Hãy xin quản trị viên liên kết mới."
        ),
        "en": "This invite link is invalid, used or expired. Ask an admin for a new one.",
    },
    "invite_welcome": {
        "vi": (
            "👮 Bạn đã được đăng ký làm cán bộ tiếp nhận tin báo cho: {areas}.\n"
            "Tin báo mới của địa bàn sẽ đến cuộc trò chuyện này. Gõ /help để xem các lệnh."
        ),
        "en": (
            "👮 You are registered as an officer receiving tips for: {areas}.\n"
            "New tips of these areas will arrive in this chat. Type /help for the commands."
        ),
    },
    "all_areas": {"vi": "toàn bộ địa bàn", "en": "all areas"},
    "area_item": {"vi": "{name}", "en": "{name}"},
    "areas_list": {
        "vi": "<b>Địa bàn ({count})</b>\n{lines}",
        "en": "<b>Areas ({count})</b>\n{lines}",
    },
    "area_line": {"vi": "<code>{code}</code> — {name}", "en": "<code>{code}</code> — {name}"},
}


def _merge_parts() -> None:
    """Texts of later flows live in their own modules (`texts/*.py`); one catalog."""
    for part in (texts_officer.TEXTS, texts_campaign.TEXTS, texts_evidence.TEXTS,
                 texts_privacy.TEXTS, texts_stats.TEXTS):
        clash = MESSAGES.keys() & part.keys()
        if clash:
            raise RuntimeError(f"catalog keys defined twice: {sorted(clash)}")
        MESSAGES.update(part)


_merge_parts()
