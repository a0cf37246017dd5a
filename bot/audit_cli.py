"""`python -m bot audit verify`: walk the audit log's chain and name the first broken link.

Exit status 0 when the chain holds, 1 when a row was edited, deleted or inserted. Needs
TIPBOT_KEY (the chain is keyed) and TIPBOT_DB, not the token; a database that does not exist is
a usage error (exit 2), never created.
"""

from __future__ import annotations

import logging
import sys

from bot.config import Config
from storage.store import open_store

EXIT_USAGE = 2


async def verify(config: Config) -> int:
    if not config.database_exists():
        print(
            f"tipline: no database at {config.database_name} (TIPBOT_DB): no audit log to verify",
            file=sys.stderr,
        )
        return EXIT_USAGE
    store = await open_store(
        config.database, config.master_key, migration_log_level=logging.WARNING
    )
    try:
        report = await store.audit.verify()
    finally:
        await store.close()
    if report.first_broken is None:
        # The newest entry's time tells how far back a restored copy goes (docs/OPERATIONS.md,
        # "After a restore"): everything done after it is undone.
        newest = f", the newest at {report.newest_at}" if report.newest_at else ""
        print(f"audit log intact: {report.rows} entries{newest}")
        return 0
    print(
        f"audit log BROKEN at entry {report.first_broken} (of {report.rows}): that entry or one"
        " before it was edited, deleted or inserted",
        file=sys.stderr,
    )
    return 1
