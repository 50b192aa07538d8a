"""`python -m bot.backend [serve|seed|outbox|migrate]` (no command: serve).

serve    apply migrations, then serve on HELPDESK_HOST:BACKEND_PORT
         (--seed-if-empty: load the demo data into an empty database first)
seed     load the demo data into an empty database (--force: wipe and reload)
outbox   print the latest SMS messages of the development gateway (development mode only)
migrate  apply the Alembic migrations and exit
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.core import process_logging
from bot.core.settings import resolved


def _database(cfg):
    from bot.backend.db import open_database

    return open_database(cfg.db_url)


def _seed(db, cfg, force: bool) -> bool:
    from bot.backend.seed import seed

    with db.write() as session:
        done = seed(session, cfg.id_hash_key, force=force)
        session.commit()
    return done


def serve(args) -> int:
    from sqlalchemy.engine import make_url

    from bot.backend.api import create_app
    from bot.backend.config import SERVICE_TOKEN_FILE, ConfigError, load_config

    log = logging.getLogger("bot.backend")
    token_was_empty = not resolved()["BACKEND_SERVICE_TOKEN"]
    cfg = load_config(create_service_token=True)
    if token_was_empty:
        print(f"backend: BACKEND_SERVICE_TOKEN was empty; generated one for this run in {SERVICE_TOKEN_FILE}",
              file=sys.stderr, flush=True)
    if args.seed_if_empty and not cfg.development:
        raise ConfigError("--seed-if-empty loads demo data: development mode only")
    db = _database(cfg)
    if args.seed_if_empty and _seed(db, cfg, force=False):
        log.info("loaded the demo data into an empty database")
    app = create_app(cfg, db)
    log.info("card backend (%s mode) on http://%s:%s, database %s", cfg.mode, cfg.host, cfg.port,
             make_url(cfg.db_url).render_as_string(hide_password=True))
    app.run(host=cfg.host, port=cfg.port, access_log=False, motd=False, workers=1)
    return 0


def seed_command(args) -> int:
    from bot.backend.config import load_config

    cfg = load_config()
    if not cfg.development:
        print("the demo data is for development mode only (BACKEND_MODE=development)", file=sys.stderr)
        return 2
    db = _database(cfg)
    if _seed(db, cfg, force=args.force):
        print("demo data loaded (see bot/backend/seed.py for the identities)")
    else:
        print("the database already has holders: nothing seeded (--force wipes and reloads)")
    return 0


def outbox_command(args) -> int:
    from bot.backend.config import load_config
    from bot.backend.service import iso
    from bot.backend.sms import latest_messages

    cfg = load_config()
    if not cfg.development:
        print("the SMS outbox is only readable in development mode (BACKEND_MODE=development)", file=sys.stderr)
        return 2
    db = _database(cfg)
    with db.read() as session:
        messages = latest_messages(session, args.limit)
        if not messages:
            print("(no messages)")
        for message in messages:
            print(f"{iso(message.created_at)}  {message.phone_masked}  {message.text}")
    return 0


def migrate_command(args) -> int:
    from bot.backend.config import load_config

    _database(load_config())
    print("database schema is up to date")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.backend", description="Card-status backend")
    commands = parser.add_subparsers(dest="command")
    serve_parser = commands.add_parser("serve", help="serve on HELPDESK_HOST:BACKEND_PORT (the default)")
    serve_parser.add_argument("--seed-if-empty", action="store_true", help="load the demo data into an empty database")
    seed_parser = commands.add_parser("seed", help="load the demo data into an empty database")
    seed_parser.add_argument("--force", action="store_true", help="wipe the data (not the audit log) and reload")
    outbox_parser = commands.add_parser("outbox", help="print the latest SMS messages (development only)")
    outbox_parser.add_argument("--limit", type=int, default=10)
    commands.add_parser("migrate", help="apply the database migrations")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in commands.choices and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]  # no command: serve (its options may follow)
    args = parser.parse_args(argv)

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    process_logging.setup("alembic.runtime.plugins")
    from bot.backend.config import ConfigError

    try:
        handler = {"serve": serve, "seed": seed_command, "outbox": outbox_command, "migrate": migrate_command}
        return handler[args.command](args)
    except ConfigError as error:
        print(f"backend: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
