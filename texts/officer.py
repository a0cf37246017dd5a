"""Catalog texts of the officer's desk: card buttons, statuses, replies, /tips, escalation,
/officers.

Merged into `texts.catalog.MESSAGES`; same rules: Vietnamese first, HTML templates, values
escaped by `texts.catalog.text`.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    # --- the card ------------------------------------------------------------------------------
    "card_state": {"vi": "<b>Tình trạng:</b> {status}", "en": "<b>Status:</b> {status}"},
    "card_state_by": {
        "vi": "<b>Tình trạng:</b> {status} — <i>{by}</i>",
        "en": "<b>Status:</b> {status} — <i>{by}</i>",
    },
    "card_moved_area": {
        "vi": "➡️ Đã chuyển sang địa bàn: {area}",
        "en": "➡️ Moved to area: {area}",
    },
    "card_moved_officer": {
        "vi": "➡️ Đã giao cho cán bộ: {name}",
        "en": "➡️ Given to officer: {name}",
    },
    "btn_ack": {"vi": "✅ Đã nhận", "en": "✅ Acknowledge"},
    "btn_reply": {"vi": "💬 Trả lời", "en": "💬 Reply"},
    "btn_set_status": {"vi": "📋 Tình trạng", "en": "📋 Status"},
    "btn_reassign": {"vi": "↪️ Chuyển", "en": "↪️ Reassign"},
    # --- actions ---------------------------------------------------------------------------------
    "desk_acknowledged": {"vi": "Đã ghi nhận.", "en": "Acknowledged."},
    "desk_already_acknowledged": {
        "vi": "Tin này đã được nhận rồi.",
        "en": "This tip was already acknowledged.",
    },
    "desk_closed": {
        "vi": "Tin này đã đóng; chỉ quản trị viên mở lại được.",
        "en": "This tip is closed; only an admin can reopen it.",
    },
    "desk_choose_status": {
        "vi": "Chọn tình trạng mới cho tin {ref}:",
        "en": "Choose the new status of tip {ref}:",
    },
    "desk_status_set": {"vi": "Đã đổi: {status}", "en": "Changed: {status}"},
    "desk_status_set_full": {
        "vi": "Tin {ref}: {status}.",
        "en": "Tip {ref}: {status}.",
    },
    "desk_ask_agency": {
        "vi": "Tin {ref} được chuyển cho cơ quan nào? Gõ tên cơ quan (tối đa 120 ký tự), "
        "hoặc /cancel.",
        "en": "To which agency is tip {ref} transferred? Type its name (120 characters at "
        "most), or /cancel.",
    },
    "desk_ask_reply": {
        "vi": "Viết câu trả lời cho người báo tin {ref} (chữ, hoặc một ảnh kèm chú thích), "
        "hoặc /cancel. Người báo không thấy tên bạn.\n{how}",
        "en": "Write your answer to the reporter of tip {ref} (text, or one photo with a "
        "caption), or /cancel. The reporter does not see your name.\n{how}",
    },
    "desk_reply_pushed": {
        "vi": "Người báo đã chọn nhận thông báo: câu trả lời đến ngay.",
        "en": "The reporter asked to be notified: the answer reaches them at once.",
    },
    "desk_reply_waits": {
        "vi": "Người báo ẩn danh hoàn toàn: họ sẽ đọc khi tra cứu bằng mã biên nhận.",
        "en": "The reporter is fully anonymous: they read it when they check with their code.",
    },
    "desk_reply_hint": {
        "vi": "Hãy gửi chữ hoặc một ảnh, hoặc /cancel.",
        "en": "Please send text or one photo, or /cancel.",
    },
    "desk_reply_too_long": {
        "vi": "Câu trả lời dài quá (tối đa {limit} ký tự).",
        "en": "The answer is too long ({limit} characters at most).",
    },
    "desk_reply_sent": {
        "vi": "✅ Đã gửi câu trả lời cho người báo tin {ref}.",
        "en": "✅ The answer to the reporter of tip {ref} is on its way.",
    },
    "desk_reply_stored": {
        "vi": "✅ Đã lưu câu trả lời cho tin {ref}; người báo sẽ thấy khi tra cứu.",
        "en": "✅ The answer to tip {ref} is stored; the reporter sees it when they check.",
    },
    "desk_action_cancelled": {"vi": "Đã hủy.", "en": "Cancelled."},
    "desk_choose_reassign": {
        "vi": "Chuyển tin {ref} sang địa bàn khác, hoặc giao cho một cán bộ:",
        "en": "Move tip {ref} to another area, or give it to an officer:",
    },
    "desk_moved": {"vi": "Đã chuyển.", "en": "Moved."},
    "desk_no_self_handover": {
        "vi": "Không thể tự giao tin cho chính mình.",
        "en": "You cannot hand a tip to yourself.",
    },
    # --- /tips and /tip --------------------------------------------------------------------------
    "tips_page": {
        "vi": "<b>Tin báo — {filter}</b> ({total}; trang {page}/{pages})\n\n{lines}",
        "en": "<b>Tips — {filter}</b> ({total}; page {page}/{pages})\n\n{lines}",
    },
    "tips_line": {
        "vi": "{urgent}<code>{ref}</code> · {category} · {area} · {status} · {date}",
        "en": "{urgent}<code>{ref}</code> · {category} · {area} · {status} · {date}",
    },
    "tips_open": {"vi": "đang mở", "en": "open"},
    "tips_none": {"vi": "Không có tin nào.", "en": "No tips."},
    "tip_usage": {
        "vi": "Gõ /tip và mã tin, ví dụ <code>/tip T-7K3M9Q</code>.",
        "en": "Type /tip and the reference, e.g. <code>/tip T-7K3M9Q</code>.",
    },
    "tip_not_found": {
        "vi": "Không có tin nào với mã này trong địa bàn của bạn.",
        "en": "No tip with this reference in your areas.",
    },
    "thread_older_hidden": {
        "vi": "({count} tin cũ hơn trong trao đổi không hiện ở đây; dưới đây là 20 tin mới nhất.)",
        "en": "({count} older messages of the thread are not shown; here are the latest 20.)",
    },
    "thread_resident": {"vi": "Người báo", "en": "Reporter"},
    "thread_officer": {"vi": "Cán bộ", "en": "Officer"},
    "thread_entry": {
        "vi": "💬 <b>{who}</b>, {when}:\n{body}",
        "en": "💬 <b>{who}</b>, {when}:\n{body}",
    },
    # --- reminders and escalation ------------------------------------------------------------
    "notice_reminder": {
        "vi": "⏰ Tin báo {ref} chưa có ai nhận sau {minutes} phút. Hãy bấm Đã nhận.",
        "en": "⏰ Nobody acknowledged tip {ref} after {minutes} minutes. Please acknowledge it.",
    },
    "notice_escalated": {
        "vi": "🚨 Tin báo {ref} chưa có ai nhận sau hai lần {minutes} phút: chuyển lên bạn.",
        "en": "🚨 Nobody acknowledged tip {ref} after twice {minutes} minutes: escalated to you.",
    },
    # --- what the resident receives ----------------------------------------------------------
    "resident_reply": {
        "vi": "💬 <b>Cán bộ trả lời về tin báo của bạn:</b>\n{body}",
        "en": "💬 <b>An officer answered about your tip:</b>\n{body}",
    },
    "resident_reply_photo": {
        "vi": "Ảnh cán bộ gửi về tin báo của bạn",
        "en": "A photo an officer sent about your tip",
    },
    "resident_status_changed": {
        "vi": "🔔 Tin báo của bạn: <b>{status}</b>. Dùng /status với mã biên nhận để xem chi tiết.",
        "en": "🔔 Your tip: <b>{status}</b>. Use /status with your receipt code for details.",
    },
    "btn_resident_answer": {"vi": "↩️ Trả lời cán bộ", "en": "↩️ Answer the officer"},
    # --- /officers -----------------------------------------------------------------------------
    "officers_list": {
        "vi": "<b>Cán bộ và quản trị ({count})</b>\n\n{lines}\n\nChọn một người để thay đổi:",
        "en": "<b>Officers and admins ({count})</b>\n\n{lines}\n\nChoose someone to change:",
    },
    "officers_none": {"vi": "Chưa có ai.", "en": "Nobody yet."},
    "officers_line": {
        "vi": "👮 <b>{name}</b> (<code>{id}</code>) — {roles}\nĐịa bàn: {scope}\n{state}",
        "en": "👮 <b>{name}</b> (<code>{id}</code>) — {roles}\nAreas: {scope}\n{state}",
    },
    "role_officer": {"vi": "cán bộ", "en": "officer"},
    "role_admin": {"vi": "quản trị", "en": "admin"},
    "role_admin_permanent": {"vi": "quản trị (cố định)", "en": "admin (permanent)"},
    "reach_pending": {
        "vi": "⏳ chưa mở bot: chưa nhận được tin",
        "en": "⏳ has not opened the bot yet: gets no tips",
    },
    "reach_reachable": {"vi": "🟢 đang nhận tin", "en": "🟢 receiving tips"},
    "reach_unreachable": {
        "vi": "🔴 đã chặn bot: bị bỏ qua đến khi nhắn lại",
        "en": "🔴 blocked the bot: skipped until they write again",
    },
    "staff_deactivated": {"vi": "⛔ đã ngừng hoạt động", "en": "⛔ deactivated"},
    "officers_change_areas": {"vi": "🗺 Đổi địa bàn", "en": "🗺 Change areas"},
    "officers_deactivate": {"vi": "⛔ Ngừng hoạt động", "en": "⛔ Deactivate"},
    "officers_reactivate": {"vi": "♻️ Cho hoạt động lại", "en": "♻️ Reactivate"},
    "officers_promote": {"vi": "⬆️ Cho làm quản trị", "en": "⬆️ Promote to admin"},
    "officers_demote": {"vi": "⬇️ Bỏ quyền quản trị", "en": "⬇️ Demote"},
    "officers_save": {"vi": "💾 Lưu", "en": "💾 Save"},
    "officers_choose_areas": {
        "vi": "Chọn địa bàn của {name} (bấm để chọn/bỏ), rồi Lưu:",
        "en": "Choose {name}'s areas (press to toggle), then Save:",
    },
    "officers_done_deactivate": {"vi": "Đã ngừng hoạt động.", "en": "Deactivated."},
    "officers_done_reactivate": {"vi": "Đã cho hoạt động lại.", "en": "Reactivated."},
    "officers_done_promote": {"vi": "Đã cho làm quản trị.", "en": "Promoted."},
    "officers_done_demote": {"vi": "Đã bỏ quyền quản trị.", "en": "Demoted."},
    "officers_done_areas": {"vi": "Đã lưu địa bàn.", "en": "Areas saved."},
    # --- invites: opening one, the open ones in /invite, who used one ------------------------
    "invite_staff_inactive": {
        "vi": (
            "Tài khoản cán bộ của bạn đang ngừng hoạt động, và liên kết mời không thay đổi "
            "điều đó. Nếu cần làm việc lại, xin vui lòng liên hệ quản trị viên."
        ),
        "en": (
            "Your staff account is deactivated, and an invite link does not change that. If you "
            "need to work on the line again, please ask an admin."
        ),
    },
    "invite_already_staff": {
        "vi": (
            "Bạn đã được đăng ký rồi; liên kết mời này không thay đổi gì. Địa bàn và quyền của "
            "bạn do quản trị viên điều chỉnh."
        ),
        "en": (
            "You are already registered; this invite link changes nothing. Your areas and role "
            "are managed by an admin."
        ),
    },
    "invite_used_notice": {
        "vi": "🔗 <b>{name}</b> (<code>{id}</code>) đã dùng liên kết mời, nay là cán bộ của: "
        "{areas}.",
        "en": "🔗 <b>{name}</b> (<code>{id}</code>) used an invite link and is now an officer "
        "for: {areas}.",
    },
    "invite_open_list": {
        "vi": "<b>Lời mời còn hiệu lực ({count})</b>\n\n{lines}",
        "en": "<b>Open invites ({count})</b>\n\n{lines}",
    },
    "invite_open_line": {
        "vi": "{number}. {areas} — do <b>{creator}</b> (<code>{id}</code>) tạo, hết hạn {expires}",
        "en": "{number}. {areas} — by <b>{creator}</b> (<code>{id}</code>), expires {expires}",
    },
    "invite_open_more": {
        "vi": "… và {count} lời mời khác (thu hồi bớt để thấy).",
        "en": "… and {count} more (revoke some to see them).",
    },
    "invite_open_none": {
        "vi": "Không còn lời mời nào còn hiệu lực.",
        "en": "No open invites.",
    },
    "btn_invite_revoke": {"vi": "🗑 Thu hồi lời mời {number}", "en": "🗑 Revoke invite {number}"},
    "invite_revoked": {
        "vi": "Đã thu hồi: liên kết không dùng được nữa.",
        "en": "Revoked: the link no longer works.",
    },
    "invite_not_open": {
        "vi": "Lời mời này không còn hiệu lực.",
        "en": "This invite is no longer open.",
    },
}
