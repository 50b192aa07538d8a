"""Command line of the helpdesk: `python -m bot {run,shell,settings,purge,reload}`."""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Social security card helpdesk")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start every process on loopback; Ctrl-C stops them")
    commands.add_parser("shell", help="talk to the assistant in this terminal")
    commands.add_parser("settings", help="print the settings table (Markdown)")
    commands.add_parser("purge", help="delete conversations, hand-over tickets, review items and ratings "
                                      "older than RETENTION_DAYS")
    commands.add_parser("reload", help="make every running Rasa server load the newest model, one at a time")
    args = parser.parse_args(argv)
    if args.command == "run":
        from bot.ops.launcher import run

        return run()
    if args.command == "shell":
        from bot.ops.launcher import shell

        return shell()
    if args.command == "settings":
        from bot.core.settings import markdown_table

        print(markdown_table())
        return 0
    if args.command == "purge":
        from bot.core import process_logging
        from bot.core.settings import resolved
        from bot.ops.retention import purge

        process_logging.setup("httpx", "httpcore")
        done = purge(resolved())
        print(f"deleted {done.conversations} conversations ({done.events} events) and "
              f"{'(backend unreachable: no)' if done.handoff_tickets is None else done.handoff_tickets} "
              "hand-over tickets; "
              f"{done.staff_store['review_items']} review items, {done.staff_store['ratings']} ratings and the "
              f"figures of {done.staff_store['sessions']} sessions")
        return 0 if done.handoff_tickets is not None else 1
    if args.command == "reload":
        from bot.core import process_logging
        from bot.core.settings import resolved
        from bot.ops.reload import main as reload

        process_logging.setup("httpx", "httpcore")
        return reload(resolved())
    return 2


if __name__ == "__main__":
    sys.exit(main())
