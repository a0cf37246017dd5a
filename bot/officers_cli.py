"""`python -m bot officers add|list|deactivate|reactivate`: staffing from the command line.

Works before the bot ever ran (it creates and migrates the database), needs TIPBOT_KEY and
TIPBOT_DB but no token, is safe while the bot runs (SQLite's lock and one transaction per
change), and is idempotent: adding again replaces the officer's areas. `list` only reads: on a
database that does not exist it says so and exits 2 without creating it, as `deactivate` and
`reactivate` do (they change a staff row that must exist). Those two are the recovery when no
live admin is left to press the button in `/officers` (any account, a permanent admin's too);
the running bot sees the change at the next update, as with the button.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.config import Config
from rules.areas import load_areas
from storage.store import Store, open_store

EXIT_USAGE = 2


async def run(config: Config, args: argparse.Namespace) -> int:
    areas = load_areas(config.areas_file)
    if args.officers_command == "add":
        unknown = [code for code in args.area or [] if code not in areas]
        if unknown:
            print(
                f"tipline: unknown area code(s): {', '.join(unknown)}\n"
                f"valid codes: {', '.join(areas.codes)}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if args.name is not None and not args.name.strip():
            print("tipline: --name must not be empty", file=sys.stderr)
            return EXIT_USAGE
    elif not config.database_exists():
        print(
            f"tipline: no database at {config.database_name} (TIPBOT_DB): no officers to"
            f" {args.officers_command}; `officers add` creates it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    store = await open_store(
        config.database, config.master_key, migration_log_level=logging.WARNING
    )
    try:
        if args.officers_command == "add":
            await store.staff.upsert_officer(
                args.telegram_id,
                areas=tuple(args.area or ()),
                all_areas=bool(args.all_areas),
                display_name=args.name.strip()[:64] if args.name else None,
            )
            member = await store.staff.get(args.telegram_id)
            assert member is not None
            # Actor 0: the command line (whoever runs it has the server and the master key).
            await store.audit.record(
                0, "staff", None, target=member.user_id, change="add (command line)",
                areas="all" if member.all_areas else ",".join(member.areas),
            )
            scope = "all areas" if member.all_areas else ", ".join(member.areas)
            print(f"officer {member.user_id} ({member.display_name}): {scope}; {member.reach}")
            if member.reach == "pending":
                print("  they must open the bot once (any message) before tips can reach them")
            return 0
        if args.officers_command in ("deactivate", "reactivate"):
            return await _set_active(store, args.telegram_id, args.officers_command)
        members = await store.staff.all()
        if not members:
            print("no officers or admins registered yet")
        for member in members:
            flags = (("officer", member.is_officer), ("admin", member.is_admin))
            roles = [role for role, on in flags if on]
            if member.user_id in config.admin_ids:
                roles.append("admin (permanent)")
            scope = "all areas" if member.all_areas else ", ".join(member.areas) or "-"
            state = member.reach if member.active else "deactivated"
            print(
                f"{member.user_id}\t{member.display_name}\t{'+'.join(roles) or '-'}\t"
                f"{scope}\t{state}"
            )
        return 0
    finally:
        await store.close()


async def _set_active(store: Store, user_id: int, action: str) -> int:
    member = await store.staff.get(user_id)
    if member is None:
        print(f"tipline: no staff member {user_id} (see `officers list`)", file=sys.stderr)
        return EXIT_USAGE
    active = action == "reactivate"
    if member.active == active:
        print(f"staff {user_id} ({member.display_name}): already {action}d; nothing changed")
        return 0
    # Deactivating ends their hand-overs and open invites, pauses their schedules and stops
    # their broadcasts still being sent, in the same transaction (storage.staff), as the button
    # does.
    ended = await store.staff.set_active(user_id, active)
    ends = {"invites_ended": ended.invites, "handovers_ended": ended.handovers,
            "schedules_paused": ended.schedules, "broadcasts_stopped": list(ended.broadcasts)}
    # Actor 0: the command line (whoever runs it has the server and the master key).
    await store.audit.record(0, "staff", None, target=user_id,
                             change=f"{action} (command line)",
                             **{k: v for k, v in ends.items() if v})
    print(f"staff {user_id} ({member.display_name}): {action}d")
    if not active:
        print(f"  {ended.invites} open invites and {ended.handovers} hand-overs ended,"
              f" {ended.schedules} schedules paused, {len(ended.broadcasts)} broadcasts"
              " stopped")
        for broadcast_id in ended.broadcasts:
            # The bot's broadcaster claims no further message of it (it reads the state before
            # each one); what was delivered before cannot be taken back.
            print(f"  broadcast {broadcast_id} stopped: its messages not yet sent are"
                  " cancelled; those already delivered stay with their recipients")
    return 0
