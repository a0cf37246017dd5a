"""The command line: `python -m bot [run | keygen | officers | audit | rotate-key | backup |
restore-check | purge | migrate-db | sandbox]`.

Exit status 2 means "the settings or the arguments are wrong": every problem is printed as one
line naming the variable or argument, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from bot import audit_cli, core_dumps, data_cli, officers_cli
from bot.config import Config, ConfigError, load_config, read_environment, read_secret
from bot.logs import configure_logging
from rules.areas import AreasFileError, load_areas
from storage.database import DatabaseError
from storage.keyring import WrongMasterKeyError, generate_master_key

log = logging.getLogger("bot")

EXIT_USAGE = 2
#: Where `migrate-db` reads the PostgreSQL URL when neither --to nor --to-file is given (or
#: from the file `TIPBOT_MIGRATE_TO_FILE` names): not on the command line, where any user of
#: the machine sees it (/proc/<pid>/cmdline) and the shell's history keeps it.
MIGRATE_TO = "TIPBOT_MIGRATE_TO"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Tipline: an anonymous crime tip-off line on Telegram.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot (long polling, or a webhook with TIPBOT_WEBHOOK_URL); the default"
    )
    commands.add_parser("keygen", help="print a new master key for TIPBOT_KEY")

    officers = commands.add_parser("officers", help="register and list officers")
    officer_commands = officers.add_subparsers(dest="officers_command", metavar="ACTION")
    officer_commands.required = True
    add = officer_commands.add_parser(
        "add", help="add an officer (again: replaces their areas)"
    )
    add.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    scope = add.add_mutually_exclusive_group(required=True)
    scope.add_argument("--area", action="append", metavar="CODE", help="an area code (repeat)")
    scope.add_argument("--all-areas", action="store_true", help="covers every area")
    add.add_argument("--name", help="display name shown to other officers (never to residents)")
    officer_commands.add_parser("list", help="list officers, their areas and state")
    for action, helptext in (
        ("deactivate", "take every right from a staff member, a permanent admin too (a lost"
                       " phone)"),
        ("reactivate", "give a deactivated staff member their rights back"),
    ):
        state = officer_commands.add_parser(action, help=helptext)
        state.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")

    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    audit_commands.required = True
    audit_commands.add_parser("verify", help="check the audit log's hash chain")

    rotate = commands.add_parser(
        "rotate-key", help="re-wrap the data keys from TIPBOT_KEY_OLD to TIPBOT_KEY"
    )
    rotate.add_argument(
        "--content", action="store_true", help="also replace the content key (re-encrypts all)"
    )
    backup = commands.add_parser("backup", help="a consistent copy of the database")
    backup.add_argument("path", metavar="PATH", help="where to write it (must not exist)")
    check = commands.add_parser(
        "restore-check", help="before a restore: how old a backup is and what restoring it undoes"
    )
    check.add_argument("path", metavar="PATH", help="the backup to restore (read, not changed)")
    purge = commands.add_parser("purge", help="delete the closed tips past the retention")
    purge.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    migrate = commands.add_parser(
        "migrate-db",
        help="copy the SQLite line (TIPBOT_DB) into an empty PostgreSQL database, whose URL is"
             f" in {MIGRATE_TO} (or a file: --to-file PATH, {MIGRATE_TO}_FILE)",
    )
    target = migrate.add_mutually_exclusive_group()
    target.add_argument(
        "--to-file", metavar="PATH",
        help="a file holding the postgresql://user:password@host:port/db URL of the empty"
             f" database (or set {MIGRATE_TO} or {MIGRATE_TO}_FILE)",
    )
    target.add_argument(
        "--to", metavar="URL",
        help="the URL itself; a password in it shows in the process list and the shell's"
             f" history: prefer {MIGRATE_TO} or --to-file",
    )

    sandbox = commands.add_parser(
        "sandbox", help="try the whole line offline in a browser (no token, no real data)"
    )
    sandbox.add_argument("--port", type=int, default=8080, help="page port (default 8080)")
    sandbox.add_argument(
        "--data", metavar="DIR", help="keep the database and key in DIR (default: temporary)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    # Before any key is read: no core dump of the key or of what it opens (bot/core_dumps.py).
    core_dumps.forbid()
    if command == "keygen":
        print(generate_master_key())
        return 0
    if command == "sandbox":  # sets the bot's token, key, database and API URLs itself
        from sandbox.runner import run_sandbox

        return run_sandbox(args.port, args.data)
    environ = read_environment()
    try:
        config = load_config(environ, need_token=command == "run")
    except ConfigError as error:
        return _report_problems(error.problems)
    secrets = [config.token] + ([config.webhook.secret] if config.webhook else [])
    configure_logging(config.log_level, secrets=secrets)
    try:
        if command == "run":
            return _run(config)
        if command == "officers":
            return asyncio.run(officers_cli.run(config, args))
        if command == "audit":
            return asyncio.run(audit_cli.verify(config))
        if command == "migrate-db":
            problems: list[str] = []
            url = migrate_target(args, environ, problems)
            if problems:
                return _report_problems(problems)
            return asyncio.run(data_cli.migrate_db(config, url))
        if command in ("rotate-key", "backup", "restore-check", "purge"):
            if command == "rotate-key":
                return asyncio.run(data_cli.rotate_key(config, content=args.content))
            if command == "backup":
                return asyncio.run(data_cli.backup_to(config, args.path))
            if command == "restore-check":
                return asyncio.run(data_cli.restore_check(config, args.path))
            return asyncio.run(data_cli.purge(config, dry_run=args.dry_run))
    except WrongMasterKeyError as error:
        return _report_problems([f"TIPBOT_KEY: {error}"])
    except AreasFileError as error:
        return _report_problems([f"TIPBOT_AREAS_FILE: {error}"])
    except DatabaseError as error:
        return _report_problems([f"TIPBOT_DB: {error}"])
    return EXIT_USAGE


def migrate_target(
    args: argparse.Namespace, environ: Mapping[str, str], problems: list[str]
) -> str:
    """The URL `migrate-db` copies to: `--to`, else the file `--to-file` names, else
    TIPBOT_MIGRATE_TO (or TIPBOT_MIGRATE_TO_FILE). A password given with `--to` is warned about
    on standard error, never echoed."""
    if args.to is not None:
        if _has_password(args.to):
            print("migrate-db: warning: the --to URL holds a password, which other users of this"
                  " machine can see in the process list and the shell's history keeps; set"
                  f" {MIGRATE_TO} or use --to-file PATH instead (and change the password if"
                  " others share this machine)", file=sys.stderr)
        return str(args.to)
    if args.to_file is not None:
        try:
            return Path(args.to_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else (
                "unreadable")
            problems.append(f"--to-file: cannot read {args.to_file}: {reason}")
            return ""
    url = read_secret(environ, MIGRATE_TO, problems)
    if not url and not problems:
        problems.append(f"migrate-db: {MIGRATE_TO}: unset; set it (or {MIGRATE_TO}_FILE, or"
                        " --to-file PATH) to the postgresql://user:password@host:port/db URL of"
                        " the empty database")
    return url


def _has_password(url: str) -> bool:
    """Whether a URL carries a password (`user:password@` or a `password=` parameter)."""
    try:
        parts = urlsplit(url)
        if parts.password:
            return True
    except ValueError:  # not a URL urllib can read: warn when it could hold one
        return "@" in url
    return any(key.lower() == "password" and value
               for key, value in parse_qsl(parts.query, keep_blank_values=True))


def _report_problems(problems: list[str]) -> int:
    """One problem: one line. Several: a heading, then one line each."""
    if len(problems) == 1:
        print(f"tipline: cannot start: {problems[0]}", file=sys.stderr)
        return EXIT_USAGE
    print("tipline: cannot start:", file=sys.stderr)
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    return EXIT_USAGE


def _run(config: Config) -> int:
    """Run until SIGINT/SIGTERM, waiting out Telegram while it cannot be reached (bot/polling);
    in webhook mode with TIPBOT_WEBHOOK_URL (bot/webhook)."""
    from telegram.error import InvalidToken

    from bot.app import build_application
    from bot.polling import run_bot
    from bot.webhook import ListenError, WebhookRefused, run_webhook

    load_areas(config.areas_file)  # fail before connecting if the areas file is wrong
    problems = asyncio.run(data_cli.startup_problems(config))  # values under a key it cannot unwrap
    if problems:
        return _report_problems(problems)
    try:
        if config.webhook is not None:
            return run_webhook(build_application(config), config.webhook)
        return run_bot(build_application(config))
    except InvalidToken as error:
        return _report_problems([f"TIPBOT_TOKEN: Telegram rejected this token ({error})"])
    except ListenError as error:
        return _report_problems([f"TIPBOT_WEBHOOK_LISTEN: {error}"])
    except WebhookRefused as error:
        return _report_problems([f"TIPBOT_WEBHOOK_URL: Telegram refused the webhook ({error})"])
