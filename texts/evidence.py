"""Catalog texts of evidence files: cleaning, the cleaned copy, files that cannot be cleaned.

Merged into `texts.catalog.MESSAGES`; same rules: Vietnamese first, HTML templates, values
escaped by `texts.catalog.text`.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "evidence_cleaning": {
        "vi": (
            "⏳ Đang làm sạch tệp {number}: xoá tên tệp, vị trí, thiết bị, tác giả… "
            "Bạn có thể gửi tiếp trong lúc chờ."
        ),
        "en": (
            "⏳ Cleaning file {number}: removing its name, place, device, author… You can go "
            "on sending meanwhile."
        ),
    },
    "evidence_copy_cleaned": {
        "vi": (
            "🧹 <b>Bản đã làm sạch</b> của bạn: <b>{name}</b>. Cán bộ sẽ nhận đúng tệp này "
            "(không còn tên tệp gốc, vị trí, thiết bị hay tác giả)."
        ),
        "en": (
            "🧹 <b>Your cleaned copy</b>: <b>{name}</b>. Officers receive exactly this file "
            "(without its original name, place, device or author)."
        ),
    },
    "evidence_copy_as_is": {
        "vi": (
            "⚠️ Tệp <b>{name}</b> được gửi <b>nguyên trạng</b> (chỉ đổi tên). Cán bộ sẽ nhận "
            "đúng tệp này."
        ),
        "en": (
            "⚠️ File <b>{name}</b> goes <b>as it is</b> (only renamed). Officers receive "
            "exactly this file."
        ),
    },
    "evidence_cannot_clean": {
        "vi": (
            "⚠️ Không làm sạch được tệp {number} (<i>{name}</i>): {reason}.\nTệp này có thể "
            "cho biết ai đã tạo ra nó (tên tệp, vị trí, thiết bị, tác giả). Bạn muốn gửi "
            "nguyên trạng, hay bỏ tệp này?"
        ),
        "en": (
            "⚠️ File {number} (<i>{name}</i>) could not be cleaned: {reason}.\nIt may tell who "
            "made it (file name, place, device, author). Send it as it is, or leave it out?"
        ),
    },
    "evidence_reason_unknown_type": {
        "vi": "bot không nhận ra loại tệp này",
        "en": "the bot does not know this kind of file",
    },
    "evidence_reason_too_large": {
        "vi": "tệp lớn hơn 20 MB, bot không tải về được",
        "en": "it is larger than 20 MB, which the bot cannot download",
    },
    "evidence_reason_no_ffmpeg": {
        "vi": "máy chủ của bot chưa có công cụ làm sạch video",
        "en": "the bot's server has no tool to clean videos",
    },
    "evidence_reason_unreadable": {
        "vi": "tệp bị hỏng hoặc không đọc được",
        "en": "the file is damaged or cannot be read",
    },
    "evidence_reason_encrypted": {
        "vi": "tệp được khoá bằng mật khẩu",
        "en": "the file is locked with a password",
    },
    "evidence_reason_macros": {
        "vi": "tệp có chứa macro",
        "en": "the file contains macros",
    },
    "evidence_reason_not_fetched": {
        "vi": "Telegram không cho tải tệp về lúc này",
        "en": "Telegram would not hand the file over just now",
    },
    "evidence_cleaning_as_is": {
        "vi": "⏳ Đang chuẩn bị tệp {number} nguyên trạng (chỉ đổi tên)…",
        "en": "⏳ Preparing file {number} as it is (only renamed)…",
    },
    "evidence_kept_original": {
        "vi": (
            "⚠️ Tệp {number} sẽ được gửi đúng như bạn đã gửi: bot không tải về được nên không "
            "đổi tên được; tên tệp và thông tin ẩn vẫn còn."
        ),
        "en": (
            "⚠️ File {number} goes exactly as you sent it: the bot could not fetch it, so not "
            "even its name could be changed; its name and hidden metadata stay."
        ),
    },
    "btn_evidence_as_is_n": {
        "vi": "📎 Tệp {number}: gửi nguyên trạng",
        "en": "📎 File {number}: send as it is",
    },
    "btn_evidence_leave_out_n": {"vi": "🗑 Tệp {number}: bỏ", "en": "🗑 File {number}: leave out"},
    "btn_evidence_as_is": {"vi": "📎 Gửi nguyên trạng", "en": "📎 Send as it is"},
    "btn_evidence_leave_out": {"vi": "🗑 Bỏ tệp này", "en": "🗑 Leave it out"},
    "evidence_left_out": {
        "vi": "Đã bỏ tệp {number}; tin báo sẽ được gửi mà không có tệp này.",
        "en": "File {number} left out; the tip goes without it.",
    },
    "evidence_left_out_addition": {
        "vi": "Đã bỏ tệp {number}; tệp này không được gửi cho cán bộ.",
        "en": "File {number} left out; it does not go to the officers.",
    },
    "evidence_wait_cleaning": {
        "vi": "Còn tệp đang được làm sạch, xin chờ giây lát rồi bấm lại.",
        "en": "A file is still being cleaned; please wait a moment and press again.",
    },
    "evidence_decide_first": {
        "vi": "Hãy chọn gửi nguyên trạng hay bỏ tệp {number} trước.",
        "en": "Please choose first whether to send file {number} as it is or leave it out.",
    },
    "evidence_face_warning": {
        "vi": (
            "⚠️ Video tròn cho thấy khuôn mặt và giọng nói của người quay: có thể bị nhận ra. "
            "Nếu không muốn, hãy bấm «Bỏ các tệp đã gửi»."
        ),
        "en": (
            "⚠️ A round video shows the face and voice of whoever recorded it: they can be "
            "recognised. If you do not want that, press “Remove the files sent”."
        ),
    },
    "evidence_line_cleaned": {
        "vi": "{name} — 🧹 đã làm sạch",
        "en": "{name} — 🧹 cleaned",
    },
    "evidence_line_as_is": {
        "vi": "{name} — ⚠️ nguyên trạng, không làm sạch",
        "en": "{name} — ⚠️ as it is, not cleaned",
    },
    "evidence_line_pending": {
        "vi": "tệp {number} — ⏳ đang làm sạch",
        "en": "file {number} — ⏳ being cleaned",
    },
    "evidence_line_undecided": {
        "vi": "tệp {number} — chưa chọn gửi hay bỏ",
        "en": "file {number} — not yet chosen: send or leave out",
    },
    "evidence_line_media": {
        "vi": "{kind} — như Telegram đã nhận",
        "en": "{kind} — as Telegram received it",
    },
    "evidence_summary_files": {
        "vi": "{count}{lines}",
        "en": "{count}{lines}",
    },
}
