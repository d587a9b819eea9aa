"""The `xivo-certs` command line. Exit 0 ok, 1 problem found or refused, 2 usage error. The only
module that prints: the commands return what they have to say (context.Notes)."""

import argparse
import sys

from . import sync
from .context import Context, Notes, process_owner
from .errors import Problem
from .paths import Paths
from .settings import KEY_TYPES

REASONS = ("install", "upgrade", "reconfigure")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other refusal
        print(f"xivo-certs: usage error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(2)


def parser():
    common = Parser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, metavar="DIR",
                        help="resolve every path under DIR (default /)")
    main = Parser(prog="xivo-certs", parents=[common],
                  description="Manage the HTTPS certificate of a XiVO PBX.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, text):
        return commands.add_parser(name, parents=[common], help=text, description=text)

    command("status", "show the certificate and its problems").add_argument("--json", action="store_true")
    ensure = command("ensure", "generate or repair the default certificate (postinst)")
    ensure.add_argument("--hostname")
    ensure.add_argument("--key-type", choices=KEY_TYPES)
    ensure.add_argument("--reason", choices=REASONS, default="install")
    ensure.add_argument("--hooks-nonfatal", action="store_true",
                        help="report failing hooks as warnings, exit 0")
    generate = command("generate", "make a new default self-signed pair")
    generate.add_argument("--hostname")
    generate.add_argument("--san", action="append", metavar="NAME")
    generate.add_argument("--key-type", choices=KEY_TYPES)
    generate.add_argument("--days", type=days, metavar="N")
    generate.add_argument("--force", action="store_true", help="replace an admin's certificate")
    install = command("install", "put an admin's certificate and key in place")
    install.add_argument("--cert", required=True, metavar="FILE")
    install.add_argument("--key", required=True, metavar="FILE")
    install.add_argument("--chain", metavar="FILE")
    command("revert", "go back to a default self-signed certificate")
    command("renew", "renew the default certificate if it expires soon")
    command("sync", "notice changes made by hand and run the hooks").add_argument(
        "--quiet", action="store_true")
    command("override", "write or remove the hostname override").add_argument("--adopt", action="store_true")
    return main


def days(text):
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 3650, not {text!r}")
    return int(text)


def main(argv=None, owner=None):
    """Run the command line `argv`; its exit status. `owner`: see context.Owner (tests)."""
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    paths = Paths(getattr(args, "root", "/"))
    ctx = Context(paths, owner or process_owner(paths))
    notes = Notes()
    try:
        return run(ctx, args, notes)
    except Problem as problem:
        notes.warn(str(problem))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        notes.warn(f"{where}{error.strerror or error}")
    finally:
        show(notes)
    return 1


def show(notes):
    """Print what the command had to say, and forget it."""
    for line in notes.out:
        print(line)
    for line in notes.err:
        print(line, file=sys.stderr)
    sys.stdout.flush()
    notes.out.clear()
    notes.err.clear()


def run(ctx, args, notes):
    if args.command == "sync":
        settled = sync.sync(ctx)
        if settled is None:
            return 0
    # lazy: cryptography and yaml stay off the no-op sync path
    from . import actions, settle, status
    if args.command == "status":
        text, problems = status.show(ctx, args.json)
        print(text)
        return 1 if problems else 0
    if args.command == "override":
        problems = actions.override(ctx, notes, args.adopt)
        for problem in problems:
            notes.warn(problem)
        return 1 if problems else 0
    if args.command == "ensure":
        settled = actions.ensure(ctx, notes, args.hostname, args.key_type, args.reason)
    elif args.command == "generate":
        settled = actions.generate(ctx, notes, args.hostname, args.san, args.key_type, args.days,
                                   args.force)
    elif args.command == "install":
        settled = actions.install(ctx, notes, args.cert, args.key, args.chain)
    elif args.command == "revert":
        settled = actions.revert(ctx, notes)
    elif args.command == "renew":
        settled = actions.renew(ctx, notes)
    show(notes)  # before the hooks, which write to stderr too
    nonfatal = args.command == "ensure" and args.hooks_nonfatal
    quiet = args.command == "sync" and args.quiet
    return settle.run_hooks(ctx, settled, notes, nonfatal, quiet)
