"""Catalog texts of the campaign: subscriptions, broadcasts, schedules, campaign links.

Merged into `texts.catalog.MESSAGES`; same rules: Vietnamese first, HTML templates, values
escaped by `texts.catalog.text`.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "campaign_few_tips": {"vi": "dưới {limit}", "en": "fewer than {limit}"},
    # --- menus and help ----------------------------------------------------------------------
    "menu_subscribe": {"vi": "🔔 Nhận tin tuyên truyền", "en": "🔔 Campaign news"},
    "cmd_subscribe": {"vi": "Nhận tin tuyên truyền", "en": "Get campaign news"},
    "cmd_unsubscribe": {"vi": "Thôi nhận tin tuyên truyền", "en": "Stop campaign news"},
    "cmd_broadcast": {"vi": "Gửi thông báo tới người đăng ký", "en": "Broadcast to subscribers"},
    "cmd_schedule": {"vi": "Lên lịch đăng tin định kỳ", "en": "Schedule a recurring post"},
    "cmd_schedules": {"vi": "Các lịch đăng tin", "en": "Scheduled posts"},
    "cmd_campaign": {"vi": "Liên kết và số liệu chiến dịch", "en": "Campaign links and counts"},
    "help_subscribe": {
        "vi": (
            "\n\n<b>Tin tuyên truyền</b>\n/subscribe — nhận tin tuyên truyền\n"
            "/unsubscribe — thôi nhận tin tuyên truyền"
        ),
        "en": (
            "\n\n<b>Campaign news</b>\n/subscribe — get campaign news\n"
            "/unsubscribe — stop campaign news"
        ),
    },
    "help_admin_campaign": {
        "vi": (
            "\n/broadcast — gửi thông báo tới người đăng ký và các kênh\n"
            "/schedule — lên lịch đăng tin định kỳ\n/schedules — xem, tạm dừng, xóa lịch\n"
            "/campaign — liên kết chiến dịch và số liệu"
        ),
        "en": (
            "\n/broadcast — send a notice to subscribers and channels\n"
            "/schedule — schedule a recurring post\n/schedules — list, pause, delete schedules\n"
            "/campaign — campaign links and counts"
        ),
    },
    # --- subscriptions -----------------------------------------------------------------------
    "language_name": {"vi": "tiếng Việt", "en": "English"},
    "subscribe_done": {
        "vi": (
            "🔔 Bạn đã đăng ký nhận tin tuyên truyền của phong trào «Toàn dân bảo vệ an ninh "
            "Tổ quốc», bằng {language}.\n\n"
            "Chỉ lưu mã cuộc trò chuyện này (đã mã hóa) và ngôn ngữ; việc đăng ký không gắn với "
            "tin báo nào của bạn. Thôi nhận: /unsubscribe. Đổi ngôn ngữ: /language."
        ),
        "en": (
            "🔔 You will receive campaign news of the movement “All people protect national "
            "security”, in {language}.\n\n"
            "Only this chat's id (encrypted) and the language are kept; the subscription is not "
            "linked to any of your tips. To stop: /unsubscribe. Language: /language."
        ),
    },
    "subscribe_already": {
        "vi": "🔔 Bạn đã đăng ký nhận tin tuyên truyền rồi ({language}). Thôi nhận: /unsubscribe.",
        "en": "🔔 You are already subscribed to campaign news ({language}). To stop: /unsubscribe.",
    },
    "unsubscribe_done": {
        "vi": "🔕 Đã hủy đăng ký. Bạn sẽ không nhận tin tuyên truyền nữa.",
        "en": "🔕 Unsubscribed. You will not receive campaign news any more.",
    },
    "unsubscribe_not_subscribed": {
        "vi": "Bạn chưa đăng ký nhận tin tuyên truyền. Đăng ký: /subscribe.",
        "en": "You are not subscribed to campaign news. To subscribe: /subscribe.",
    },
    "subscribe_menu_on": {
        "vi": "🔔 Bạn đang nhận tin tuyên truyền: thông báo và bài tuyên truyền định kỳ.",
        "en": "🔔 You receive campaign news: notices and regular awareness messages.",
    },
    "subscribe_menu_off": {
        "vi": (
            "🔔 Nhận thông báo và bài tuyên truyền định kỳ của phong trào «Toàn dân bảo vệ an "
            "ninh Tổ quốc»? Chỉ lưu mã cuộc trò chuyện này (đã mã hóa), không gắn với tin báo "
            "của bạn."
        ),
        "en": (
            "🔔 Receive notices and regular awareness messages of the movement “All people "
            "protect national security”? Only this chat's id is kept (encrypted), not linked to "
            "your tips."
        ),
    },
    "btn_subscribe": {"vi": "🔔 Đăng ký nhận tin", "en": "🔔 Subscribe"},
    "btn_unsubscribe": {"vi": "🔕 Thôi nhận tin", "en": "🔕 Unsubscribe"},
    "forget_subscription_removed": {
        "vi": "Đã hủy đăng ký nhận tin tuyên truyền của cuộc trò chuyện này.",
        "en": "This chat's subscription to campaign news was removed.",
    },
    # --- /broadcast ----------------------------------------------------------------------------
    "broadcast_nobody": {
        "vi": (
            "Chưa có ai đăng ký nhận tin và chưa cấu hình kênh nào (TIPBOT_CHANNELS): "
            "chưa có ai để gửi."
        ),
        "en": "Nobody has subscribed and no channel is configured (TIPBOT_CHANNELS): "
        "there is nobody to send to.",
    },
    "broadcast_ask": {
        "vi": (
            "📣 <b>Gửi thông báo</b> tới {subscribers} người đăng ký và {channels} kênh.\n"
            "Hãy gửi nội dung: một tin nhắn chữ, hoặc một ảnh kèm chú thích. "
            "Bạn sẽ xem trước rồi mới xác nhận gửi. /cancel để hủy."
        ),
        "en": (
            "📣 <b>Broadcast</b> to {subscribers} subscribers and {channels} channels.\n"
            "Send the content: a text message, or one photo with a caption. You will see a "
            "preview before confirming. /cancel to stop."
        ),
    },
    "broadcast_bad_content": {
        "vi": "Hãy gửi một tin nhắn chữ, hoặc một ảnh (có thể kèm chú thích). /cancel để hủy.",
        "en": "Please send a text message, or one photo (with a caption if you like). "
        "/cancel to stop.",
    },
    "btn_broadcast_send": {
        "vi": "📣 Gửi cho {count} người nhận",
        "en": "📣 Send to {count} recipients",
    },
    "broadcast_preparing": {
        "vi": "📣 Đang chuẩn bị gửi tới {count} người nhận…",
        "en": "📣 Preparing to send to {count} recipients…",
    },
    "broadcast_cancelled": {
        "vi": "Đã hủy, không gửi gì.",
        "en": "Cancelled; nothing was sent.",
    },
    "btn_broadcast_stop": {"vi": "⏹ Dừng gửi", "en": "⏹ Stop sending"},
    "broadcast_stopping": {
        "vi": "Đã dừng: những tin chưa gửi sẽ không được gửi.",
        "en": "Stopped: messages not yet sent will not be sent.",
    },
    "broadcast_already_over": {
        "vi": "Thông báo này đã gửi xong hoặc đã dừng.",
        "en": "This broadcast has already ended.",
    },
    "broadcast_title_sending": {
        "vi": "📣 <b>Thông báo #{id}</b> — đang gửi",
        "en": "📣 <b>Broadcast #{id}</b> — sending",
    },
    "broadcast_title_done": {
        "vi": "📣 <b>Thông báo #{id}</b> — đã gửi xong sau {time}",
        "en": "📣 <b>Broadcast #{id}</b> — finished in {time}",
    },
    "broadcast_title_stopped": {
        "vi": "📣 <b>Thông báo #{id}</b> — đã dừng sau {time}",
        "en": "📣 <b>Broadcast #{id}</b> — stopped after {time}",
    },
    "broadcast_progress": {
        "vi": (
            "{title}\n{bar} {percent}%\n"
            "Đã gửi: {sent} · Lỗi: {failed} · Đã xóa: {removed} · Không rõ: {uncertain} · "
            "Còn lại: {left}{eta}"
        ),
        "en": (
            "{title}\n{bar} {percent}%\n"
            "Sent: {sent} · Failed: {failed} · Removed: {removed} · Uncertain: {uncertain} · "
            "Left: {left}{eta}"
        ),
    },
    "broadcast_eta": {"vi": "\nCòn khoảng {time}", "en": "\nAbout {time} left"},
    "duration_seconds": {"vi": "{s} giây", "en": "{s} s"},
    "duration_minutes": {"vi": "{m} phút {s} giây", "en": "{m} min {s} s"},
    "duration_hours": {"vi": "{h} giờ {m} phút", "en": "{h} h {m} min"},
    "broadcast_report": {
        "vi": (
            "✅ <b>Thông báo #{id} đã gửi xong.</b>\n"
            "Đã gửi: {sent}\n"
            "Không gửi được: {failed}\n"
            "Đã xóa khỏi danh sách (chặn bot hoặc không còn tài khoản): {removed}\n"
            "Không rõ kết quả (không gửi lại): {uncertain}"
        ),
        "en": (
            "✅ <b>Broadcast #{id} finished.</b>\n"
            "Sent: {sent}\n"
            "Failed: {failed}\n"
            "Removed from the list (blocked the bot or account gone): {removed}\n"
            "Outcome unknown (not sent again): {uncertain}"
        ),
    },
    "broadcast_report_stopped": {
        "vi": (
            "⏹ <b>Thông báo #{id} đã dừng.</b>\n"
            "Đã gửi: {sent}\n"
            "Không gửi được: {failed}\n"
            "Đã xóa khỏi danh sách: {removed}\n"
            "Không rõ kết quả: {uncertain}\n"
            "Không gửi (đã dừng): {cancelled}"
        ),
        "en": (
            "⏹ <b>Broadcast #{id} stopped.</b>\n"
            "Sent: {sent}\n"
            "Failed: {failed}\n"
            "Removed from the list: {removed}\n"
            "Outcome unknown: {uncertain}\n"
            "Not sent (stopped): {cancelled}"
        ),
    },
    # --- /schedule -----------------------------------------------------------------------------
    "schedule_ask_content": {
        "vi": (
            "🗓 <b>Lịch đăng tin định kỳ</b>\nNội dung là gì? Loạt bài tuyên truyền có sẵn "
            "({count} bài, tiếng Việt và tiếng Anh) được đăng lần lượt, mỗi lần một bài."
        ),
        "en": (
            "🗓 <b>Recurring post</b>\nWhat should it post? The bundled campaign messages "
            "({count}, in Vietnamese and English) are posted in turn, one each time."
        ),
    },
    "btn_schedule_rotation": {
        "vi": "🔁 Loạt bài tuyên truyền có sẵn",
        "en": "🔁 The campaign rotation",
    },
    "btn_schedule_own": {"vi": "✏️ Nội dung riêng", "en": "✏️ My own text or photo"},
    "schedule_ask_own": {
        "vi": "Hãy gửi nội dung sẽ đăng: một tin nhắn chữ, hoặc một ảnh kèm chú thích.",
        "en": "Send the content to post: a text message, or one photo with a caption.",
    },
    "schedule_ask_frequency": {"vi": "Đăng khi nào?", "en": "How often?"},
    "btn_schedule_daily": {"vi": "Hằng ngày", "en": "Every day"},
    "btn_schedule_weekly": {"vi": "Một số ngày trong tuần", "en": "Some days of the week"},
    "btn_schedule_monthly": {"vi": "Một ngày trong tháng", "en": "A day of the month"},
    "schedule_ask_weekdays": {
        "vi": "Chọn các ngày trong tuần, rồi bấm «Xong».",
        "en": "Choose the days of the week, then press “Done”.",
    },
    "btn_schedule_days_done": {"vi": "✔️ Xong", "en": "✔️ Done"},
    "schedule_weekdays_none": {
        "vi": "Hãy chọn ít nhất một ngày.",
        "en": "Choose at least one day.",
    },
    "schedule_ask_day": {
        "vi": "Ngày mấy trong tháng? (1–28, để tháng nào cũng có)",
        "en": "Which day of the month? (1–28, so that every month has it)",
    },
    "schedule_ask_time": {
        "vi": "Mấy giờ? Gõ giờ:phút theo giờ {zone}, ví dụ 08:00 hoặc 19:30.",
        "en": "At what time? Type hours:minutes in {zone} time, e.g. 08:00 or 19:30.",
    },
    "schedule_bad_time": {
        "vi": "Giờ chưa đúng. Gõ dạng giờ:phút, ví dụ 08:00 hoặc 19:30.",
        "en": "That is not a time. Type hours:minutes, e.g. 08:00 or 19:30.",
    },
    "schedule_use_buttons": {
        "vi": "Hãy chọn bằng các nút ở trên, hoặc /cancel để hủy.",
        "en": "Please use the buttons above, or /cancel to stop.",
    },
    "schedule_summary": {
        "vi": (
            "🗓 <b>Lịch đăng tin</b>\n"
            "<b>Nội dung:</b> {content}\n"
            "<b>Lặp lại:</b> {rule}\n"
            "<b>Lần tới:</b> {next}\n"
            "Hiện có {subscribers} người đăng ký và {channels} kênh."
        ),
        "en": (
            "🗓 <b>Recurring post</b>\n"
            "<b>Content:</b> {content}\n"
            "<b>Repeats:</b> {rule}\n"
            "<b>Next:</b> {next}\n"
            "There are {subscribers} subscribers and {channels} channels now."
        ),
    },
    "btn_schedule_save": {"vi": "💾 Lưu lịch", "en": "💾 Save"},
    "schedule_saved": {
        "vi": "✅ Đã lưu lịch #{id}. Xem, tạm dừng hoặc xóa: /schedules",
        "en": "✅ Schedule #{id} saved. To list, pause or delete: /schedules",
    },
    "schedule_cancelled": {
        "vi": "Đã hủy, không tạo lịch nào.",
        "en": "Cancelled; no schedule was created.",
    },
    "schedule_content_rotation": {
        "vi": "loạt bài tuyên truyền có sẵn ({count} bài, lần lượt)",
        "en": "the campaign rotation ({count} messages, in turn)",
    },
    "schedule_content_text": {"vi": "tin nhắn chữ «{preview}»", "en": "text “{preview}”"},
    "schedule_content_photo": {"vi": "ảnh kèm chú thích «{preview}»", "en": "photo “{preview}”"},
    "rule_daily": {"vi": "hằng ngày lúc {time} ({zone})", "en": "every day at {time} ({zone})"},
    "rule_weekly": {"vi": "{days} lúc {time} ({zone})", "en": "{days} at {time} ({zone})"},
    "rule_monthly": {
        "vi": "ngày {day} hằng tháng lúc {time} ({zone})",
        "en": "day {day} of every month at {time} ({zone})",
    },
    "wd_mon": {"vi": "Thứ Hai", "en": "Monday"},
    "wd_tue": {"vi": "Thứ Ba", "en": "Tuesday"},
    "wd_wed": {"vi": "Thứ Tư", "en": "Wednesday"},
    "wd_thu": {"vi": "Thứ Năm", "en": "Thursday"},
    "wd_fri": {"vi": "Thứ Sáu", "en": "Friday"},
    "wd_sat": {"vi": "Thứ Bảy", "en": "Saturday"},
    "wd_sun": {"vi": "Chủ Nhật", "en": "Sunday"},
    "wds_mon": {"vi": "T2", "en": "Mon"},
    "wds_tue": {"vi": "T3", "en": "Tue"},
    "wds_wed": {"vi": "T4", "en": "Wed"},
    "wds_thu": {"vi": "T5", "en": "Thu"},
    "wds_fri": {"vi": "T6", "en": "Fri"},
    "wds_sat": {"vi": "T7", "en": "Sat"},
    "wds_sun": {"vi": "CN", "en": "Sun"},
    # --- /schedules ----------------------------------------------------------------------------
    "schedules_empty": {
        "vi": "Chưa có lịch đăng tin nào. Tạo lịch: /schedule",
        "en": "No scheduled posts yet. To create one: /schedule",
    },
    "schedules_list": {
        "vi": "🗓 <b>Lịch đăng tin</b> ({count})\n\n{items}",
        "en": "🗓 <b>Scheduled posts</b> ({count})\n\n{items}",
    },
    "schedule_item": {
        "vi": (
            "<b>#{id}</b> {state} — {rule}\n"
            "Nội dung: {content}\nLần tới: {next}\nLần trước: {last}"
        ),
        "en": (
            "<b>#{id}</b> {state} — {rule}\n"
            "Content: {content}\nNext: {next}\nLast: {last}"
        ),
    },
    "schedule_state_active": {"vi": "▶️ đang chạy", "en": "▶️ active"},
    "schedule_state_paused": {"vi": "⏸ tạm dừng", "en": "⏸ paused"},
    "schedule_last_none": {"vi": "—", "en": "—"},
    "schedule_last_sent": {
        "vi": "{when}, đã gửi {sent}/{total}",
        "en": "{when}, sent {sent}/{total}",
    },
    "schedule_last_skipped": {
        "vi": "{when}, bỏ qua (bot không chạy lúc đó)",
        "en": "{when}, skipped (the bot was not running)",
    },
    "btn_schedule_pause": {"vi": "⏸ Tạm dừng #{id}", "en": "⏸ Pause #{id}"},
    "btn_schedule_resume": {"vi": "▶️ Chạy lại #{id}", "en": "▶️ Resume #{id}"},
    "btn_schedule_delete": {"vi": "🗑 Xóa #{id}", "en": "🗑 Delete #{id}"},
    "btn_schedule_delete_yes": {"vi": "🗑 Xóa hẳn lịch #{id}", "en": "🗑 Delete schedule #{id}"},
    "schedule_delete_confirm": {
        "vi": "Xóa hẳn lịch #{id}? Các lần đăng trước đó không bị ảnh hưởng.",
        "en": "Delete schedule #{id}? Posts already sent are not affected.",
    },
    "schedule_paused": {"vi": "Đã tạm dừng lịch #{id}.", "en": "Schedule #{id} paused."},
    "schedule_resumed": {"vi": "Lịch #{id} chạy lại.", "en": "Schedule #{id} resumed."},
    "schedule_deleted": {"vi": "Đã xóa lịch #{id}.", "en": "Schedule #{id} deleted."},
    "schedule_gone": {"vi": "Lịch này không còn.", "en": "This schedule no longer exists."},
    # --- campaign messages and links -----------------------------------------------------------
    "campaign_footer": {
        "vi": "\n\n👉 Báo tin ẩn danh: {link}",
        "en": "\n\n👉 Report anonymously: {link}",
    },
    "campaign_usage": {
        "vi": (
            "📊 <b>Chiến dịch</b>\n"
            "<code>/campaign MÃ</code> cho liên kết báo tin của chiến dịch (mỗi loại tin một "
            "liên kết) và số liệu; <code>/campaign MÃ loại</code> cho một liên kết. MÃ gồm chữ "
            "thường không dấu và số, tối đa 24 ký tự, ví dụ <code>tet2025</code>. Chỉ đếm số "
            "lượt, không ghi ai đã mở.\n\n{items}"
        ),
        "en": (
            "📊 <b>Campaigns</b>\n"
            "<code>/campaign CODE</code> gives the campaign's report links (one per category) "
            "and counts; <code>/campaign CODE category</code> one link. CODE is lower-case "
            "letters and digits, at most 24, e.g. <code>tet2025</code>. Only counts are kept, "
            "never who opened a link.\n\n{items}"
        ),
    },
    "campaign_list_item": {
        "vi": "<code>{code}</code> — {starts} lượt mở, {tips} tin báo",
        "en": "<code>{code}</code> — {starts} opens, {tips} tips",
    },
    "campaign_list_empty": {
        "vi": "Chưa có chiến dịch nào được mở.",
        "en": "No campaign link has been opened yet.",
    },
    "campaign_bad_code": {
        "vi": "Mã chiến dịch chỉ gồm chữ thường không dấu và số, tối đa 24 ký tự, ví dụ tet2025.",
        "en": "A campaign code is lower-case letters and digits, at most 24, e.g. tet2025.",
    },
    "campaign_bad_category": {
        "vi": "Loại tin không đúng. Các loại: {codes}",
        "en": "Unknown category. Categories: {codes}",
    },
    "campaign_report": {
        "vi": (
            "📊 <b>Chiến dịch {code}</b>\nTổng: {starts} lượt mở, {tips} tin báo đã gửi\n\n{lines}"
        ),
        "en": "📊 <b>Campaign {code}</b>\nTotal: {starts} opens, {tips} tips sent\n\n{lines}",
    },
    "campaign_line": {
        "vi": "{category}: {starts} lượt mở, {tips} tin báo\n{link}",
        "en": "{category}: {starts} opens, {tips} tips\n{link}",
    },
}
