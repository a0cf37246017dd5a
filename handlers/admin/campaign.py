"""`/campaign` (admins): a campaign's report links and how often they were used.

`/campaign` lists the campaigns seen so far; `/campaign CODE` gives the link of each category,
`https://t.me/<bot>?start=c-CODE-<category>`, with its opens and submitted tips;
`/campaign CODE CATEGORY` just that one. Counts only (storage/campaigns.py: a tip does not record
its campaign), and counts under 5 are shown as "fewer than 5".
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.shared.context import language_of, private_user, role_of, services_of
from texts.catalog import CATEGORIES, Html, plain, text
from views.counts import coarse
from workers.scheduler import CAMPAIGN_CODE, campaign_link


async def campaign_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = private_user(update)
    message = update.effective_message
    if user is None or message is None:
        return
    language = await language_of(context, user)
    if not (await role_of(context, user.id)).is_admin:
        await message.reply_text(text(language, "not_allowed"))
        return
    services = services_of(context)
    args = [a.lower() for a in (context.args or [])]
    if not args:
        summary = await services.store.campaigns.summary()
        lines = [
            text(language, "campaign_list_item", code=c.campaign,
                 starts=coarse(c.starts, language), tips=coarse(c.tips, language))
            for c in summary
        ]
        listing = Html("\n".join(lines)) if lines else text(language, "campaign_list_empty")
        await message.reply_text(text(language, "campaign_usage", items=listing))
        return
    code = args[0]
    if not CAMPAIGN_CODE.match(code):
        await message.reply_text(text(language, "campaign_bad_code"))
        return
    categories: tuple[str, ...] = CATEGORIES
    if len(args) > 1:
        if args[1] not in CATEGORIES:
            await message.reply_text(
                text(language, "campaign_bad_category", codes=", ".join(CATEGORIES))
            )
            return
        categories = (args[1],)
    counts = {c.category: c for c in await services.store.campaigns.counts(code)}
    lines = []
    for category in categories:
        count = counts.get(category)
        lines.append(
            text(
                language,
                "campaign_line",
                category=plain(language, f"cat_{category}"),
                starts=coarse(count.starts if count else 0, language),
                tips=coarse(count.tips if count else 0, language),
                link=campaign_link(services.bot_username, code, category),
            )
        )
    total_starts = coarse(sum(c.starts for c in counts.values()), language)
    total_tips = coarse(sum(c.tips for c in counts.values()), language)
    await message.reply_text(
        text(
            language,
            "campaign_report",
            code=code,
            starts=total_starts,
            tips=total_tips,
            lines=Html("\n\n".join(lines)),
        )
    )
