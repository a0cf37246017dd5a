"""The services a running bot shares: settings, storage and areas.

Opened once in `post_init`, closed in `post_shutdown`; handlers reach them through
`context.bot_data["services"]` (see `handlers.shared.context.services_of`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from rules.areas import Areas, load_areas
from storage.store import Store, open_store


@dataclass
class Services:
    config: Config
    store: Store
    areas: Areas
    bot_username: str

    async def close(self) -> None:
        await self.store.close()


async def open_services(config: Config, *, bot_username: str) -> Services:
    """Open the database (applying migrations and checking the master key) and load the areas."""
    areas = load_areas(config.areas_file)
    store = await open_store(config.database, config.master_key)
    return Services(config=config, store=store, areas=areas, bot_username=bot_username)
