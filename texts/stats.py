"""Catalog texts of the reviews: `/stats`, `/export`, the chart, the spreadsheet and the monthly
review (SPEC "Admin").

Merged into `texts.catalog.MESSAGES`; same rules: Vietnamese first, HTML templates, values
escaped by `texts.catalog.text`. Texts used only by `plain()` (buttons, chart and spreadsheet
labels) carry no markup.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    # --- menus -------------------------------------------------------------------------------
    "cmd_stats": {"vi": "Thống kê tin báo, biểu đồ", "en": "Tip statistics and chart"},
    "cmd_export": {"vi": "Xuất bảng tính tin báo (.xlsx)", "en": "Export tips to a spreadsheet"},
    # --- periods -----------------------------------------------------------------------------
    "period_w": {"vi": "Tuần này", "en": "This week"},
    "period_m": {"vi": "Tháng này", "en": "This month"},
    "period_q": {"vi": "Quý này", "en": "This quarter"},
    "period_y": {"vi": "Năm nay", "en": "This year"},
    "period_12": {"vi": "12 tháng gần nhất", "en": "The last 12 months"},
    "period_d": {"vi": "Khoảng ngày đã chọn", "en": "Chosen dates"},
    "period_month": {"vi": "Tháng {month}", "en": "Month {month}"},
    "btn_period_dates": {
        "vi": "📅 Gõ hai ngày (dd/mm/yyyy)",
        "en": "📅 Type two dates (dd/mm/yyyy)",
    },
    "stats_choose": {
        "vi": "📊 <b>Thống kê tin báo</b> — chọn khoảng thời gian:",
        "en": "📊 <b>Tip statistics</b> — choose a period:",
    },
    "export_choose": {
        "vi": "📤 <b>Xuất bảng tính tin báo</b> — chọn khoảng thời gian:",
        "en": "📤 <b>Export tips to a spreadsheet</b> — choose a period:",
    },
    "stats_ask_dates": {
        "vi": (
            "📅 Gõ ngày đầu và ngày cuối theo dạng <code>dd/mm/yyyy</code>, ví dụ:\n"
            "<code>01/06/2025 30/06/2025</code>\n(cả hai ngày đều được tính; /cancel để hủy)"
        ),
        "en": (
            "📅 Type the first and the last day as <code>dd/mm/yyyy</code>, for example:\n"
            "<code>01/06/2025 30/06/2025</code>\n(both days are included; /cancel to stop)"
        ),
    },
    "stats_bad_dates": {
        "vi": (
            "Chưa đọc được hai ngày. Hãy gõ theo dạng <code>dd/mm/yyyy dd/mm/yyyy</code>, "
            "ví dụ <code>01/06/2025 30/06/2025</code>, hoặc /cancel để hủy."
        ),
        "en": (
            "Those are not two dates. Please type <code>dd/mm/yyyy dd/mm/yyyy</code>, for "
            "example <code>01/06/2025 30/06/2025</code>, or /cancel."
        ),
    },
    "stats_dates_too_long": {
        "vi": "Khoảng thời gian dài nhất là 10 năm. Hãy gõ hai ngày gần nhau hơn, hoặc /cancel.",
        "en": "A period is at most 10 years long. Please type two closer dates, or /cancel.",
    },
    "stats_cancelled": {"vi": "Đã hủy.", "en": "Cancelled."},
    # --- the answer --------------------------------------------------------------------------
    "stats_report": {
        "vi": (
            "📊 <b>Thống kê tin báo — {period}</b>\n"
            "{first} – {last} · {scope}\n\n"
            "Tổng số tin báo nhận được: <b>{total}</b>\n\n"
            "<b>Theo loại</b>\n{categories}\n\n"
            "<b>Theo địa bàn</b>\n{areas}\n\n"
            "<b>Theo tình trạng hiện nay</b>\n{statuses}\n\n"
            "⏱ Trung vị thời gian đến khi cán bộ nhận: <b>{ack}</b> ({acknowledged} tin)\n"
            "⏱ Trung vị thời gian đến khi đóng: <b>{close}</b> ({closed} tin)\n"
            "{campaigns}"
            "🔔 Người đăng ký nhận tin tuyên truyền: <b>{subscribers}</b> "
            "(mới trong kỳ: {new_subscribers})"
        ),
        "en": (
            "📊 <b>Tip statistics — {period}</b>\n"
            "{first} – {last} · {scope}\n\n"
            "Tips received: <b>{total}</b>\n\n"
            "<b>By kind</b>\n{categories}\n\n"
            "<b>By area</b>\n{areas}\n\n"
            "<b>By status now</b>\n{statuses}\n\n"
            "⏱ Median time to acknowledge: <b>{ack}</b> ({acknowledged} tips)\n"
            "⏱ Median time to close: <b>{close}</b> ({closed} tips)\n"
            "{campaigns}"
            "🔔 Campaign news subscribers: <b>{subscribers}</b> "
            "(new in the period: {new_subscribers})"
        ),
    },
    "stats_line": {"vi": "• {name}: <b>{count}</b>", "en": "• {name}: <b>{count}</b>"},
    "stats_more_areas": {
        "vi": "• {count} địa bàn khác: <b>{tips}</b>",
        "en": "• {count} other areas: <b>{tips}</b>",
    },
    "stats_nothing": {"vi": "• không có", "en": "• none"},
    "stats_hours": {"vi": "{hours} giờ", "en": "{hours} h"},
    "stats_no_median": {"vi": "chưa có", "en": "none yet"},
    "stats_scope_all": {"vi": "toàn bộ địa bàn", "en": "every area"},
    "stats_scope_areas": {"vi": "địa bàn: {areas}", "en": "areas: {areas}"},
    "stats_campaigns": {
        "vi": (
            "📣 Liên kết chiến dịch (từ trước đến nay): <b>{starts}</b> lượt mở, "
            "<b>{tips}</b> tin báo{top}\n"
        ),
        "en": (
            "📣 Campaign links (since they began): <b>{starts}</b> openings, "
            "<b>{tips}</b> tips{top}\n"
        ),
    },
    "stats_campaign_line": {
        "vi": "\n   · <code>{code}</code>: {starts} lượt mở, {tips} tin",
        "en": "\n   · <code>{code}</code>: {starts} openings, {tips} tips",
    },
    "stats_chart_caption": {
        "vi": "📊 {period}: {first} – {last}",
        "en": "📊 {period}: {first} – {last}",
    },
    "stats_chart_weeks": {"vi": "Tin báo theo tuần, theo loại", "en": "Tips per week, by kind"},
    "stats_chart_months": {
        "vi": "Tin báo theo tháng, theo loại",
        "en": "Tips per month, by kind",
    },
    "stats_chart_areas": {"vi": "Tin báo theo địa bàn", "en": "Tips by area"},
    "stats_chart_tips": {"vi": "Số tin báo", "en": "Tips"},
    "stats_chart_empty": {
        "vi": "Không có tin báo nào trong kỳ này",
        "en": "No tips in this period",
    },
    # --- the monthly review ------------------------------------------------------------------
    "review_intro": {
        "vi": (
            "🗓 <b>Sơ kết tháng {month}</b>\n"
            "Gửi tự động cho quản trị viên ngày 1 hằng tháng lúc 08:00 ({zone}).\n\n"
        ),
        "en": (
            "🗓 <b>Monthly review, {month}</b>\n"
            "Sent to the admins on the 1st of each month at 08:00 ({zone}).\n\n"
        ),
    },
    # --- the export --------------------------------------------------------------------------
    "export_content_ask": {
        "vi": (
            "📤 {period}: {first} – {last}.\n\n"
            "Xuất kèm nội dung tin báo và trao đổi? Bảng tính kèm nội dung chứa lời người "
            "dân viết: chỉ chọn khi thật cần, và việc xuất được ghi vào nhật ký."
        ),
        "en": (
            "📤 {period}: {first} – {last}.\n\n"
            "Include the tips' text and threads? A spreadsheet with content holds what residents "
            "wrote: choose it only when needed; the export is written to the audit log."
        ),
    },
    "btn_export_plain": {"vi": "📄 Không kèm nội dung", "en": "📄 Without content"},
    "btn_export_content": {
        "vi": "🔓 Kèm nội dung (ghi nhật ký)",
        "en": "🔓 With content (audited)",
    },
    "export_preparing": {"vi": "⏳ Đang tạo bảng tính…", "en": "⏳ Building the spreadsheet…"},
    "export_caption": {
        "vi": "📤 {period}: {first} – {last} — {count} tin báo, {content}.",
        "en": "📤 {period}: {first} – {last} — {count} tips, {content}.",
    },
    "export_with_content": {
        "vi": "kèm nội dung và trao đổi (đã ghi vào nhật ký)",
        "en": "with their text and threads (written to the audit log)",
    },
    "export_without_content": {"vi": "không kèm nội dung", "en": "without content"},
    "export_too_big": {
        "vi": (
            "Bảng tính lớn hơn 50 MB, Telegram không gửi được. Hãy chọn khoảng thời gian "
            "ngắn hơn, hoặc không kèm nội dung."
        ),
        "en": (
            "The spreadsheet is over 50 MB, more than Telegram sends. Please choose a shorter "
            "period, or no content."
        ),
    },
    # --- the spreadsheet (plain text: cells have no formatting) -------------------------------
    "xlsx_sheet_tips": {"vi": "Tin báo", "en": "Tips"},
    "xlsx_sheet_summary": {"vi": "Tổng hợp", "en": "Summary"},
    "xlsx_ref": {"vi": "Mã tin", "en": "Reference"},
    "xlsx_created": {"vi": "Nhận lúc", "en": "Received"},
    "xlsx_acknowledged": {"vi": "Cán bộ nhận lúc", "en": "Acknowledged"},
    "xlsx_closed": {"vi": "Đóng lúc", "en": "Closed"},
    "xlsx_category": {"vi": "Loại", "en": "Kind"},
    "xlsx_area": {"vi": "Địa bàn", "en": "Area"},
    "xlsx_status": {"vi": "Tình trạng", "en": "Status"},
    "xlsx_officers": {"vi": "Cán bộ", "en": "Officers"},
    "xlsx_ack_hours": {"vi": "Số giờ đến khi nhận", "en": "Hours to acknowledge"},
    "xlsx_close_hours": {"vi": "Số giờ đến khi đóng", "en": "Hours to close"},
    "xlsx_place": {"vi": "Nơi cụ thể", "en": "Exact place"},
    "xlsx_text": {"vi": "Nội dung", "en": "Text"},
    "xlsx_thread": {"vi": "Trao đổi", "en": "Thread"},
    "xlsx_resident": {"vi": "Người báo", "en": "Reporter"},
    "xlsx_files": {"vi": "(+{count} tệp)", "en": "(+{count} files)"},
    "xlsx_summary_title": {"vi": "Thống kê tin báo", "en": "Tip statistics"},
    "xlsx_summary_period": {"vi": "Kỳ", "en": "Period"},
    "xlsx_summary_from": {"vi": "Từ ngày", "en": "From"},
    "xlsx_summary_to": {"vi": "Đến ngày", "en": "To"},
    "xlsx_summary_scope": {"vi": "Phạm vi", "en": "Scope"},
    "xlsx_summary_total": {"vi": "Tổng số tin báo", "en": "Tips received"},
    "xlsx_summary_by_category": {"vi": "Theo loại", "en": "By kind"},
    "xlsx_summary_by_area": {"vi": "Theo địa bàn", "en": "By area"},
    "xlsx_summary_by_status": {"vi": "Theo tình trạng hiện nay", "en": "By status now"},
    "xlsx_summary_ack": {
        "vi": "Trung vị số giờ đến khi nhận",
        "en": "Median hours to acknowledge",
    },
    "xlsx_summary_acknowledged": {"vi": "Số tin đã được nhận", "en": "Tips acknowledged"},
    "xlsx_summary_close": {"vi": "Trung vị số giờ đến khi đóng", "en": "Median hours to close"},
    "xlsx_summary_closed": {"vi": "Số tin đã đóng", "en": "Tips closed"},
    "xlsx_summary_campaign_starts": {
        "vi": "Lượt mở liên kết chiến dịch (từ trước đến nay)",
        "en": "Campaign link openings (since they began)",
    },
    "xlsx_summary_campaign_tips": {
        "vi": "Tin báo từ liên kết chiến dịch (từ trước đến nay)",
        "en": "Tips from campaign links (since they began)",
    },
    "xlsx_summary_subscribers": {"vi": "Người đăng ký nhận tin", "en": "Subscribers"},
    "xlsx_summary_new_subscribers": {
        "vi": "Người đăng ký mới trong kỳ",
        "en": "New subscribers in the period",
    },
    "xlsx_summary_content": {"vi": "Kèm nội dung", "en": "With content"},
    "xlsx_yes": {"vi": "có", "en": "yes"},
    "xlsx_no": {"vi": "không", "en": "no"},
    "xlsx_summary_made": {"vi": "Tạo lúc", "en": "Made at"},
    "xlsx_summary_times": {
        "vi": "Giờ theo múi giờ {zone}",
        "en": "Times in the {zone} time zone",
    },
}
