"""`/campaign` (admins): a campaign's report links and how often they were used.

`/campaign` lists the campaigns with a count of 5 or more; `/campaign CODE` gives the link of
each category, `https://t.me/<bot>?start=c-CODE-<category>`, with its opens and submitted tips;
`/campaign CODE CATEGORY` just that one. Counts only (storage/campaigns.py: a tip does not record
its campaign), shown by the rule of views/counts.py: counts under 5, 0 included, read "fewer than
5", a total only when every category it adds up has 5 or more, and the list names only the
campaigns with a count of 5 or more, by what is shown (so a fresh code opened by one person does
not appear).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.shared.context import language_of, private_user, role_of, services_of
from texts.catalog import CATEGORIES, Html, plain, text
from views.counts import SMALL_COUNT, coarse, coarse_total, shown_campaigns, total_text
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
        rows = await services.store.campaigns.listed_counts(SMALL_COUNT)
        lines = [
            text(language, "campaign_list_item", code=c.campaign,
                 starts=total_text(c.starts, language), tips=total_text(c.tips, language))
            for c in shown_campaigns(rows, CATEGORIES)
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
    # Every category is a part of the totals, those without a row at 0 (see views/counts.py).
    everything = list(dict.fromkeys([*CATEGORIES, *counts]))
    total_starts = coarse_total(
        [counts[c].starts if c in counts else 0 for c in everything], language
    )
    total_tips = coarse_total([counts[c].tips if c in counts else 0 for c in everything], language)
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
