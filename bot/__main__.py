"""Command line of the helpdesk: `python -m bot {run,shell,settings}`."""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Social security card helpdesk")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start every process on loopback; Ctrl-C stops them")
    commands.add_parser("shell", help="talk to the assistant in this terminal")
    commands.add_parser("settings", help="print the settings table (Markdown)")
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
    return 2


if __name__ == "__main__":
    sys.exit(main())
