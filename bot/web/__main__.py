"""`python -m bot.web [serve|add-staff]` (no command: serve).

serve      serve the widget and the staff lookup on HELPDESK_HOST:WEB_PORT
           (--staff-from-env: first create or reset the account STAFF_USER
           with STAFF_PASSWORD when both are set; `make run` does this)
add-staff  add a staff account, or reset its password (ending its sessions):
           the password from STAFF_PASSWORD, else asked for twice; --role
           agent|reviewer|admin (a new account: agent), --display-name
"""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from bot.core import process_logging
from bot.core.settings import resolved


def _set_account(db_url: str, username: str, password: str, role=None, display_name=None) -> bool:
    from bot.web.staff.accounts import set_account
    from bot.web.staff.store import open_store

    db = open_store(db_url)
    try:
        with db.write() as session:
            created = set_account(session, username, password, role, display_name)
            session.commit()
        return created
    finally:
        db.dispose()


def serve(args) -> int:
    from sqlalchemy.engine import make_url

    from bot.web.app import create_app
    from bot.web.config import load_config
    from bot.web.staff.store import open_store

    log = logging.getLogger("bot.web")
    cfg = load_config()
    env = resolved()
    if args.staff_from_env:
        if env["STAFF_USER"] and env["STAFF_PASSWORD"]:
            # The operator's own account: an admin (bot/web/staff/roles.py).
            created = _set_account(cfg.staff_db_url, env["STAFF_USER"], env["STAFF_PASSWORD"], role="admin")
            log.info("staff account %s (admin) %s", env["STAFF_USER"], "created" if created else "reset")
        elif env["STAFF_USER"] or env["STAFF_PASSWORD"]:
            log.warning("STAFF_USER and STAFF_PASSWORD must both be set to create a staff account")
    app = create_app(cfg, open_store(cfg.staff_db_url))
    log.info("web on http://%s:%s (Rasa at %s), staff database %s", cfg.host, cfg.port, cfg.rasa_url,
             make_url(cfg.staff_db_url).render_as_string(hide_password=True))
    app.run(host=cfg.host, port=cfg.port, access_log=False, motd=False, workers=1)
    return 0


def add_staff(args) -> int:
    from bot.web.config import load_config

    password = os.environ.get("STAFF_PASSWORD") or ""
    if not password:
        if not sys.stdin.isatty():
            print("no password: set STAFF_PASSWORD or run this in a terminal", file=sys.stderr)
            return 2
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ; nothing changed", file=sys.stderr)
            return 2
    created = _set_account(load_config().staff_db_url, args.username, password, args.role, args.display_name)
    print(f"staff account {args.username.strip().lower()} {'added' if created else 'reset (its sessions ended)'}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web", description="Chat widget and staff FAQ lookup")
    commands = parser.add_subparsers(dest="command")
    serve_parser = commands.add_parser("serve", help="serve on HELPDESK_HOST:WEB_PORT (the default)")
    serve_parser.add_argument("--staff-from-env", action="store_true",
                              help="create or reset the account STAFF_USER / STAFF_PASSWORD first")
    add_parser = commands.add_parser("add-staff", help="add a staff account or reset its password")
    add_parser.add_argument("username")
    add_parser.add_argument("--role", choices=("agent", "reviewer", "admin"),
                            help="what the account may use (a new account: agent)")
    add_parser.add_argument("--display-name", help="the name citizens are shown, masked (default: the username)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in commands.choices and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]
    args = parser.parse_args(argv)

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    process_logging.setup("httpx", "httpcore")  # their INFO/DEBUG lines carry URLs (with the Rasa token)
    from bot.web.config import ConfigError
    from bot.web.staff.accounts import AccountError

    try:
        return {"serve": serve, "add-staff": add_staff}[args.command](args)
    except (ConfigError, AccountError) as error:
        print(f"web: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
